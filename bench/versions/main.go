//go:build linux

// Command versions measures what publishing versions costs in time and disk
// on a large static directory, in one run, against the commands that do the
// same work by hand:
//
//	first:    stampfs link DIR on a fresh store
//	          vs cp -a DIR COPY, plus stampfs stamp DIR
//	relink:   stampfs link DIR again, on the unchanged tree
//	          vs stampfs stamp -strategy mtime DIR
//	change:   stampfs link DIR after 1% of the files were rewritten
//	          vs relink's median plus cat of the rewritten files
//	disk:     du -sk DIR/.stampfs holding 3 versions after two 1% changes
//	          vs du -sk of the live tree
//
// It generates the tree of bench/scan (by default 100,000 files in 1,000
// directories, about 400 MB), builds the stampfs command from this checkout,
// runs the sides of each part alternately -runs times, and prints the median
// wall times, their ratios against the targets, and ok or MISSED. It checks
// along the way that the sides agree: the stamp link prints the content
// stamp, every version holds the live tree's bytes, an unchanged relink
// publishes nothing and (under strace, when installed) opens no live file
// and copies nothing, and a 1% change copies exactly the rewritten files.
// Usage, from bench/:
//
//	go run ./versions -files 100000 -dirs 1000 -size 4096 -runs 5
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
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
	change  int    // files rewritten per change; 0 means 1% of files
	dir     string // the tree; "" means a temporary directory
	stampfs string // a stampfs binary; "" means build one from the checkout
	check   bool   // exit 1 when a target is missed
}

// The targets.
const (
	firstTarget  = 1.5  // first link ÷ (cp -a + content stamp)
	relinkTarget = 1.3  // unchanged relink ÷ mtime scan
	changeTarget = 1.3  // not part of the targets: a guide for change ÷ (relink + cat)
	diskTarget   = 1.05 // 3 versions ÷ one copy of the tree
)

// racyWait is how long after rewriting files a change waits before linking,
// so that the new version's scan is more than stampfs's two-second racy
// window after their mtimes and the next version trusts them, as it would
// after a real deploy.
const racyWait = 2100 * time.Millisecond

// progress, when set, receives a line per timed run.
var progress io.Writer

// linkFlags keep the newest version and 2 more, so that the store holds the
// 3 versions of the disk part at most however many runs are made.
var linkFlags = []string{"-keep", "2", "-grace", "0"}

func main() {
	var cfg config
	cfg.Flags(flag.CommandLine)
	flag.IntVar(&cfg.runs, "runs", 5, "timed runs of each side")
	flag.IntVar(&cfg.change, "change", 0, "files rewritten per change (default 1% of -files)")
	flag.StringVar(&cfg.dir, "dir", "", "where to generate the tree, kept (and restored) for the next run; default a temporary directory")
	flag.StringVar(&cfg.stampfs, "stampfs", "", "stampfs binary to measure; default: build cmd/stampfs from this checkout")
	flag.BoolVar(&cfg.check, "check", false, "exit with status 1 when a target is missed")
	verbose := flag.Bool("v", false, "print every timed run on stderr")
	flag.Parse()
	if *verbose {
		progress = os.Stderr
	}

	ok, err := run(cfg, os.Stdout)
	report.Exit("versions", ok, cfg.check, err)
}

// bench is one run of the benchmark.
type bench struct {
	cfg   config
	w     io.Writer
	dir   string // the live tree
	copy  string // where cp -a copies it
	bin   string
	store string
	names []string // the tree's files, slash paths
	stamp string   // content stamp of the generated tree

	strays map[string][]string // per version checked, the files it holds beyond the tree's
}

// side is one command timed in the benchmark.
type side struct {
	name  string
	times []time.Duration
	cpu   []time.Duration
}

func (s *side) median() time.Duration { return report.Median(s.times) }

