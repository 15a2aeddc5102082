//go:build linux

// Command scan measures how fast stampfs stamps a large static directory
// against the coreutils pipelines that compute the same stamps, in one run.
//
// It generates a deterministic tree (by default 100,000 files in 1,000
// directories, about 400 MB), builds the stampfs command from this checkout,
// warms the page cache, then runs each side in turn -runs times and prints
// the median wall times, their ratios against the targets, and the peak
// resident memory of stampfs:
//
//	mtime:   stampfs stamp -strategy mtime DIR
//	         vs find DIR -type f -printf '%T@\n' | sort -n | tail -1
//	content: stampfs stamp DIR
//	         vs (cd DIR && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum)
//
// Both sides must agree on the stamp, or the run fails. It runs on Linux,
// where the peers are GNU findutils and coreutils. Usage, from bench/:
//
//	go run ./scan -files 100000 -dirs 1000 -size 4096 -runs 7
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/stampfs/stampfs/bench/internal/report"
	"github.com/stampfs/stampfs/bench/internal/tree"
)

// config is what the flags set.
type config struct {
	tree.Spec
	runs    int
	dir     string // the tree; "" means a temporary directory
	stampfs string // a stampfs binary; "" means build one from the checkout
	check   bool   // exit 1 when a target is missed
}

// The targets the scanner must meet on the default tree.
const (
	mtimeTarget   = 0.60
	contentTarget = 0.25
	rssTarget     = 64 << 20
)

func main() {
	var cfg config
	cfg.Flags(flag.CommandLine)
	flag.IntVar(&cfg.runs, "runs", 7, "timed runs of each side")
	flag.StringVar(&cfg.dir, "dir", "", "where to generate the tree, kept for the next run, which rewrites only files that differ (it removes nothing); default a temporary directory")
	flag.StringVar(&cfg.stampfs, "stampfs", "", "stampfs binary to measure; default: build cmd/stampfs from this checkout")
	flag.BoolVar(&cfg.check, "check", false, "exit with status 1 when a target is missed")
	flag.Parse()

	ok, err := run(cfg, os.Stdout)
	report.Exit("scan", ok, cfg.check, err)
}

// side is one command timed in the benchmark.
type side struct {
	name  string
	args  []string // argv; run in dir when dir is set
	dir   string
	times []time.Duration
	cpu   []time.Duration // user and system time of the process and the children it waited for
	rss   int64           // peak resident set of the process in bytes
	out   string
}

