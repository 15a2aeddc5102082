//go:build linux

// Command publish measures stampfs publish against "aws s3 sync" of the same
// directory, both writing to one local Versity S3 gateway in the same run.
//
// It generates a deterministic tree (by default 10,000 files of 2–6 KiB in
// 100 directories, about 40 MB), builds stampfs-publish from this checkout,
// starts versitygw (POSIX backend in a temporary directory, on 127.0.0.1),
// then, -runs times and alternating which side goes first, publishes the
// tree to an empty bucket (and, for stampfs, an empty version store) and
// again unchanged with each side:
//
//	stampfs-publish -endpoint URL -store STORE-N -to s3://pub-N/static DIR
//	aws --endpoint-url URL s3 sync DIR s3://sync-N/static/
//
// It prints the median wall times and their ratios, and checks that an
// unchanged publish sent no object bytes. -check makes a missed target exit
// with status 1. Usage, from bench/:
//
//	go run ./publish -files 10000 -size 4096 -runs 3
package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The targets: a first publish at least 3× faster than aws s3 sync, an
// unchanged one no slower than aws s3 sync finding nothing to do.
const (
	firstTarget     = 3.0 // aws / stampfs, at least
	unchangedTarget = 1.0 // stampfs / aws, at most
)

const access, secret = "bench", "bench-secret"

type config struct {
	files, dirs, size, runs, jobs int
	dir, versitygw, aws           string
	check                         bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.files, "files", 10_000, "number of files in the tree")
	flag.IntVar(&cfg.dirs, "dirs", 100, "number of directories they are spread over")
	flag.IntVar(&cfg.size, "size", 4096, "mean file size in bytes (sizes spread from half to 1.5×)")
	flag.IntVar(&cfg.runs, "runs", 3, "timed runs per side")
	flag.IntVar(&cfg.jobs, "jobs", 16, "stampfs-publish -jobs")
	flag.StringVar(&cfg.dir, "dir", "", "the tree, kept between runs; default a temporary directory")
	flag.StringVar(&cfg.versitygw, "versitygw", "versitygw", "the Versity S3 gateway binary")
	flag.StringVar(&cfg.aws, "aws", "aws", "the AWS CLI")
	flag.BoolVar(&cfg.check, "check", false, "exit 1 when a target is missed")
	flag.Parse()
	ok, err := bench(cfg, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "publish bench: %v\n", err)
		os.Exit(2)
	}
	if !ok && cfg.check {
		os.Exit(1)
	}
}

