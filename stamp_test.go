package stampfs_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// emptyStamp is the content stamp of a directory without counted files: the
// SHA-256 of nothing.
const emptyStamp = "e3b0c44298fc"

// makeTree builds a tree under dir on fsys from a tiny syntax, one entry per
// string: "css/a.css" is a file whose content is its own name and a newline,
// "css/a.css=body" a file holding "body", "img/" a directory and
// "v1 -> ." a symbolic link with target ".". Parents are created as needed.
func makeTree(t testing.TB, fsys afero.Fs, dir string, entries ...string) {
	t.Helper()
	require.NoError(t, fsys.MkdirAll(dir, 0o755))
	for _, e := range entries {
		if name, target, ok := strings.Cut(e, " -> "); ok {
			linker, ok := fsys.(afero.Linker)
			require.Truef(t, ok, "%T cannot make symlink %q", fsys, e)
			require.NoError(t, fsys.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
			require.NoError(t, linker.SymlinkIfPossible(target, filepath.Join(dir, name)))
			continue
		}
		if strings.HasSuffix(e, "/") {
			require.NoError(t, fsys.MkdirAll(filepath.Join(dir, e), 0o755))
			continue
		}
		name, content, ok := strings.Cut(e, "=")
		if !ok {
			content = name + "\n"
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, fsys.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, afero.WriteFile(fsys, path, []byte(content), 0o644))
	}
}

// scan runs Scan and requires it to succeed.
func scan(t testing.TB, fsys afero.Fs, dir string, opts *stampfs.ScanOptions) *stampfs.Snapshot {
	t.Helper()
	snap, err := stampfs.Scan(fsys, dir, opts)
	require.NoError(t, err)
	return snap
}

// names lists the Names of a snapshot's files.
func names(snap *stampfs.Snapshot) []string {
	var out []string
	for _, f := range snap.Files() {
		out = append(out, f.Name)
	}
	return out
}

// pipeline runs a bash command line in dir and returns its output without
// the trailing newline, skipping the test when a tool it names is missing or
// find and xargs are not GNU's (the pipelines use -printf and -d).
func pipeline(t *testing.T, dir, cmdline string, tools ...string) string {
	t.Helper()
	for _, tool := range append([]string{"bash"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
		if tool == "find" || tool == "xargs" {
			if out, _ := exec.Command(tool, "--version").Output(); !strings.Contains(string(out), "GNU") {
				t.Skipf("%s is not GNU %s", tool, tool)
			}
		}
	}
	cmd := exec.Command("bash", "-o", "pipefail", "-c", cmdline)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	require.NoErrorf(t, err, "%s: %s", cmdline, out)
	return strings.TrimSuffix(string(out), "\n")
}

// The pipelines of the README, which define the stamps.
const (
	contentPipeline = `find . -type f ! -path '*/.*' | LC_ALL=C sort | xargs -r -d '\n' sha256sum | sha256sum | cut -c1-12`
	// contentPipeline0 is the same for names holding newlines.
	contentPipeline0 = `find . -type f ! -path '*/.*' -print0 | LC_ALL=C sort -z | xargs -r -0 sha256sum | sha256sum | cut -c1-12`
	mtimePipeline    = `find . -type f ! -path '*/.*' -printf '%T@\n' | sort -n | tail -1 | cut -d. -f1`
)

func TestScanContentMatchesSha256sum(t *testing.T) {
	tests := []struct {
		name     string
		entries  []string
		pipeline string
	}{
		{"empty", nil, contentPipeline},
		{"one file", []string{"a.css"}, contentPipeline},
		{"nested", []string{"css/a.css", "css/b.css", "js/app.js", "img/", "index.html"}, contentPipeline},
		{"dot before slash", []string{"a.c", "a/b", "a-b", "a0", "A", "b"}, contentPipeline},
		{"hidden skipped", []string{"a.css", ".env", ".git/HEAD", "css/.cache/x", "css/.b.css", "css/a.css"}, contentPipeline},
		{"empty file", []string{"empty="}, contentPipeline},
		{"spaces and unicode", []string{"a b.css", "  lead", "trail ", "ünï/cödé.js", "日本.txt", "tab\tname"}, contentPipeline},
		{"backslash", []string{`a\b.css`, `c\\d`}, contentPipeline},
		{"newline and carriage return", []string{"a\nb.css", "c\rd", "e\\\nf", "plain"}, contentPipeline0},
		{"stamp link", []string{"css/a.css", "v1 -> .", "css/up -> ..", "file-link -> css/a.css", "dangling -> nowhere"}, contentPipeline},
		{"link loop", []string{"a.css", "loop/self -> .", "x -> y", "y -> x"}, contentPipeline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, afero.NewOsFs(), dir, tt.entries...)
			want := pipeline(t, dir, tt.pipeline, "find", "sort", "xargs", "sha256sum", "cut")

			snap := scan(t, afero.NewOsFs(), dir, nil)
			assert.Equal(t, want, snap.Stamp())
			assert.Equal(t, stampfs.Content, snap.Strategy())

			mem := vfstest.NewMemFS()
			makeTree(t, mem, "/site/static", tt.entries...)
			memSnap := scan(t, mem, "/site/static", nil)
			assert.Equal(t, want, memSnap.Stamp(), "vfstest.MemFS")
			assert.Equal(t, names(snap), names(memSnap), "vfstest.MemFS")
		})
	}
}

