package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// demo is the site `stampfs serve` shows without a DIR: index.html is a
// template rendered with the handler's FuncMap, static/ is served.
//
//go:embed demo/index.html demo/static
var demo embed.FS

// listening is called with the address once the server accepts connections.
// Tests replace it.
var listening = func(addr string) {}

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serve(ctx, args, stdout, stderr, hup, defaultLimits)
}

// serveConfig is what the flags of serve say.
type serveConfig struct {
	addr, dir string
	opts      stampfs.Options
	watch     bool
	accessLog accessLogFlag
}

// accessLogFlag is -access-log: off, common (the flag alone) or slog.
type accessLogFlag string

func (f *accessLogFlag) String() string   { return string(*f) }
func (f *accessLogFlag) IsBoolFlag() bool { return true }
func (f *accessLogFlag) Set(v string) error {
	switch v {
	case "true", "common":
		*f = "common"
	case "false", "off":
		*f = ""
	case "slog":
		*f = "slog"
	default:
		return fmt.Errorf("want common, slog or off")
	}
	return nil
}

const serveNotes = `Without DIR it serves a demo site that shows the stamped URLs and headers.

kill -HUP rescans DIR; -watch rescans it once files stop changing (a stat
of every file twice a second). Idle connections are closed after 60 s; a
client gets 10 s to send its headers, 30 s its body, and must read at
least 64 KiB a minute. Near the limit on open files, keep-alives are turned
off and idle connections closed, so that new clients are answered.`

func serveFlags(args []string, stdout, stderr io.Writer) (c *cli, cfg serveConfig, status int) {
	c = newCLI("serve", "stampfs serve [-q] [-addr 127.0.0.1:8080] [-prefix /static/] [-mode auto|symlink|virtual] [-strategy S] [-stale serve|notfound|redirect] [-watch] [-access-log[=common|slog]] [-base URL] [-current FILE] [DIR]",
		serveNotes, stdout, stderr)
	c.logs()
	fl := c.fl
	fl.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	prefix := fl.String("prefix", "/static/", "URL path the files are served under; starts and ends with /")
	mode := fl.String("mode", string(stampfs.ModeAuto), "auto, symlink or virtual: whether to make the stamp link DIR/<stamp> -> .")
	strategy := fl.String("strategy", string(stampfs.Content), strategyUsage)
	stale := fl.String("stale", string(stampfs.StaleServe), "answer for an unknown stamp: serve (no-cache), notfound (404) or redirect (302)")
	fl.BoolVar(&cfg.watch, "watch", false, "development: rescan DIR when its files change")
	fl.Var(&cfg.accessLog, "access-log", "log every request on stderr: in the common log format, or with =slog as log lines")
	base := fl.String("base", "", "origin put before every URL the pages render, such as a CDN's https://cdn.example.com")
	current := fl.String("current", "", "take the current stamp and files from this published manifest (current.json), read again on every rescan")
	pos, status := c.parse(args)
	if status >= 0 {
		return c, cfg, status
	}
	scan, err := parseStrategy(*strategy)
	if err != nil {
		return c, cfg, c.usageError("%v", err)
	}
	cfg.opts = stampfs.Options{Prefix: *prefix, Base: *base, Mode: stampfs.Mode(*mode), Stale: stampfs.StalePolicy(*stale), Scan: scan}
	if *current != "" {
		file := *current
		cfg.opts.Current = func() (*stampfs.Manifest, error) {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, err
			}
			return stampfs.ParseManifest(data)
		}
	}
	switch {
	case !strings.HasPrefix(*prefix, "/") || !strings.HasSuffix(*prefix, "/"):
		return c, cfg, c.usageError("-prefix %q: want a path that starts and ends with /", *prefix)
	case cfg.opts.Mode != stampfs.ModeAuto && cfg.opts.Mode != stampfs.ModeSymlink && cfg.opts.Mode != stampfs.ModeVirtual:
		return c, cfg, c.usageError("unknown mode %q: want auto, symlink or virtual", *mode)
	case cfg.opts.Stale != stampfs.StaleServe && cfg.opts.Stale != stampfs.StaleNotFound && cfg.opts.Stale != stampfs.StaleRedirect:
		return c, cfg, c.usageError("unknown stale policy %q: want serve, notfound or redirect", *stale)
	case len(pos) > 1:
		return c, cfg, c.usageError("want at most one DIR, got %d arguments", len(pos))
	case len(pos) == 0 && *current != "":
		return c, cfg, c.usageError("-current needs a DIR: the demo site is embedded")
	case len(pos) == 0 && cfg.opts.Mode == stampfs.ModeSymlink:
		return c, cfg, c.usageError("-mode symlink needs a DIR: the demo site is embedded and served virtually")
	}
	if len(pos) == 1 {
		cfg.dir = pos[0]
		c.dirs = pos
	}
	return c, cfg, -1
}

