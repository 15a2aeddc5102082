package main

import (
	"context"
	"embed"
	"errors"
	"flag"
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
	return serve(ctx, args, stdout, stderr)
}

// serveConfig is what the flags of serve say.
type serveConfig struct {
	addr, dir string
	opts      stampfs.Options
}

func serveFlags(args []string, stderr io.Writer) (cfg serveConfig, status int) {
	fl := flag.NewFlagSet("stampfs serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	prefix := fl.String("prefix", "/static/", "URL path the files are served under; starts and ends with /")
	mode := fl.String("mode", string(stampfs.ModeAuto), "auto, symlink or virtual: whether to make the stamp link DIR/<stamp> -> .")
	strategy := fl.String("strategy", string(stampfs.Content), strategyUsage)
	stale := fl.String("stale", string(stampfs.StaleServe), "answer for an unknown stamp: serve (no-cache), notfound (404) or redirect (302)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: stampfs serve [-addr 127.0.0.1:8080] [-prefix /static/] [-mode auto|symlink|virtual] [-strategy S] [-stale serve|notfound|redirect] [DIR]")
		fmt.Fprintln(stderr, "\nWithout DIR it serves a demo site that shows the stamped URLs and headers.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return cfg, exitOK
	} else if err != nil {
		return cfg, exitUsage
	}
	usageError := func(format string, a ...any) (serveConfig, int) {
		fmt.Fprintf(stderr, "stampfs serve: "+format+"\n", a...)
		fl.Usage()
		return cfg, exitUsage
	}
	scan, err := parseStrategy(*strategy)
	if err != nil {
		return usageError("%v", err)
	}
	cfg.opts = stampfs.Options{Prefix: *prefix, Mode: stampfs.Mode(*mode), Stale: stampfs.StalePolicy(*stale), Scan: scan}
	switch {
	case !strings.HasPrefix(*prefix, "/") || !strings.HasSuffix(*prefix, "/"):
		return usageError("-prefix %q must start and end with /", *prefix)
	case cfg.opts.Mode != stampfs.ModeAuto && cfg.opts.Mode != stampfs.ModeSymlink && cfg.opts.Mode != stampfs.ModeVirtual:
		return usageError("unknown -mode %q (want auto, symlink or virtual)", *mode)
	case cfg.opts.Stale != stampfs.StaleServe && cfg.opts.Stale != stampfs.StaleNotFound && cfg.opts.Stale != stampfs.StaleRedirect:
		return usageError("unknown -stale %q (want serve, notfound or redirect)", *stale)
	case fl.NArg() > 1:
		return usageError("want at most one DIR, got %d arguments", fl.NArg())
	case fl.NArg() == 0 && cfg.opts.Mode == stampfs.ModeSymlink:
		return usageError("-mode symlink needs a DIR: the demo site is embedded and served virtually")
	}
	cfg.dir = fl.Arg(0)
	return cfg, -1
}

// serve runs the server until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, status := serveFlags(args, stderr)
	if status >= 0 {
		return status
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.opts.Logger = logger

	var (
		h     *stampfs.Handler
		index http.Handler
		err   error
	)
	if cfg.dir == "" {
		static, _ := fs.Sub(demo, "demo/static")
		if h, err = stampfs.NewFS(static, &cfg.opts); err == nil {
			index, err = demoPage(h, cfg.opts)
		}
	} else {
		if h, err = stampfs.New(afero.NewOsFs(), cfg.dir, &cfg.opts); err == nil {
			index, err = dirIndex(h, cfg.dir, cfg.opts)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "stampfs serve: %v\n", err)
		if errors.Is(err, stampfs.ErrSymlinkUnsupported) {
			return exitNoSymlinks
		}
		return exitError
	}

	mux := http.NewServeMux()
	mux.Handle(cfg.opts.Prefix, h)
	if cfg.opts.Prefix != "/" {
		mux.Handle("/{$}", getOnly(index))
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "stampfs serve: %v\n", err)
		return exitError
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	site := cfg.dir
	if site == "" {
		site = "(embedded demo)"
	}
	logger.Info("stampfs: listening", "url", "http://"+ln.Addr().String()+"/", "dir", site,
		"stamp", h.Stamp(), "mode", string(h.Mode()), "prefix", cfg.opts.Prefix)
	listening(ln.Addr().String())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "stampfs serve: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	logger.Info("stampfs: shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "stampfs serve: shutdown: %v\n", err)
		return exitError
	}
	return exitOK
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

// dirIndex lists the stamped URLs of a served directory as plain text, so
// that a browser pointed at the server's root finds something to click.
func dirIndex(h *stampfs.Handler, dir string, opts stampfs.Options) (http.Handler, error) {
	// Only the names are wanted: the mtime strategy reads no file's bytes,
	// where the handler's own scan already hashed them all.
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &stampfs.ScanOptions{Strategy: stampfs.Mtime})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range snap.Files() {
		if _, err := h.URL(f.Name); err == nil {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	const maxListed = 500
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}), nil
}