func TestScanContentEmptyDir(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "img/", ".hidden")
	snap := scan(t, fsys, "static", nil)
	assert.Equal(t, emptyStamp, snap.Stamp())
	assert.Empty(t, snap.Files())
}

func TestScanContentTable(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "/site/static", "a/b=bb", "a.c=c", "css/site.css=body{}", ".git/HEAD", "a/.x=hidden", "empty=")
	snap := scan(t, fsys, "/site/static", nil)

	files := snap.Files()
	require.Len(t, files, 4)
	want := []struct {
		name, content string
	}{{"a.c", "c"}, {"a/b", "bb"}, {"css/site.css", "body{}"}, {"empty", ""}}
	for i, w := range want {
		assert.Equal(t, w.name, files[i].Name)
		assert.Equal(t, int64(len(w.content)), files[i].Size, w.name)
		assert.Equal(t, sha256.Sum256([]byte(w.content)), files[i].SHA256, w.name)
		assert.False(t, files[i].ModTime.IsZero(), w.name)
	}
}

func TestScanContentSameOnEveryCopy(t *testing.T) {
	entries := []string{"css/a.css", "css/b.css", "js/app.js", "a.c", "a/b", "img/logo.svg=<svg/>"}

	osDir := t.TempDir()
	makeTree(t, afero.NewOsFs(), osDir, entries...)
	want := scan(t, afero.NewOsFs(), osDir, nil).Stamp()

	t.Run("other mtimes", func(t *testing.T) {
		dir := t.TempDir()
		makeTree(t, afero.NewOsFs(), dir, entries...)
		old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		for _, name := range []string{"css/a.css", "js/app.js", "img/logo.svg"} {
			require.NoError(t, os.Chtimes(filepath.Join(dir, name), old, old))
		}
		assert.Equal(t, want, scan(t, afero.NewOsFs(), dir, nil).Stamp())
	})
	t.Run("MemMapFs", func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		makeTree(t, fsys, "static", entries...)
		assert.Equal(t, want, scan(t, fsys, "static", nil).Stamp())
	})
	t.Run("BasePathFs", func(t *testing.T) {
		fsys := afero.NewBasePathFs(afero.NewOsFs(), filepath.Dir(osDir))
		assert.Equal(t, want, scan(t, fsys, filepath.Base(osDir), nil).Stamp())
	})
	t.Run("ReadOnlyFs", func(t *testing.T) {
		fsys := afero.NewReadOnlyFs(afero.NewOsFs())
		assert.Equal(t, want, scan(t, fsys, osDir, nil).Stamp())
	})
	t.Run("trailing slash", func(t *testing.T) {
		assert.Equal(t, want, scan(t, afero.NewOsFs(), osDir+"/", nil).Stamp())
	})
}

