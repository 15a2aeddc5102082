package stampfs_test

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
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
// the trailing newline, skipping the test when a tool it names is missing.
func pipeline(t *testing.T, dir, cmdline string, tools ...string) string {
	t.Helper()
	for _, tool := range append([]string{"bash"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
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

func TestScanSkipsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, afero.NewOsFs(), dir, "a.css")
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	snap := scan(t, afero.NewOsFs(), dir, nil)
	assert.Equal(t, []string{"a.css"}, names(snap))
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

// faultFS fails Open of one path with err.
type faultFS struct {
	afero.Fs
	path string
	err  error
}

func (f faultFS) Open(name string) (afero.File, error) {
	if name == f.path {
		return nil, &fs.PathError{Op: "open", Path: name, Err: f.err}
	}
	return f.Fs.Open(name)
}

func (f faultFS) LstatIfPossible(name string) (fs.FileInfo, bool, error) {
	return f.Fs.(afero.Lstater).LstatIfPossible(name)
}

func TestScanBadInput(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "static", "css/a.css", "js/app.js", "index.html")

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
		{name: "file as dir", fsys: mem, dir: "static/index.html", is: syscall.ENOTDIR, path: "static/index.html", contains: "not a directory"},
		{
			name: "unreadable file", dir: "static", is: fs.ErrPermission, path: filepath.Join("static", "css", "a.css"),
			fsys: faultFS{mem, filepath.Join("static", "css", "a.css"), syscall.EACCES},
		},
		{
			name: "unreadable subdirectory", dir: "static", is: fs.ErrPermission, path: filepath.Join("static", "js"),
			fsys: faultFS{mem, filepath.Join("static", "js"), syscall.EACCES},
		},
		{
			name: "unreadable dir", dir: "static", is: fs.ErrPermission, path: "static",
			fsys: faultFS{mem, "static", syscall.EACCES},
		},
		{
			name: "unreadable file, mtime strategy with Hash", dir: "static", is: fs.ErrPermission, path: filepath.Join("static", "index.html"),
			fsys: faultFS{mem, filepath.Join("static", "index.html"), syscall.EACCES},
			opts: &stampfs.ScanOptions{Strategy: stampfs.Mtime, Hash: true},
		},
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

func TestScanBadInputOS(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, afero.NewOsFs(), dir, "a.css")

	_, err := stampfs.Scan(afero.NewOsFs(), filepath.Join(dir, "missing"), nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = stampfs.Scan(afero.NewOsFs(), filepath.Join(dir, "a.css"), nil)
	assert.ErrorIs(t, err, syscall.ENOTDIR)
	assert.EqualError(t, err, "scan "+filepath.Join(dir, "a.css")+": not a directory")
}