// serve runs the server until ctx is done, then shuts it down gracefully.
// Every value on hup rescans the directory.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, hup <-chan os.Signal, lim limits) int {
	c, cfg, status := serveFlags(args, stdout, stderr)
	if status >= 0 {
		return status
	}
	// The first scan, before the server starts, shows its progress; the
	// rescans of a running server only log.
	var started atomic.Bool
	if progress := c.progress(); progress != nil {
		cfg.opts.Scan.Progress = func(p stampfs.Progress) {
			if !started.Load() {
				progress(p)
			}
		}
	}
	logger := c.logger()
	cfg.opts.Logger = logger

	var (
		h     *stampfs.Handler
		index http.Handler
		names *servedNames
		err   error
	)
	if cfg.dir == "" {
		static, _ := fs.Sub(demo, "demo/static")
		if h, err = stampfs.NewFS(static, &cfg.opts); err == nil {
			names = newServedNames(h, afero.FromIOFS{FS: static}, ".")
			index, err = demoPage(h, cfg.opts)
		}
	} else {
		err = checkDir(cfg.dir)
		if err == nil {
			h, err = stampfs.New(afero.NewOsFs(), cfg.dir, &cfg.opts)
		}
		if err == nil {
			names = newServedNames(h, afero.NewOsFs(), cfg.dir)
			index = dirIndex(h, cfg.dir, cfg.opts, names)
		}
	}
	started.Store(true)
	if err != nil {
		code := c.fail(err)
		if errors.Is(err, stampfs.ErrSymlinkUnsupported) && !permissionDenied(err) {
			code = exitNoSymlinks
		}
		return code
	}

	rt := &router{prefix: cfg.opts.Prefix, static: h}
	if cfg.opts.Prefix != "/" {
		rt.index = getOnly(index)
	}
	var root http.Handler = rt
	switch cfg.accessLog {
	case "common":
		root = accessLog(rt, stderr, nil)
	case "slog":
		root = accessLog(rt, nil, slog.New(slog.NewTextHandler(stderr, nil)))
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return c.fail(err)
	}
	srv, ln := newServer(root, ln, lim, logger)
	site := cfg.dir
	if site == "" {
		site = "(embedded demo)"
	}
	logger.Info("stampfs: listening", "url", "http://"+ln.Addr().String()+"/", "dir", site,
		"stamp", h.Stamp(), "mode", string(h.Mode()), "prefix", cfg.opts.Prefix, "watch", cfg.watch)
	listening(ln.Addr().String())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if cfg.watch {
		go h.Watch(watchCtx, nil) // logs its rescans; returns when serve does
	}
loop:
	for {
		select {
		case err := <-done:
			return c.fail(err)
		case <-hup:
			rescan(h, names, logger)
		case <-ctx.Done():
			break loop
		}
	}
	logger.Info("stampfs: shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return c.fail(fmt.Errorf("shutdown: %w", err))
	}
	return exitOK
}

// checkDir reports a DIR that is missing or not a directory before the
// handler probes for links in it.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = &fs.PathError{Op: "stat", Path: dir, Err: syscall.ENOTDIR}
	}
	return err
}