func TestScanContentChanges(t *testing.T) {
	base := []string{"css/a.css=body{}", "js/app.js=let x", "index.html=<p>"}
	baseStamp := func() string {
		fsys := afero.NewMemMapFs()
		makeTree(t, fsys, "static", base...)
		return scan(t, fsys, "static", nil).Stamp()
	}()

	tests := []struct {
		name    string
		entries []string
		same    bool
	}{
		{"one byte", []string{"css/a.css=body{ }", "js/app.js=let x", "index.html=<p>"}, false},
		{"one byte same size", []string{"css/a.css=body{]", "js/app.js=let x", "index.html=<p>"}, false},
		{"one name", []string{"css/b.css=body{}", "js/app.js=let x", "index.html=<p>"}, false},
		{"moved to another directory", []string{"a.css=body{}", "js/app.js=let x", "index.html=<p>"}, false},
		{"one file more", append([]string{"robots.txt="}, base...), false},
		{"one file less", base[:2], false},
		{"empty directory more", append([]string{"img/"}, base...), true},
		{"hidden file more", append([]string{".DS_Store", "css/.a.css.swp"}, base...), true},
		{"hidden directory more", append([]string{".git/HEAD", "js/.cache/x"}, base...), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			makeTree(t, fsys, "static", tt.entries...)
			got := scan(t, fsys, "static", nil).Stamp()
			if tt.same {
				assert.Equal(t, baseStamp, got)
			} else {
				assert.NotEqual(t, baseStamp, got)
			}
		})
	}
}

func TestScanSymlinksNotFollowed(t *testing.T) {
	dir := t.TempDir()
	fsys := afero.NewOsFs()
	makeTree(t, fsys, dir, "css/a.css", "index.html")
	before := scan(t, fsys, dir, nil)

	outside := t.TempDir()
	makeTree(t, fsys, outside, "secret.txt")
	makeTree(t, fsys, dir,
		before.Stamp()+" -> .",
		"css/loop -> ..",
		"self -> self",
		"a -> b", "b -> a",
		"index-link.html -> index.html",
		"out -> "+outside,
		"secret.txt -> "+filepath.Join(outside, "secret.txt"),
	)
	after := scan(t, fsys, dir, nil)
	assert.Equal(t, before.Stamp(), after.Stamp())
	assert.Equal(t, []string{"css/a.css", "index.html"}, names(after))
}

func TestScanLinkedDirectoryIsFollowed(t *testing.T) {
	// The directory given may itself be a link, as in releases/current -> v7.
	root := t.TempDir()
	fsys := afero.NewOsFs()
	makeTree(t, fsys, root, "releases/v7/app.js", "current -> releases/v7")
	snap := scan(t, fsys, filepath.Join(root, "current"), nil)
	assert.Equal(t, []string{"app.js"}, names(snap))
	assert.Equal(t, scan(t, fsys, filepath.Join(root, "releases/v7"), nil).Stamp(), snap.Stamp())
}

func TestScanHashOption(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "a.css=body{}")
	tests := []struct {
		name   string
		opts   *stampfs.ScanOptions
		hashed bool
	}{
		{"nil options", nil, true},
		{"content", &stampfs.ScanOptions{Strategy: stampfs.Content}, true},
		{"mtime", &stampfs.ScanOptions{Strategy: stampfs.Mtime}, false},
		{"mtime with Hash", &stampfs.ScanOptions{Strategy: stampfs.Mtime, Hash: true}, true},
		{"fixed", &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"}, false},
		{"fixed with Hash", &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1", Hash: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := scan(t, fsys, "static", tt.opts).Lookup("a.css")
			require.True(t, ok)
			assert.Equal(t, int64(6), f.Size)
			if tt.hashed {
				assert.Equal(t, sha256.Sum256([]byte("body{}")), f.SHA256)
			} else {
				assert.Zero(t, f.SHA256)
			}
		})
	}
}

func TestSnapshotLookupAndFiles(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "a.c", "a/b", "css/a.css", ".env")
	snap := scan(t, fsys, "static", nil)

	for _, name := range []string{"a.c", "a/b", "css/a.css"} {
		f, ok := snap.Lookup(name)
		assert.Truef(t, ok, "Lookup(%q)", name)
		assert.Equal(t, name, f.Name)
	}
	for _, name := range []string{"", ".", "a", "css", "css/", "/css/a.css", "./css/a.css", "css//a.css", ".env", "CSS/a.css", "css/a.css/"} {
		_, ok := snap.Lookup(name)
		assert.Falsef(t, ok, "Lookup(%q)", name)
	}

	files := snap.Files()
	assert.Equal(t, []string{"a.c", "a/b", "css/a.css"}, names(snap))
	files[0].Name = "changed"
	files[1].SHA256[0] ^= 0xff
	assert.Equal(t, []string{"a.c", "a/b", "css/a.css"}, names(snap), "Files must return a copy")
	f, _ := snap.Lookup("a/b")
	assert.Equal(t, sha256.Sum256([]byte("a/b\n")), f.SHA256)
}

