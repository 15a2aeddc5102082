// Command stampfs-publish publishes a static directory's version to an
// S3-compatible bucket for many app servers behind a CDN. "stampfs publish"
// runs it with the same arguments.
//
// Usage:
//
//	stampfs-publish [-q] -to s3://BUCKET/PREFIX [-endpoint URL] [-region R] [-keep N] [-grace D]
//	                [-base URL] [-jobs N] [-timeout D] [-strategy S] [-store DIR] DIR
//
// It publishes DIR's version in DIR's version store (as stampfs link does),
// writes PREFIX/<stamp>/<name> for every served file and precompressed
// sibling, then PREFIX/<stamp>.json, then PREFIX/current.json, prunes old
// versions in the bucket and in the store, prints the stamp on stdout and a
// summary on stderr. Flags may come before or after DIR; help goes to
// stdout. Credentials and region come from the standard AWS environment and
// files.
//
// Exit status: 0 on success, 1 on an error, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/publish"
	"github.com/stampfs/stampfs/publish/s3bucket"
	"github.com/stampfs/stampfs/vfs"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr))
	stop()
	os.Exit(code)
}

// synopsis is the usage line of the command, as "stampfs publish".
const synopsis = "stampfs publish [-q] -to s3://BUCKET/PREFIX [-endpoint URL] [-region R] [-keep N] [-grace D] [-base URL] [-jobs N] [-timeout D] [-strategy S] [-store DIR] DIR"

// notes is printed after the flags by -h.
const notes = `Publishes DIR's version (made in DIR's version store, as stampfs link
makes it) to PREFIX/<stamp>/ in the bucket, then PREFIX/<stamp>.json, then
PREFIX/current.json, prunes old versions there and in the store, and prints
the stamp. Credentials and region come from the standard AWS environment
variables and files.`

// config is what the flags say.
type config struct {
	dir, store string
	bucket     s3bucket.Config
	opts       publish.Options
	base       string
	scan       stampfs.ScanOptions
	quiet      bool
}