func bench(cfg config, w io.Writer) (bool, error) {
	work, err := os.MkdirTemp("", "stampfs-bench-publish-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)
	dir := cfg.dir
	if dir == "" {
		dir = filepath.Join(work, "tree")
	}
	if err := makeTree(dir, cfg.files, cfg.dirs, cfg.size); err != nil {
		return false, err
	}
	publish := filepath.Join(work, "stampfs-publish")
	// The root module is replaced by this checkout: its publish/ is the
	// nested module that holds the command.
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/stampfs/stampfs").Output()
	if err != nil {
		return false, fmt.Errorf("go list -m github.com/stampfs/stampfs: %w", err)
	}
	build := exec.Command("go", "build", "-C", filepath.Join(strings.TrimSpace(string(root)), "publish"), "-o", publish, "./cmd/stampfs-publish")
	if out, err := build.CombinedOutput(); err != nil {
		return false, fmt.Errorf("go build stampfs-publish: %v\n%s", err, out)
	}

	gwRoot := filepath.Join(work, "gateway")
	addr, stop, err := startGateway(cfg.versitygw, gwRoot)
	if err != nil {
		return false, err
	}
	defer stop()
	endpoint := "http://" + addr
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID="+access, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1")

	var pubFirst, pubAgain, syncFirst, syncAgain []time.Duration
	for i := range cfg.runs {
		pb, sb := fmt.Sprintf("pub-%d", i), fmt.Sprintf("sync-%d", i)
		for _, b := range []string{pb, sb} {
			if err := os.Mkdir(filepath.Join(gwRoot, b), 0o755); err != nil {
				return false, err
			}
		}
		// Each run starts with an empty version store too, outside the
		// tree so that aws s3 sync does not see it.
		store := filepath.Join(work, fmt.Sprintf("store-%d", i))
		pub := func() (time.Duration, string, error) {
			return timed(env, publish, "-endpoint", endpoint, "-jobs", fmt.Sprint(cfg.jobs), "-store", store, "-to", "s3://"+pb+"/static", dir)
		}
		sync := func() (time.Duration, string, error) {
			return timed(env, cfg.aws, "--endpoint-url", endpoint, "s3", "sync", "--only-show-errors", dir, "s3://"+sb+"/static/")
		}
		type side struct {
			isPub bool
			run   func() (time.Duration, string, error)
		}
		sides := []side{{true, pub}, {false, sync}}
		if i%2 == 1 {
			slices.Reverse(sides)
		}
		for pass := range 2 {
			for _, s := range sides {
				d, out, err := s.run()
				if err != nil {
					return false, fmt.Errorf("%v\n%s", err, out)
				}
				isPub := s.isPub
				switch {
				case isPub && pass == 0:
					pubFirst = append(pubFirst, d)
				case isPub:
					if !strings.Contains(out, " 0 uploaded, 0 copied, ") || !strings.Contains(out, " 0 B sent") {
						return false, fmt.Errorf("an unchanged publish sent something: %s", out)
					}
					pubAgain = append(pubAgain, d)
				case pass == 0:
					syncFirst = append(syncFirst, d)
				default:
					syncAgain = append(syncAgain, d)
				}
			}
		}
	}
	mb := float64(treeBytes(dir)) / 1e6
	first := median(syncFirst).Seconds() / median(pubFirst).Seconds()
	again := median(pubAgain).Seconds() / median(syncAgain).Seconds()
	fmt.Fprintf(w, "tree: %d files, %.1f MB; %d runs per side; stampfs-publish -jobs %d\n\n", cfg.files, mb, cfg.runs, cfg.jobs)
	fmt.Fprintf(w, "| pass | stampfs publish median | aws s3 sync median | ratio | target |\n|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| first (empty bucket) | %.2f s | %.2f s | %.1f× faster | ≥ %.0f× |\n", median(pubFirst).Seconds(), median(syncFirst).Seconds(), first, firstTarget)
	fmt.Fprintf(w, "| unchanged | %.2f s | %.2f s | %.2f of aws | ≤ %.1f |\n", median(pubAgain).Seconds(), median(syncAgain).Seconds(), again, unchangedTarget)
	fmt.Fprintf(w, "\nall runs (s): publish first %s, sync first %s, publish unchanged %s, sync unchanged %s\n",
		secs(pubFirst), secs(syncFirst), secs(pubAgain), secs(syncAgain))
	ok := first >= firstTarget && again <= unchangedTarget
	if !ok {
		fmt.Fprintln(w, "TARGET MISSED")
	}
	return ok, nil
}

// makeTree writes files pseudo-random files into dirs directories of dir,
// the same bytes every time; a tree already there with the right count is
// kept.
func makeTree(dir string, files, dirs, size int) error {
	if n, _ := countFiles(dir); n == files {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, size*3/2+1)
	for i := range files {
		d := filepath.Join(dir, fmt.Sprintf("d%03d", i%dirs))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		n := size/2 + r.IntN(size+1)
		for j := range n {
			buf[j] = byte(r.Uint32())
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%05d.js", i)), buf[:n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func countFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	return n, err
}

func treeBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// startGateway runs versitygw on a free port of 127.0.0.1 with root as its
// POSIX backend and returns its address once it accepts connections.
func startGateway(bin, root string) (string, func(), error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", root)
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0): %w", err)
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("versitygw did not listen on %s within 20 s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func timed(env []string, name string, args ...string) (time.Duration, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, string(out), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return d, string(out), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.SortFunc(s, cmp.Compare)
	return s[len(s)/2]
}

func secs(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return strings.Join(parts, " ")
}