// faulty returns a FaultFS over fsys that fails the calls rules choose.
func faulty(fsys afero.Fs, rules ...vfstest.Rule) afero.Fs {
	f := vfstest.NewFaultFS(fsys)
	for _, r := range rules {
		f.Inject(r)
	}
	return f
}

func TestScanBadInput(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "static", "css/a.css", "js/app.js", "index.html")
	a := filepath.Join("static", "css", "a.css")
	js := filepath.Join("static", "js")
	eacces := func(op vfstest.Op, path string) vfstest.Rule {
		return vfstest.Rule{Op: op, Path: path, Err: syscall.EACCES}
	}
	hashed := &stampfs.ScanOptions{Strategy: stampfs.Mtime, Hash: true}
	mtime := &stampfs.ScanOptions{Strategy: stampfs.Mtime}

	tests := []struct {
		name     string
		fsys     afero.Fs
		dir      string
		opts     *stampfs.ScanOptions
		is       error
		path     string // the *fs.PathError's Path, if one is expected
		contains string
	}{
		{name: "missing dir", fsys: mem, dir: "nope", is: fs.ErrNotExist, path: "nope"},
		{name: "empty dir name", fsys: mem, dir: "", is: fs.ErrNotExist, contains: "empty directory name"},
		{name: "empty dir name on the OS", fsys: afero.NewOsFs(), dir: "", is: fs.ErrNotExist, contains: "empty directory name"},
		{name: "missing parent", fsys: mem, dir: "nope/static", is: fs.ErrNotExist, path: "nope/static"},
		{name: "file as dir", fsys: mem, dir: "static/index.html", is: syscall.ENOTDIR, path: "static/index.html", contains: "scan static/index.html: not a directory"},
		{name: "unreadable dir", fsys: faulty(mem, eacces(vfstest.OpOpen, "static")), dir: "static", is: fs.ErrPermission, path: "static"},
		{name: "dir fails to stat", fsys: faulty(mem, eacces(vfstest.OpStat, "static")), dir: "static", is: fs.ErrPermission, path: "static"},
		{name: "unopenable file", fsys: faulty(mem, eacces(vfstest.OpOpen, a)), dir: "static", is: fs.ErrPermission, path: a, contains: "open " + a + ": permission denied"},
		{name: "file read fails", fsys: faulty(mem, vfstest.Rule{Op: vfstest.OpRead, Path: a, Err: syscall.EIO}), dir: "static", is: syscall.EIO, path: a, contains: "read " + a + ": input/output error"},
		{name: "file read fails on the second read", fsys: faulty(mem, vfstest.Rule{Op: vfstest.OpRead, Path: a, Nth: 2, Err: syscall.EIO}), dir: "static", is: syscall.EIO, path: a},
		{name: "file lstat fails", fsys: faulty(mem, eacces(vfstest.OpLstat, a)), dir: "static", is: fs.ErrPermission, path: a, contains: "lstat " + a},
		{name: "unopenable subdirectory", fsys: faulty(mem, eacces(vfstest.OpOpen, js)), dir: "static", is: fs.ErrPermission, path: js},
		{name: "unopenable subdirectory, mtime", fsys: faulty(mem, eacces(vfstest.OpOpen, js)), dir: "static", opts: mtime, is: fs.ErrPermission, path: js},
		{name: "unlistable subdirectory", fsys: faulty(mem, eacces(vfstest.OpReadDir, js)), dir: "static", is: fs.ErrPermission, path: js, contains: "readdirent " + js},
		{
			// Each directory's entries are lstat'ed before its subdirectories
			// are entered, the order both walks place their errors in.
			name: "several fail: entries before subdirectories",
			fsys: faulty(mem, eacces(vfstest.OpOpen, filepath.Join("static", "css")), vfstest.Rule{Op: vfstest.OpLstat, Path: filepath.Join("static", "index.html"), Err: syscall.EIO}),
			dir:  "static", is: syscall.EIO, path: filepath.Join("static", "index.html"),
		},
		{name: "unreadable file, mtime with Hash", fsys: faulty(mem, eacces(vfstest.OpOpen, a)), dir: "static", opts: hashed, is: fs.ErrPermission, path: a},
		{name: "unknown strategy", fsys: mem, dir: "static", opts: &stampfs.ScanOptions{Strategy: "sha1"}, is: stampfs.ErrBadStamp, contains: `unknown strategy "sha1"`},
		{name: "fixed without version", fsys: mem, dir: "static", opts: &stampfs.ScanOptions{Strategy: stampfs.Fixed}, is: stampfs.ErrBadStamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := stampfs.Scan(tt.fsys, tt.dir, tt.opts)
			require.Error(t, err)
			assert.Nil(t, snap)
			assert.ErrorIs(t, err, tt.is)
			if tt.path != "" {
				var pe *fs.PathError
				if assert.ErrorAs(t, err, &pe) {
					assert.Equal(t, tt.path, pe.Path)
					assert.False(t, errors.As(pe.Err, new(*fs.PathError)), "PathError in a PathError: %v", err)
				}
			}
			if tt.contains != "" {
				assert.ErrorContains(t, err, tt.contains)
			}
		})
	}
}