// rescan refreshes h on SIGHUP and logs the outcome as Handler.Watch logs
// its own rescans. A failed rescan leaves the old stamp in use.
func rescan(h *stampfs.Handler, names *servedNames, logger *slog.Logger) {
	old, start := h.Stamp(), time.Now()
	err := h.Refresh()
	if err == nil {
		err = names.rebuild()
	}
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		logger.Warn("stampfs: rescan failed; serving the old stamp", "reason", "SIGHUP", "stamp", old, "took", took, "err", err.Error())
		return
	}
	logger.Info("stampfs: rescanned", "reason", "SIGHUP", "old", old, "stamp", h.Stamp(), "files", len(names.get()), "took", took)
}

// asset is one row of the demo page's table.
type asset struct{ Name string }

// demoPage renders demo/index.html with the handler's template functions.
func demoPage(h *stampfs.Handler, opts stampfs.Options) (http.Handler, error) {
	page, err := template.New("index.html").Funcs(h.FuncMap()).ParseFS(demo, "demo/index.html")
	if err != nil {
		return nil, err
	}
	assets := []asset{{"css/site.css"}, {"js/app.js"}, {"img/logo.svg"}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		err := page.Execute(&b, map[string]any{
			"Stamp": h.Stamp(), "Mode": h.Mode(), "Prefix": opts.Prefix, "Stale": opts.Stale,
			"Host": r.Host, "Assets": assets,
		})
		if err != nil {
			http.Error(w, "500 the demo page failed to render", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		io.WriteString(w, b.String())
	}), nil
}

// getOnly answers 405 to any method but GET and HEAD, as the stampfs
// handler does, and passes those to h.
func getOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// servedNames is the sorted list of the names a Handler serves, as of its
// last rebuild: a stat pass of the directory, kept apart from the
// handler's own scan, which hashes.
type servedNames struct {
	h    *stampfs.Handler
	fsys afero.Fs
	dir  string

	mu    sync.Mutex
	stamp string // the Handler's stamp at the last rebuild
	names []string
}

func newServedNames(h *stampfs.Handler, fsys afero.Fs, dir string) *servedNames {
	n := &servedNames{h: h, fsys: fsys, dir: dir}
	n.rebuild()
	return n
}

// rebuild lists the directory again.
func (n *servedNames) rebuild() error {
	stamp := n.h.Stamp()
	// Only the names are wanted: a fixed stamp reads no file's bytes, and
	// needs no file times (the demo's embed.FS has none).
	snap, err := stampfs.Scan(n.fsys, n.dir, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "names"})
	if err != nil {
		return err
	}
	var names []string
	for _, f := range snap.Files() {
		if _, err := n.h.URL(f.Name); err == nil {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stamp, n.names = stamp, names
	return nil
}

// get returns the names, listed again first if the Handler's stamp moved
// since (Handler.Watch rescanned).
func (n *servedNames) get() []string {
	n.mu.Lock()
	stale := n.stamp != n.h.Stamp()
	n.mu.Unlock()
	if stale {
		n.rebuild() // on error, the names of the last good listing
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.names
}

// dirIndex lists the stamped URLs of a served directory as plain text, so
// that a browser pointed at the server's root finds something to click.
func dirIndex(h *stampfs.Handler, dir string, opts stampfs.Options, served *servedNames) http.Handler {
	const maxListed = 500
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := served.get()
		var b strings.Builder
		fmt.Fprintf(&b, "stampfs is serving %s under %s%s/ (mode %s)\n\n", dir, opts.Prefix, h.Stamp(), h.Mode())
		for i, name := range names {
			if i == maxListed {
				fmt.Fprintf(&b, "… and %d more\n", len(names)-maxListed)
				break
			}
			u, _ := h.URL(name)
			fmt.Fprintln(&b, u)
		}
		fmt.Fprintf(&b, "\nTry: curl -sI http://%s<one of the URLs above>\n", r.Host)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff") // it echoes Host and file names
		w.Header().Set("Cache-Control", "no-cache")
		io.WriteString(w, b.String())
	})
}