// run generates the tree, runs every part and writes the report to w. ok is
// false when a target is missed.
func run(cfg config, w io.Writer) (ok bool, err error) {
	if cfg.Files < 1 || cfg.Dirs < 1 || cfg.Size < 0 || cfg.runs < 1 || cfg.change < 0 {
		return false, errors.New("-files, -dirs and -runs must be positive, -size and -change not negative")
	}
	if cfg.change == 0 {
		cfg.change = max(1, cfg.Files/100)
	}
	cfg.change = min(cfg.change, cfg.Files)
	tmp, err := os.MkdirTemp("", "stampfs-vbench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	b := &bench{cfg: cfg, w: w, dir: cfg.dir, strays: map[string][]string{}}
	if b.dir == "" {
		b.dir = filepath.Join(tmp, "static")
	}
	if b.dir, err = filepath.Abs(b.dir); err != nil {
		return false, err
	}
	b.copy = filepath.Join(filepath.Dir(b.dir), filepath.Base(b.dir)+".cp-a")
	b.store = filepath.Join(b.dir, ".stampfs")
	for i := range cfg.Files {
		b.names = append(b.names, tree.Name(i, cfg.Dirs))
	}
	slices.Sort(b.names)

	start := time.Now()
	if err := b.reset(); err != nil {
		return false, err
	}
	size, err := tree.Generate(b.dir, cfg.Files, cfg.Dirs, cfg.Size)
	if err != nil {
		return false, fmt.Errorf("generate: %w", err)
	}
	syscall.Sync()
	fmt.Fprintf(w, "tree: %d files in %d directories, %.1f MB, in %s (ready in %.1fs)\n",
		cfg.Files, cfg.Dirs, float64(size)/1e6, b.dir, time.Since(start).Seconds())
	defer func() {
		// Leave the tree as generated, for the next run and for bench/scan.
		err = errors.Join(err, b.reset())
		if _, gerr := tree.Generate(b.dir, cfg.Files, cfg.Dirs, cfg.Size); gerr != nil {
			err = errors.Join(err, gerr)
		}
	}()

	b.bin = cfg.stampfs
	if b.bin == "" {
		b.bin = filepath.Join(tmp, "stampfs")
		build := exec.Command("go", "build", "-o", b.bin, "github.com/stampfs/stampfs/cmd/stampfs")
		if out, err := build.CombinedOutput(); err != nil {
			return false, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	fmt.Fprintf(w, "machine: %s/%s, %d CPUs, GOMAXPROCS %d; %d timed runs per side, sides alternating; link %s\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), cfg.runs, strings.Join(linkFlags, " "))
	if b.stamp, err = b.out(b.bin, "stamp", b.dir); err != nil {
		return false, err
	}

	first, cp, stamp, err := b.first()
	if err != nil {
		return false, fmt.Errorf("first link: %w", err)
	}
	relink, mtime, straced, err := b.relink()
	if err != nil {
		return false, fmt.Errorf("relink: %w", err)
	}
	change, cat, err := b.change()
	if err != nil {
		return false, fmt.Errorf("change: %w", err)
	}
	disk, err := b.disk()
	if err != nil {
		return false, fmt.Errorf("disk: %w", err)
	}

	ok = true
	fmt.Fprintf(w, "sides agree: every link printed the content stamp (%s) and its version holds the live bytes\n", b.stamp)
	for _, stamp := range slices.Sorted(maps.Keys(b.strays)) {
		s := b.strays[stamp]
		fmt.Fprintf(w, "version %s holds %d stray files beside the tree's, such as %s: %s\n", stamp, len(s), s[0], report.Verdict(false, &ok))
	}
	fmt.Fprintf(w, "relink: published nothing; %s\n", straced)
	fmt.Fprintf(w, "change: copied exactly the %d rewritten files and linked the other %d\n\n", cfg.change, cfg.Files-cfg.change)
	line := func(label string, s *side) {
		fmt.Fprintf(w, "%-8s %-50s median %7.3fs  (cpu %.3fs)\n", label, s.name, s.median().Seconds(), report.Median(s.cpu).Seconds())
	}
	verdictLine := func(ratio, target float64, counts bool) {
		v := "over the guide (a guide, not a target)"
		switch {
		case counts:
			v = report.Verdict(ratio <= target, &ok)
		case ratio <= target:
			v = "ok (a guide, not a target)"
		}
		fmt.Fprintf(w, "%-8s ratio %.3f (target <= %.2f) %s\n\n", "", ratio, target, v)
	}
	line("first", first)
	line("", cp)
	line("", stamp)
	verdictLine(first.median().Seconds()/(cp.median()+stamp.median()).Seconds(), firstTarget, true)
	line("relink", relink)
	line("", mtime)
	verdictLine(relink.median().Seconds()/mtime.median().Seconds(), relinkTarget, true)
	line("change", change)
	line("", relink)
	line("", cat)
	verdictLine(change.median().Seconds()/(relink.median()+cat.median()).Seconds(), changeTarget, false)
	fmt.Fprintf(w, "disk     du -sk DIR/.stampfs (3 versions)                   %8d KiB\n", disk.store)
	fmt.Fprintf(w, "         du -sk --exclude=.stampfs DIR (the live tree)      %8d KiB\n", disk.live)
	fmt.Fprintf(w, "         of the store: indexes %d KiB, bases %d KiB (each file once), directories %d KiB (allocated)\n", disk.index, disk.base, disk.dirs)
	verdictLine(float64(disk.store)/float64(disk.live), diskTarget, true)
	return ok, nil
}

// reset removes the store, the stamp links at the top of the tree and the
// copy: the tree is as generated again, bar rewritten files.
func (b *bench) reset() error {
	if err := os.RemoveAll(b.store); err != nil {
		return err
	}
	entries, err := os.ReadDir(b.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if e.Type()&os.ModeSymlink != 0 {
			if err := os.Remove(filepath.Join(b.dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return os.RemoveAll(b.copy)
}

// timed runs argv once and adds its wall and CPU time to s. It returns
// stdout and stderr.
func (s *side) timed(argv ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return "", "", fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, e.Bytes())
	}
	s.times = append(s.times, elapsed)
	s.cpu = append(s.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	if progress != nil && s.name != "" {
		fmt.Fprintf(progress, "%s: run %d: %.3fs\n", s.name, len(s.times), elapsed.Seconds())
	}
	return strings.TrimSpace(o.String()), e.String(), nil
}

// out runs argv untimed and returns its stdout.
func (b *bench) out(argv ...string) (string, error) {
	var s side
	out, _, err := s.timed(argv...)
	return out, err
}

// link runs stampfs link once on s, checks that it printed want (unless
// "") and returns its log.
func (b *bench) link(s *side, want string) (log string, err error) {
	argv := []string{b.bin, "link"}
	argv = append(argv, linkFlags...)
	argv = append(argv, b.dir)
	out, log, err := s.timed(argv...)
	if err != nil {
		return "", err
	}
	if want != "" && out != want {
		return "", fmt.Errorf("stampfs link printed %q, want the content stamp %q", out, want)
	}
	return log, nil
}

// sync writes dirty pages out between runs, so that no side pays for the
// previous one's writes.
func sync() { syscall.Sync() }

// first times the first link of the tree against cp -a plus the content
// stamp, each on a tree without store or copy.
func (b *bench) first() (link, cp, stamp *side, err error) {
	link = &side{name: "stampfs link DIR (fresh store)"}
	cp = &side{name: "cp -a DIR COPY"}
	stamp = &side{name: "stampfs stamp DIR"}
	linkOnce := func(timed bool) error {
		if err := b.reset(); err != nil {
			return err
		}
		sync()
		s := link
		if !timed {
			s = &side{}
		}
		log, err := b.link(s, b.stamp)
		if err != nil {
			return err
		}
		if got := published(log); got == nil || got.copied != b.cfg.Files {
			return fmt.Errorf("want a version with %d files copied, log:\n%s", b.cfg.Files, log)
		}
		return nil
	}
	peerOnce := func() error {
		if err := b.reset(); err != nil {
			return err
		}
		sync()
		if _, _, err := cp.timed("cp", "-a", b.dir, b.copy); err != nil {
			return err
		}
		out, _, err := stamp.timed(b.bin, "stamp", b.dir)
		if err != nil {
			return err
		}
		if out != b.stamp {
			return fmt.Errorf("stamp: got %q, want %q", out, b.stamp)
		}
		return nil
	}
	// One untimed run that warms the page cache and checks the version.
	if err := linkOnce(false); err != nil {
		return nil, nil, nil, err
	}
	if err := b.verify(b.stamp); err != nil {
		return nil, nil, nil, err
	}
	for r := range b.cfg.runs {
		steps := []func() error{func() error { return linkOnce(true) }, peerOnce}
		if r%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	// Leave the store of the tree for relink.
	if err := linkOnce(false); err != nil {
		return nil, nil, nil, err
	}
	return link, cp, stamp, os.RemoveAll(b.copy)
}

// relink times an unchanged relink against the mtime scan.
func (b *bench) relink() (link, mtime *side, straced string, err error) {
	link = &side{name: "stampfs link DIR (unchanged)"}
	mtime = &side{name: "stampfs stamp -strategy mtime DIR"}
	once := func(s *side) error {
		log, err := b.link(s, b.stamp)
		if err != nil {
			return err
		}
		if p := published(log); p != nil {
			return fmt.Errorf("an unchanged relink published a version:\n%s", log)
		}
		return nil
	}
	if straced, err = b.strace(); err != nil {
		return nil, nil, "", err
	}
	if _, err := b.out(b.bin, "stamp", "-strategy", "mtime", b.dir); err != nil {
		return nil, nil, "", err
	}
	for r := range b.cfg.runs {
		steps := []func() error{func() error { return once(link) }, func() error {
			_, _, err := mtime.timed(b.bin, "stamp", "-strategy", "mtime", b.dir)
			return err
		}}
		if r%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, nil, "", err
			}
		}
	}
	if err := b.verify(b.stamp); err != nil {
		return nil, nil, "", err
	}
	return link, mtime, straced, nil
}

// strace runs an unchanged relink under strace, when it is installed, and
// checks that it opens no live file (only directories and the store) and
// copies nothing.
func (b *bench) strace() (string, error) {
	if _, err := exec.LookPath("strace"); err != nil {
		return "not run under strace (not installed)", nil
	}
	trace := filepath.Join(filepath.Dir(b.copy), "relink.strace")
	defer os.Remove(trace)
	argv := append([]string{"strace", "-f", "-qq", "-o", trace, "-e", "trace=openat,open,copy_file_range,sendfile,splice", b.bin, "link"}, linkFlags...)
	if out, err := b.out(append(argv, b.dir)...); err != nil {
		return "", err
	} else if out != b.stamp {
		return "", fmt.Errorf("stampfs link under strace printed %q, want %q", out, b.stamp)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		return "", err
	}
	opens, copies := 0, 0
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.Contains(line, "copy_file_range(") || strings.Contains(line, "sendfile(") || strings.Contains(line, "splice("):
			copies++
		case strings.Contains(line, "open") && !strings.Contains(line, "O_DIRECTORY") && liveOpen(line, b.dir):
			opens++
		}
	}
	if opens > 0 || copies > 0 {
		return "", fmt.Errorf("an unchanged relink opened %d live files and made %d copy calls; strace:\n%s", opens, copies, data)
	}
	return "strace: no live file opened, no copy_file_range, sendfile or splice", nil
}

var openPath = regexp.MustCompile(`open(?:at)?\((?:[A-Z_0-9]+, |\d+, )?"([^"]*)"`)

// liveOpen reports whether the strace line opens a file of the live tree: a
// path relative to a directory descriptor (the scanner's), or one under dir
// outside its store.
func liveOpen(line, dir string) bool {
	m := openPath.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	p := m[1]
	if strings.Contains(line, "openat(AT_FDCWD") || strings.HasPrefix(p, "/") {
		rel, ok := strings.CutPrefix(p, dir+"/")
		return ok && rel != ".stampfs" && !strings.HasPrefix(rel, ".stampfs/")
	}
	return true
}

// change times a link after rewriting cfg.change files, against cat of
// those files.
func (b *bench) change() (link, cat *side, err error) {
	link = &side{name: fmt.Sprintf("stampfs link DIR (%d files rewritten)", b.cfg.change)}
	cat = &side{name: fmt.Sprintf("cat the %d files >/dev/null", b.cfg.change)}
	for r := range b.cfg.runs + 1 { // the first round is untimed
		names, err := tree.Rewrite(b.dir, b.cfg.Files, b.cfg.Dirs, b.cfg.Size, b.cfg.change, uint64(1+r))
		if err != nil {
			return nil, nil, err
		}
		sync()
		time.Sleep(racyWait)
		stamp, err := b.out(b.bin, "stamp", b.dir)
		if err != nil {
			return nil, nil, err
		}
		argv := []string{"cat"}
		for _, n := range names {
			argv = append(argv, filepath.Join(b.dir, filepath.FromSlash(n)))
		}
		timedLink, timedCat := link, cat
		if r == 0 {
			timedLink, timedCat = &side{}, &side{}
		}
		var log string
		steps := []func() error{func() error {
			log, err = b.link(timedLink, stamp)
			return err
		}, func() error {
			_, _, err := timedCat.timed(argv...)
			return err
		}}
		if r%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, nil, err
			}
		}
		if p := published(log); p == nil || p.copied != b.cfg.change || p.linked != b.cfg.Files-b.cfg.change {
			return nil, nil, fmt.Errorf("want a version with %d files copied and %d linked; log:\n%s", b.cfg.change, b.cfg.Files-b.cfg.change, log)
		}
		if r == b.cfg.runs {
			if err := b.verify(stamp); err != nil {
				return nil, nil, err
			}
		}
	}
	return link, cat, nil
}

// diskUse is what the disk part measured, in KiB.
type diskUse struct {
	store, live       int64
	index, base, dirs int64
}

// disk publishes the generated tree on a fresh store, then two 1% changes,
// and measures the store against the live tree.
func (b *bench) disk() (d diskUse, err error) {
	if err := b.reset(); err != nil {
		return d, err
	}
	if _, err := tree.Generate(b.dir, b.cfg.Files, b.cfg.Dirs, b.cfg.Size); err != nil {
		return d, err
	}
	var stamps []string
	for r := range 3 {
		if r > 0 {
			if _, err := tree.Rewrite(b.dir, b.cfg.Files, b.cfg.Dirs, b.cfg.Size, b.cfg.change, uint64(100+r)); err != nil {
				return d, err
			}
			time.Sleep(racyWait)
		}
		stamp, err := b.out(b.bin, "stamp", b.dir)
		if err != nil {
			return d, err
		}
		if _, err := b.link(&side{}, stamp); err != nil {
			return d, err
		}
		stamps = append(stamps, stamp)
	}
	if err := b.verify(stamps[2]); err != nil {
		return d, err
	}
	out, err := b.out(b.bin, "versions", b.dir)
	if err != nil {
		return d, err
	}
	for _, s := range stamps {
		if !strings.Contains(out, s+"\t") {
			return d, fmt.Errorf("version %s is not retained; stampfs versions:\n%s", s, out)
		}
	}
	sync()
	if d.store, err = du(b.store); err != nil {
		return d, err
	}
	if d.live, err = du("--exclude=.stampfs", b.dir); err != nil {
		return d, err
	}
	seen := map[uint64]bool{} // versions share bases by hard links
	for _, s := range stamps {
		for _, f := range []struct {
			name string
			n    *int64
		}{{".stampfs-index", &d.index}, {".stampfs-base", &d.base}} {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(b.store, s, f.name), &st); err != nil {
				return d, err
			}
			if !seen[st.Ino] {
				seen[st.Ino] = true
				*f.n += st.Blocks / 2
			}
		}
	}
	err = filepath.WalkDir(b.store, func(p string, e os.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		d.dirs += st.Blocks / 2
		return nil
	})
	return d, err
}

// du returns du -sk of args: allocated KiB, each inode counted once.
func du(args ...string) (int64, error) {
	out, err := exec.Command("du", append([]string{"-sk"}, args...)...).Output()
	if err != nil {
		return 0, fmt.Errorf("du %s: %v", strings.Join(args, " "), err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return 0, fmt.Errorf("du %s: no output", strings.Join(args, " "))
	}
	return strconv.ParseInt(f[0], 10, 64)
}

// verify checks that the store's version of stamp holds every file of the
// live tree with its bytes. Other files in it (bar its index and base)
// are recorded in b.strays: they are never served, but a version should
// hold nothing else.
func (b *bench) verify(stamp string) error {
	vdir := filepath.Join(b.store, stamp)
	link, err := os.Readlink(filepath.Join(b.dir, stamp))
	if err != nil {
		return err
	}
	if link != filepath.Join(".stampfs", stamp) {
		return fmt.Errorf("stamp link %s -> %s, want .stampfs/%s", stamp, link, stamp)
	}
	var stored []string
	err = filepath.WalkDir(vdir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(vdir, p)
		if rel != ".stampfs-index" && rel != ".stampfs-base" {
			stored = append(stored, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	var strays []string
	for _, n := range stored {
		if _, found := slices.BinarySearch(b.names, n); !found {
			strays = append(strays, n)
		}
	}
	if len(strays) > 0 {
		b.strays[stamp] = strays
	}
	for _, n := range b.names {
		live, err := fileSum(filepath.Join(b.dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		kept, err := fileSum(filepath.Join(vdir, filepath.FromSlash(n)))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("version %s lacks %s", stamp, n)
		}
		if err != nil {
			return err
		}
		if live != kept {
			return fmt.Errorf("version %s: %s differs from the live file", stamp, n)
		}
	}
	return nil
}

func fileSum(p string) ([32]byte, error) {
	data, err := os.ReadFile(p)
	return sha256.Sum256(data), err
}

// publishedLog is what a "version published" log line says.
type publishedLog struct{ files, copied, linked int }

var publishedLine = regexp.MustCompile(`msg="version published" .* files=(\d+) copied=(\d+) linked=(\d+)`)

// published returns the "version published" line of a link's log, or nil.
func published(log string) *publishedLog {
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		if m := publishedLine.FindStringSubmatch(sc.Text()); m != nil {
			var p publishedLog
			p.files, _ = strconv.Atoi(m[1])
			p.copied, _ = strconv.Atoi(m[2])
			p.linked, _ = strconv.Atoi(m[3])
			return &p
		}
	}
	return nil
}