// slowFS delays every Read of the file named slow.
type slowFS struct {
	afero.Fs
	slow  string
	delay time.Duration
}

func (s slowFS) Open(name string) (afero.File, error) {
	f, err := s.Fs.Open(name)
	if err != nil || name != s.slow {
		return f, err
	}
	return slowFile{f, s.delay}, nil
}

func (s slowFS) LstatIfPossible(name string) (fs.FileInfo, bool, error) {
	return s.Fs.(afero.Lstater).LstatIfPossible(name)
}

type slowFile struct {
	afero.File
	delay time.Duration
}

func (f slowFile) Read(p []byte) (int, error) {
	time.Sleep(f.delay)
	return f.File.Read(p)
}

func TestScanFirstFailingFileWins(t *testing.T) {
	// Whatever order the hashing workers finish in, the error names the first
	// failing file in Name order: here f020 fails late, after f150 failed.
	mem := afero.NewMemMapFs()
	var entries []string
	for i := range 200 {
		entries = append(entries, fmt.Sprintf("f%03d", i))
	}
	makeTree(t, mem, "static", entries...)
	f020 := filepath.Join("static", "f020")
	fsys := slowFS{
		Fs: faulty(mem,
			vfstest.Rule{Op: vfstest.OpRead, Path: f020, Err: syscall.EACCES},
			vfstest.Rule{Op: vfstest.OpRead, Path: filepath.Join("static", "f150"), Err: syscall.EIO},
			vfstest.Rule{Op: vfstest.OpRead, Path: filepath.Join("static", "f199"), Err: syscall.EIO},
		),
		slow:  f020,
		delay: 20 * time.Millisecond,
	}
	_, err := stampfs.Scan(fsys, "static", nil)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, f020, pe.Path)
	assert.ErrorIs(t, err, fs.ErrPermission)
}

func TestScanBadInputOS(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, afero.NewOsFs(), dir, "a.css")

	_, err := stampfs.Scan(afero.NewOsFs(), filepath.Join(dir, "missing"), nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = stampfs.Scan(afero.NewOsFs(), filepath.Join(dir, "a.css"), nil)
	assert.ErrorIs(t, err, syscall.ENOTDIR)
	assert.EqualError(t, err, "scan "+filepath.Join(dir, "a.css")+": not a directory")
}

func TestScanFixed(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "a.css", ".env")
	for _, version := range []string{"v1.2.3", "1542798662", "build_7-rc.1", strings.Repeat("a", 64)} {
		t.Run(version, func(t *testing.T) {
			snap := scan(t, fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: version})
			assert.Equal(t, version, snap.Stamp())
			assert.Equal(t, stampfs.Fixed, snap.Strategy())
			assert.Equal(t, []string{"a.css"}, names(snap))
		})
	}
}