// parseFlags parses args, where flags may come before or after DIR ("--"
// ends them). For -h it prints the help on stdout and returns exitOK; for a
// usage error it prints the error and the usage line on stderr and returns
// exitUsage; otherwise the status is -1.
func parseFlags(args []string, stdout, stderr io.Writer) (cfg config, status int) {
	fl := flag.NewFlagSet("stampfs publish", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.BoolVar(&cfg.quiet, "q", false, "quiet: log warnings and errors only")
	to := fl.String("to", "", "where to publish: s3://BUCKET/PREFIX (required)")
	fl.StringVar(&cfg.bucket.Endpoint, "endpoint", "", "URL of a non-AWS S3-compatible service (R2, B2, Ceph, MinIO…): path-style, checksums only where required")
	fl.StringVar(&cfg.bucket.Region, "region", "", "region, overriding AWS_REGION and ~/.aws/config")
	fl.IntVar(&cfg.opts.Keep, "keep", stampfs.DefaultKeep, "how many old versions to keep in the bucket besides the current one, newest first")
	fl.DurationVar(&cfg.opts.Grace, "grace", stampfs.DefaultGrace, "keep every version published less than this ago; 0 for none")
	fl.IntVar(&cfg.opts.Jobs, "jobs", 16, "requests in flight (and connections) at most")
	fl.StringVar(&cfg.base, "base", "", "origin of the CDN the manifest's URLs start with, such as https://cdn.example.com")
	fl.DurationVar(&cfg.bucket.Timeout, "timeout", 30*time.Second, "connect and response-header timeout of each request (each is tried 5 times)")
	strategy := fl.String("strategy", string(stampfs.Content), "how to compute the stamp: content, mtime, git or fixed=VALUE")
	fl.StringVar(&cfg.store, "store", "", "the version store (default DIR/"+stampfs.DefaultStore+"), as for stampfs link")
	usageErr := func(format string, a ...any) (config, int) {
		fmt.Fprintf(stderr, "stampfs publish: "+format+"\n", a...)
		fmt.Fprintf(stderr, "usage: %s\nRun 'stampfs help publish' for details.\n", synopsis)
		return cfg, exitUsage
	}
	var pos []string
	for {
		if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: %s\n\nflags:\n", synopsis)
			fl.SetOutput(stdout)
			fl.PrintDefaults()
			fmt.Fprintf(stdout, "\n%s\n", notes)
			return cfg, exitOK
		} else if err != nil {
			return usageErr("%v", err)
		}
		rest := fl.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	var err error
	switch {
	case len(pos) != 1:
		return usageErr("want exactly one DIR, got %d arguments", len(pos))
	case *to == "":
		return usageErr("-to s3://BUCKET/PREFIX is required")
	case cfg.opts.Keep < 0:
		return usageErr("-keep %d: want 0 or more", cfg.opts.Keep)
	case cfg.opts.Grace < 0:
		return usageErr("-grace %v: want 0 or more", cfg.opts.Grace)
	case cfg.opts.Jobs < 1:
		return usageErr("-jobs %d: want 1 or more", cfg.opts.Jobs)
	case cfg.base != "" && !strings.HasPrefix(cfg.base, "https://") && !strings.HasPrefix(cfg.base, "http://") && !strings.HasPrefix(cfg.base, "//"):
		return usageErr("-base %q: want an origin starting with https://, http:// or //", cfg.base)
	}
	if cfg.bucket.Bucket, cfg.opts.Prefix, err = s3bucket.ParseURL(*to); err != nil {
		return usageErr("-to %v", err)
	}
	if cfg.scan, err = parseStrategy(*strategy); err != nil {
		return usageErr("%v", err)
	}
	// Zero means the default in publish.Options: none is negative there.
	if cfg.opts.Keep == 0 {
		cfg.opts.Keep = -1
	}
	if cfg.opts.Grace == 0 {
		cfg.opts.Grace = -1
	}
	cfg.bucket.Conns = cfg.opts.Jobs
	cfg.dir = pos[0]
	return cfg, -1
}

// parseStrategy parses -strategy as stampfs link does.
func parseStrategy(value string) (stampfs.ScanOptions, error) {
	switch s := stampfs.Strategy(value); s {
	case stampfs.Content, stampfs.Mtime, stampfs.Git:
		return stampfs.ScanOptions{Strategy: s}, nil
	}
	if v, ok := strings.CutPrefix(value, "fixed="); ok && vfs.ValidSegment(v) {
		return stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: v}, nil
	}
	return stampfs.ScanOptions{}, fmt.Errorf("bad -strategy %q (want content, mtime, git or fixed=VALUE with VALUE a stamp)", value)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	cfg, status := parseFlags(args, stdout, stderr)
	if status >= 0 {
		return status
	}
	fail := func(what string, err error) int {
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "stampfs: "), ": stampfs: ", ": ")
		fmt.Fprintf(stderr, "stampfs publish: %s: %s\n", what, msg)
		return exitError
	}
	level := slog.LevelInfo
	if cfg.quiet {
		level = slog.LevelWarn
		tty = false
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.scan.Logger = logger
	cfg.opts.Logger = logger
	urlPrefix := "/" + cfg.opts.Prefix + "/"
	if cfg.opts.Prefix == "" {
		urlPrefix = "/"
	}
	l := stampfs.NewLinker(afero.NewOsFs(), cfg.dir)
	l.Store, l.Logger = cfg.store, logger
	v, err := version(l, cfg.scan, &stampfs.ManifestOptions{Prefix: urlPrefix, Base: cfg.base})
	if err != nil {
		return fail(cfg.dir, err)
	}
	b, err := s3bucket.Open(ctx, cfg.bucket)
	if err != nil {
		return fail("s3://"+cfg.bucket.Bucket, err)
	}
	start := time.Now()
	var p *progress
	if tty {
		p = &progress{w: stderr, start: start}
		cfg.opts.Progress = p.update
	}
	st, err := publish.Publish(ctx, b, v, &cfg.opts)
	p.clear()
	where := "s3://" + cfg.bucket.Bucket + "/" + cfg.opts.Prefix
	if err != nil {
		return fail(strings.TrimSuffix(where, "/"), err)
	}
	elapsed := time.Since(start)
	// The store on disk keeps what stampfs link would keep by default.
	if _, err := l.Prune(v.Manifest.Stamp); err != nil {
		logger.Warn("stampfs publish: pruning the version store", "err", err.Error())
	}
	if !cfg.quiet {
		fmt.Fprintf(stderr, "stampfs publish: %s to %s: %d uploaded, %d copied, %d skipped, %d deleted, %s sent in %.1fs\n",
			v.Manifest.Stamp, strings.TrimSuffix(where, "/"), st.Uploaded, st.Copied, st.Skipped, st.Deleted, size(st.Bytes), elapsed.Seconds())
	}
	fmt.Fprintln(stdout, v.Manifest.Stamp)
	return exitOK
}

// version publishes the directory's version in its store on disk (as
// stampfs link does) and returns it as publish.Publish takes it: the bucket
// gets exactly the bytes the stamp was computed from, frozen in the store,
// whatever the live tree does meanwhile.
func version(l *stampfs.Linker, scan stampfs.ScanOptions, mo *stampfs.ManifestOptions) (*publish.Version, error) {
	v, err := l.Publish(&scan)
	if err != nil {
		return nil, err
	}
	m, err := v.Manifest(mo)
	if err != nil {
		return nil, err
	}
	return &publish.Version{Manifest: m, FS: v.FS(), Files: v.Files}, nil
}

// progress draws one status line on a terminal, at most every 200 ms.
type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
	drawn bool
}

func (p *progress) update(st publish.Stats) {
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond && st.Done != st.Objects {
		return
	}
	p.last, p.drawn = now, true
	rate := float64(st.Bytes) / max(now.Sub(p.start).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r\033[K%d/%d objects, %s sent, %s/s, %d skipped, %d copied", st.Done, st.Objects, size(st.Bytes), size(int64(rate)), st.Skipped, st.Copied)
}

func (p *progress) clear() {
	if p != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