// run generates the tree, runs the comparison and writes the report to w.
// ok is false when a target is missed.
func run(cfg config, w io.Writer) (ok bool, err error) {
	if cfg.Files < 1 || cfg.Dirs < 1 || cfg.Size < 0 || cfg.runs < 1 {
		return false, errors.New("-files, -dirs and -runs must be positive, -size not negative")
	}
	tmp, err := os.MkdirTemp("", "stampfs-bench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	dir := cfg.dir
	if dir == "" {
		dir = filepath.Join(tmp, "static")
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return false, err
	}

	start := time.Now()
	size, err := tree.Generate(dir, cfg.Files, cfg.Dirs, cfg.Size)
	if err != nil {
		return false, fmt.Errorf("generate: %w", err)
	}
	// Write the new tree out now rather than while the sides run.
	syscall.Sync()
	fmt.Fprintf(w, "tree: %d files in %d directories, %.1f MB, in %s (ready in %.1fs)\n",
		cfg.Files, cfg.Dirs, float64(size)/1e6, dir, time.Since(start).Seconds())

	bin := cfg.stampfs
	if bin == "" {
		bin = filepath.Join(tmp, "stampfs")
		build := exec.Command("go", "build", "-o", bin, "github.com/stampfs/stampfs/cmd/stampfs")
		if out, err := build.CombinedOutput(); err != nil {
			return false, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	fmt.Fprintf(w, "machine: %s/%s, %d CPUs, GOMAXPROCS %d; %d timed runs per side, sides alternating\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), cfg.runs)

	mtimeOurs := &side{name: "stampfs stamp -strategy mtime", args: []string{bin, "stamp", "-strategy", "mtime", dir}}
	mtimePeer := &side{name: "find -printf '%T@' | sort -n | tail -1", args: []string{"sh", "-c",
		`find "$1" -type f -printf '%T@\n' | sort -n | tail -1`, "sh", dir}}
	contentOurs := &side{name: "stampfs stamp", args: []string{bin, "stamp", dir}}
	contentPeer := &side{name: "find | sort | xargs sha256sum | sha256sum", dir: dir, args: []string{"sh", "-c",
		`find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`}}
	sides := []*side{mtimeOurs, mtimePeer, contentOurs, contentPeer}

	// Warm the page cache (and check the sides agree) with one untimed run each.
	for _, s := range sides {
		if err := s.run(false); err != nil {
			return false, err
		}
	}
	if want, _, _ := strings.Cut(mtimePeer.out, "."); mtimeOurs.out != want {
		return false, fmt.Errorf("mtime stamps differ: stampfs %q, find %q", mtimeOurs.out, mtimePeer.out)
	}
	if len(contentPeer.out) < 12 || contentOurs.out != contentPeer.out[:12] {
		return false, fmt.Errorf("content stamps differ: stampfs %q, sha256sum %q", contentOurs.out, contentPeer.out)
	}
	fmt.Fprintf(w, "stamps agree: mtime %s, content %s\n\n", mtimeOurs.out, contentOurs.out)

	// Alternate the sides, swapping which goes first every run.
	for r := range cfg.runs {
		for _, pair := range [][2]*side{{mtimeOurs, mtimePeer}, {contentOurs, contentPeer}} {
			if r%2 == 1 {
				pair[0], pair[1] = pair[1], pair[0]
			}
			for _, s := range pair {
				if err := s.run(true); err != nil {
					return false, err
				}
			}
		}
	}

	ok = true
	compare := func(label string, ours, peer *side, target float64) {
		ratio := report.Median(ours.times).Seconds() / report.Median(peer.times).Seconds()
		fmt.Fprintf(w, "%-8s %-42s median %7.3fs  (cpu %.3fs)\n", label, ours.name, report.Median(ours.times).Seconds(), report.Median(ours.cpu).Seconds())
		fmt.Fprintf(w, "%-8s %-42s median %7.3fs  (cpu %.3fs)\n", "", peer.name, report.Median(peer.times).Seconds(), report.Median(peer.cpu).Seconds())
		fmt.Fprintf(w, "%-8s ratio %.3f (target <= %.2f) %s\n\n", "", ratio, target, report.Verdict(ratio <= target, &ok))
	}
	compare("mtime", mtimeOurs, mtimePeer, mtimeTarget)
	compare("content", contentOurs, contentPeer, contentTarget)
	for _, s := range []*side{mtimeOurs, contentOurs} {
		fmt.Fprintf(w, "max RSS  %-42s %6.1f MiB (target < %d MiB) %s\n",
			s.name, float64(s.rss)/(1<<20), rssTarget>>20, report.Verdict(s.rss < rssTarget, &ok))
	}
	for _, s := range []*side{mtimePeer, contentPeer} {
		fmt.Fprintf(w, "max RSS  %-42s %6.1f MiB (largest process of the pipeline)\n", s.name, float64(s.rss)/(1<<20))
	}
	return ok, nil
}

// run runs the side once, recording its output and peak memory, and its
// wall time when timed.
func (s *side) run(timed bool) error {
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Dir = s.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", s.name, err, stderr.Bytes())
	}
	if timed {
		s.times = append(s.times, elapsed)
		s.cpu = append(s.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	// ru_maxrss is in KiB on Linux; for a shell it covers the children it waited for.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rss = max(s.rss, int64(ru.Maxrss)<<10)
	}
	s.out = strings.TrimSpace(stdout.String())
	return nil
}