func TestScanFixedBadVersion(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "a.css")
	for _, version := range []string{"", ".", "..", ".v1", "v1/v2", `v1\v2`, "v 1", "vé", "v1?", "v1%2f", strings.Repeat("a", 65)} {
		t.Run(version, func(t *testing.T) {
			snap, err := stampfs.Scan(fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: version})
			assert.ErrorIs(t, err, stampfs.ErrBadStamp)
			assert.ErrorContains(t, err, strconv.Quote(version))
			assert.Nil(t, snap)
		})
	}
}

// TestScanVersionNeedsFixed: a Version with another strategy is an error,
// not silently ignored.
func TestScanVersionNeedsFixed(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "a.css")
	for _, s := range []stampfs.Strategy{"", stampfs.Content, stampfs.Mtime, stampfs.Git} {
		_, err := stampfs.Scan(fsys, "static", &stampfs.ScanOptions{Strategy: s, Version: "v1"})
		require.ErrorIs(t, err, stampfs.ErrBadStamp, "strategy %q", s)
		assert.ErrorIs(t, err, fs.ErrInvalid)
		assert.ErrorContains(t, err, `ScanOptions.Version "v1" is for the Fixed strategy`)
	}
}

func TestScanUnreadableOS(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode; TestScanBadInput covers these errors through vfstest.FaultFS")
	}
	tests := []struct {
		name  string
		chmod string // made mode 000
		opts  *stampfs.ScanOptions
		op    string
	}{
		{"file, content", "css/a.css", nil, "open"},
		{"subdirectory, content", "js", nil, "open"},
		{"subdirectory, mtime", "js", &stampfs.ScanOptions{Strategy: stampfs.Mtime}, "open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, afero.NewOsFs(), dir, "css/a.css", "js/app.js")
			path := filepath.Join(dir, filepath.FromSlash(tt.chmod))
			require.NoError(t, os.Chmod(path, 0))
			t.Cleanup(func() { os.Chmod(path, 0o755) })

			_, err := stampfs.Scan(afero.NewOsFs(), dir, tt.opts)
			assert.ErrorIs(t, err, fs.ErrPermission)
			var pe *fs.PathError
			if assert.ErrorAs(t, err, &pe) {
				assert.Equal(t, path, pe.Path)
				assert.Equal(t, tt.op, pe.Op)
			}
		})
	}
}

func TestScanDotSegmentsInDirItself(t *testing.T) {
	// Only paths below dir are tested for dot segments.
	fsys := vfstest.NewMemFS()
	makeTree(t, fsys, "/home/u/.local/share/site/static", "a.css", ".b.css")
	for _, dir := range []string{"/home/u/.local/share/site/static", "/home/u/.local/share/site/static/../static", "/home/u/.local/share/site/static/."} {
		assert.Equal(t, []string{"a.css"}, names(scan(t, fsys, dir, nil)), dir)
	}
}

// growFS reports every file 1000 bytes larger in Lstat than it is, as if it
// grew between the listing and the read.
type growFS struct{ afero.Fs }

func (g growFS) LstatIfPossible(name string) (fs.FileInfo, bool, error) {
	info, ok, err := g.Fs.(afero.Lstater).LstatIfPossible(name)
	if err != nil || info.IsDir() {
		return info, ok, err
	}
	return grownInfo{info}, ok, nil
}

type grownInfo struct{ fs.FileInfo }

func (i grownInfo) Size() int64 { return i.FileInfo.Size() + 1000 }

func TestScanSizeIsWhatWasHashed(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "static", "a.css=body{}")
	tests := []struct {
		name string
		opts *stampfs.ScanOptions
		size int64
	}{
		{"content: the bytes hashed", nil, 6},
		{"mtime with Hash: the bytes hashed", &stampfs.ScanOptions{Strategy: stampfs.Mtime, Hash: true}, 6},
		{"mtime: what Lstat said", &stampfs.ScanOptions{Strategy: stampfs.Mtime}, 1006},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := scan(t, growFS{mem}, "static", tt.opts).Lookup("a.css")
			require.True(t, ok)
			assert.Equal(t, tt.size, f.Size)
		})
	}
}
