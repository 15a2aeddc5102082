package vfstest_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/internal/fstree"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// makeFS builds a file system from the makeTree syntax ("css/a.css" a file,
// "img/" a directory, "v1 => ." a symbolic link), each file holding its own
// name, so that listTree shows where every byte came from.
func makeFS(t *testing.T, fsys afero.Fs, specs ...string) {
	t.Helper()
	fstree.Build(t, fsys, func(name string) []byte { return []byte(name) }, specs...)
}

// newMemFS returns a MemFS holding specs (see makeFS).
func newMemFS(t *testing.T, specs ...string) *vfstest.MemFS {
	t.Helper()
	m := vfstest.NewMemFS()
	makeFS(t, m, specs...)
	return m
}

// listTree describes every entry under root in the makeFS syntax, sorted,
// with a file's content after a colon: "a.txt:hello", "d/", "v1 => .".
func listTree(t *testing.T, fsys afero.Fs, root string) []string {
	t.Helper()
	var out []string
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		f, err := fsys.Open(dir)
		require.NoError(t, err)
		infos, err := f.Readdir(-1)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		for _, fi := range infos {
			name, full := rel+fi.Name(), dir+"/"+fi.Name()
			switch fi.Mode().Type() {
			case fs.ModeSymlink:
				target, err := fsys.(afero.LinkReader).ReadlinkIfPossible(full)
				require.NoError(t, err)
				out = append(out, name+" => "+target)
			case fs.ModeDir:
				out = append(out, name+"/")
				walk(full, name+"/")
			default:
				data, err := afero.ReadFile(fsys, full)
				require.NoError(t, err)
				out = append(out, name+":"+string(data))
			}
		}
	}
	walk(root, "")
	slices.Sort(out)
	return out
}

// errno returns the syscall.Errno err wraps, or 0.
func errno(err error) syscall.Errno {
	var e syscall.Errno
	errors.As(err, &e)
	return e
}

func TestMemFSPathNames(t *testing.T) {
	m := newMemFS(t, "a/b.txt")
	for _, name := range []string{"a/b.txt", "/a/b.txt", "./a/b.txt", "a//b.txt", "a/x/../b.txt", "/../a/b.txt", "a/b.txt/"} {
		t.Run(name, func(t *testing.T) {
			data, err := afero.ReadFile(m, name)
			require.NoError(t, err)
			assert.Equal(t, "a/b.txt", string(data))
			fi, err := m.Stat(name)
			require.NoError(t, err)
			assert.Equal(t, "b.txt", fi.Name())
		})
	}
	fi, err := m.Stat("/")
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, "/", fi.Name())

	_, err = m.Stat("")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = m.Stat("a\x00")
	assert.Equal(t, syscall.EINVAL, errno(err))
	_, err = m.Stat(strings.Repeat("x", 256))
	assert.Equal(t, syscall.ENAMETOOLONG, errno(err))
}

func TestMemFSZeroValue(t *testing.T) {
	var m vfstest.MemFS
	require.NoError(t, afero.WriteFile(&m, "a", []byte("x"), 0o644))
	assert.Equal(t, []string{"a:x"}, listTree(t, &m, "/"))
}

func TestMemFSOpenFile(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		flag  int
		errno syscall.Errno
		tree  []string // after a write of "W" through the handle
	}{
		{"read", "f", os.O_RDONLY, 0, []string{"d/", "dangling => nowhere", "f:f", "lf => f"}},
		{"missing", "x", os.O_RDONLY, syscall.ENOENT, nil},
		{"create", "x", os.O_WRONLY | os.O_CREATE, 0, []string{"d/", "dangling => nowhere", "f:f", "lf => f", "x:W"}},
		{"create in missing dir", "no/x", os.O_WRONLY | os.O_CREATE, syscall.ENOENT, nil},
		{"create under a file", "f/x", os.O_WRONLY | os.O_CREATE, syscall.ENOTDIR, nil},
		{"excl existing", "f", os.O_WRONLY | os.O_CREATE | os.O_EXCL, syscall.EEXIST, nil},
		{"excl dangling link", "dangling", os.O_WRONLY | os.O_CREATE | os.O_EXCL, syscall.EEXIST, nil},
		{"create through dangling link", "dangling", os.O_WRONLY | os.O_CREATE, 0, []string{"d/", "dangling => nowhere", "f:f", "lf => f", "nowhere:W"}},
		{"overwrite", "f", os.O_WRONLY, 0, []string{"d/", "dangling => nowhere", "f:W", "lf => f"}},
		{"trunc", "f", os.O_WRONLY | os.O_TRUNC, 0, []string{"d/", "dangling => nowhere", "f:W", "lf => f"}},
		{"append", "f", os.O_WRONLY | os.O_APPEND, 0, []string{"d/", "dangling => nowhere", "f:fW", "lf => f"}},
		{"append through link", "lf", os.O_WRONLY | os.O_APPEND, 0, []string{"d/", "dangling => nowhere", "f:fW", "lf => f"}},
		{"dir for writing", "d", os.O_WRONLY, syscall.EISDIR, nil},
		{"dir with create", "d", os.O_RDONLY | os.O_CREATE, syscall.EISDIR, nil},
		{"dir with trunc", "d", os.O_RDONLY | os.O_TRUNC, syscall.EISDIR, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS(t, "f", "d/", "lf => f", "dangling => nowhere")
			f, err := m.OpenFile(tt.path, tt.flag, 0o644)
			if tt.errno != 0 {
				assert.Equal(t, tt.errno, errno(err), "%v", err)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "open", pe.Op)
				assert.Equal(t, tt.path, pe.Path)
				assert.Equal(t, []string{"d/", "dangling => nowhere", "f:f", "lf => f"}, listTree(t, m, "/"), "nothing changed")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.path, f.Name())
			if tt.flag&(os.O_WRONLY|os.O_RDWR) != 0 {
				_, err = f.WriteString("W")
				require.NoError(t, err)
			}
			require.NoError(t, f.Close())
			if tt.tree != nil {
				assert.Equal(t, tt.tree, listTree(t, m, "/"))
			}
		})
	}
}

func TestMemFSMkdir(t *testing.T) {
	m := newMemFS(t, "f", "d/", "dangling => nowhere")
	require.NoError(t, m.Mkdir("d/e", 0o750))
	fi, err := m.Stat("d/e")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeDir|0o750, fi.Mode(), "no umask applies")

	assert.ErrorIs(t, m.Mkdir("d", 0o755), fs.ErrExist)
	assert.ErrorIs(t, m.Mkdir("f", 0o755), fs.ErrExist)
	assert.ErrorIs(t, m.Mkdir("dangling", 0o755), fs.ErrExist)
	assert.ErrorIs(t, m.Mkdir("/", 0o755), fs.ErrExist)
	assert.ErrorIs(t, m.Mkdir("no/x", 0o755), fs.ErrNotExist)
	assert.Equal(t, syscall.ENOTDIR, errno(m.Mkdir("f/x", 0o755)))

	require.NoError(t, m.MkdirAll("d/x/y/z", 0o755))
	require.NoError(t, m.MkdirAll("d/x/y/z", 0o755), "existing directory")
	require.NoError(t, m.MkdirAll("/", 0o755))
	err = m.MkdirAll("f/x", 0o755)
	assert.Equal(t, syscall.ENOTDIR, errno(err))
	assert.EqualError(t, err, "mkdir f: not a directory", "names the prefix that failed, as os.MkdirAll")
	assert.EqualError(t, m.MkdirAll("/f/x", 0o755), "mkdir /f: not a directory")
	assert.Equal(t, syscall.ENOTDIR, errno(m.MkdirAll("f", 0o755)))
	assert.ErrorIs(t, m.MkdirAll("dangling/x", 0o755), fs.ErrExist)
	assert.Equal(t, []string{"d/", "d/e/", "d/x/", "d/x/y/", "d/x/y/z/", "dangling => nowhere", "f:f"}, listTree(t, m, "/"))

	// MkdirAll follows links to directories.
	makeFS(t, m, "ld => d")
	require.NoError(t, m.MkdirAll("ld/new/deeper", 0o755))
	assert.Contains(t, listTree(t, m, "/"), "d/new/deeper/")
}

func TestMemFSRemove(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		errno syscall.Errno
		tree  []string
	}{
		{"file", "f", 0, []string{"d/", "d/g:d/g", "e/", "ld => d"}},
		{"empty dir", "e", 0, []string{"d/", "d/g:d/g", "f:f", "ld => d"}},
		{"link, not its target", "ld", 0, []string{"d/", "d/g:d/g", "e/", "f:f"}},
		{"through a link", "ld/g", 0, []string{"d/", "e/", "f:f", "ld => d"}},
		{"non-empty dir", "d", syscall.ENOTEMPTY, nil},
		{"missing", "x", syscall.ENOENT, nil},
		{"under a file", "f/x", syscall.ENOTDIR, nil},
		{"root", "/", syscall.EBUSY, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS(t, "f", "d/g", "e/", "ld => d")
			err := m.Remove(tt.path)
			if tt.errno != 0 {
				assert.Equal(t, tt.errno, errno(err), "%v", err)
				assert.Equal(t, []string{"d/", "d/g:d/g", "e/", "f:f", "ld => d"}, listTree(t, m, "/"))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.tree, listTree(t, m, "/"))
		})
	}
}

func TestMemFSRemoveAll(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		errno syscall.Errno
		tree  []string
	}{
		{"tree", "d", 0, []string{"f:f", "ld => d", "out/", "out/keep:out/keep"}},
		{"does not follow links", "d/lout", 0, []string{"d/", "d/g:d/g", "d/sub/", "d/sub/h:d/sub/h", "f:f", "ld => d", "out/", "out/keep:out/keep"}},
		{"missing", "x", 0, []string{"d/", "d/g:d/g", "d/lout => ../out", "d/sub/", "d/sub/h:d/sub/h", "f:f", "ld => d", "out/", "out/keep:out/keep"}},
		{"missing parent", "x/y", 0, []string{"d/", "d/g:d/g", "d/lout => ../out", "d/sub/", "d/sub/h:d/sub/h", "f:f", "ld => d", "out/", "out/keep:out/keep"}},
		{"under a file", "f/x", syscall.ENOTDIR, []string{"d/", "d/g:d/g", "d/lout => ../out", "d/sub/", "d/sub/h:d/sub/h", "f:f", "ld => d", "out/", "out/keep:out/keep"}},
		{"root", "/", syscall.EBUSY, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS(t, "f", "d/g", "d/sub/h", "d/lout => ../out", "out/keep", "ld => d")
			err := m.RemoveAll(tt.path)
			assert.Equal(t, tt.errno, errno(err), "%v", err)
			assert.Equal(t, tt.tree, listTree(t, m, "/"))
		})
	}
}

func TestMemFSRename(t *testing.T) {
	start := []string{"f", "g", "d/x", "e/", "lf => f", "lg => g", "ld => d"}
	tests := []struct {
		name     string
		old, new string
		errno    syscall.Errno
		tree     []string
	}{
		{"file to new name", "f", "h", 0, []string{"d/", "d/x:d/x", "e/", "g:g", "h:f", "ld => d", "lf => f", "lg => g"}},
		{"file over file", "f", "g", 0, []string{"d/", "d/x:d/x", "e/", "g:f", "ld => d", "lf => f", "lg => g"}},
		{"link over link", "lg", "lf", 0, []string{"d/", "d/x:d/x", "e/", "f:f", "g:g", "ld => d", "lf => g"}},
		{"file into dir through link", "f", "ld/f", 0, []string{"d/", "d/f:f", "d/x:d/x", "e/", "g:g", "ld => d", "lf => f", "lg => g"}},
		{"dir to new name", "d", "n", 0, []string{"e/", "f:f", "g:g", "ld => d", "lf => f", "lg => g", "n/", "n/x:d/x"}},
		{"link to dir over link", "ld", "lf", 0, []string{"d/", "d/x:d/x", "e/", "f:f", "g:g", "lf => d", "lg => g"}},
		{"same file", "f", "f", 0, []string{"d/", "d/x:d/x", "e/", "f:f", "g:g", "ld => d", "lf => f", "lg => g"}},
		{"missing source", "nope", "h", syscall.ENOENT, nil},
		{"missing target dir", "f", "no/h", syscall.ENOENT, nil},
		{"dir over empty dir, as os.Rename", "d", "e", syscall.EEXIST, nil},
		{"dir over non-empty dir", "e", "d", syscall.EEXIST, nil},
		{"dir onto itself, spelled alike, as os.Rename", "d", "d", syscall.EEXIST, nil},
		{"dir onto itself spelled with ./", "d", "./d", 0, []string{"d/", "d/x:d/x", "e/", "f:f", "g:g", "ld => d", "lf => f", "lg => g"}},
		{"dir onto itself spelled with /", "d", "d/", 0, []string{"d/", "d/x:d/x", "e/", "f:f", "g:g", "ld => d", "lf => f", "lg => g"}},
		{"dir onto itself, absolute names", "/d", "/./d", 0, []string{"d/", "d/x:d/x", "e/", "f:f", "g:g", "ld => d", "lf => f", "lg => g"}},
		{"dir over file", "e", "f", syscall.ENOTDIR, nil},
		{"dir over link", "e", "lf", syscall.ENOTDIR, nil},
		{"file over dir", "f", "e", syscall.EEXIST, nil},
		{"dir into itself", "d", "d/sub", syscall.EINVAL, nil},
		{"dir into itself through link", "d", "ld/sub", syscall.EINVAL, nil},
		{"onto own parent", "d/x", "d", syscall.EEXIST, nil},
		{"missing source onto dir", "nope", "d", syscall.ENOENT, nil},
		{"root", "/", "r", syscall.EBUSY, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS(t, start...)
			before := listTree(t, m, "/")
			err := m.Rename(tt.old, tt.new)
			if tt.errno != 0 {
				assert.Equal(t, tt.errno, errno(err), "%v", err)
				var le *os.LinkError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, "rename", le.Op)
				assert.Equal(t, []string{tt.old, tt.new}, []string{le.Old, le.New})
				assert.Equal(t, before, listTree(t, m, "/"), "nothing changed")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.tree, listTree(t, m, "/"))
		})
	}
}

func TestMemFSSymlinks(t *testing.T) {
	m := newMemFS(t,
		"static/app.js",
		"static/v1 => .",
		"static/abs => /static/app.js",
		"static/up => ../static",
		"static/sub/rel => ../app.js",
		"static/lsub => sub",
		"dangling => missing/file",
		"loop1 => loop2",
		"loop2 => loop1",
		"self => self",
	)
	for _, name := range []string{
		"static/v1/app.js", "static/v1/v1/v1/app.js", "static/abs", "static/up/app.js",
		"static/sub/rel", "static/lsub/rel", "static/lsub/../app.js",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := afero.ReadFile(m, name)
			require.NoError(t, err)
			assert.Equal(t, "static/app.js", string(data))
		})
	}

	// ".." in a target is physical: lsub/rel is sub/rel, whose "../app.js" is
	// static/app.js, not lsub/../app.js.
	target, err := m.ReadlinkIfPossible("static/lsub/rel")
	require.NoError(t, err)
	assert.Equal(t, "../app.js", target, "targets are stored verbatim")

	fi, err := m.Stat("static/v1")
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, "v1", fi.Name())
	fi, lstat, err := m.LstatIfPossible("static/v1")
	require.NoError(t, err)
	assert.True(t, lstat)
	assert.Equal(t, fs.ModeSymlink|0o777, fi.Mode())
	assert.Equal(t, int64(1), fi.Size(), "a link's size is its target's length")

	_, err = m.Stat("dangling")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, _, err = m.LstatIfPossible("dangling")
	assert.NoError(t, err)

	for _, name := range []string{"loop1", "self", "loop2/x"} {
		_, err = m.Stat(name)
		assert.Equal(t, syscall.ELOOP, errno(err), name)
		assert.NotErrorIs(t, err, fs.ErrNotExist, name)
		var pe *fs.PathError
		assert.ErrorAs(t, err, &pe)
	}

	// A target's trailing slash demands a directory; O_CREATE refuses it.
	makeFS(t, m, "slash => new/", "fileslash => static/app.js/")
	_, err = m.OpenFile("slash", os.O_WRONLY|os.O_CREATE, 0o644)
	assert.Equal(t, syscall.EISDIR, errno(err))
	_, err = m.Stat("slash")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = m.Stat("fileslash")
	assert.Equal(t, syscall.ENOTDIR, errno(err))

	_, err = m.ReadlinkIfPossible("static/app.js")
	assert.Equal(t, syscall.EINVAL, errno(err))
	_, err = m.ReadlinkIfPossible("nope")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	err = m.SymlinkIfPossible(".", "static/v1")
	assert.ErrorIs(t, err, fs.ErrExist)
	var le *os.LinkError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "symlink", le.Op)
	assert.ErrorIs(t, m.SymlinkIfPossible("", "empty"), fs.ErrNotExist)
	assert.ErrorIs(t, m.SymlinkIfPossible("x", "no/link"), fs.ErrNotExist)
}

func TestMemFSSymlinkHopLimit(t *testing.T) {
	// chain/0 -> 1 -> ... -> n, then a file: 40 links resolve, 41 do not.
	for _, tt := range []struct {
		links int
		errno syscall.Errno
	}{{40, 0}, {41, syscall.ELOOP}} {
		t.Run(fmt.Sprint(tt.links), func(t *testing.T) {
			m := newMemFS(t, fmt.Sprint(tt.links))
			for i := range tt.links {
				require.NoError(t, m.SymlinkIfPossible(fmt.Sprint(i+1), fmt.Sprint(i)))
			}
			_, err := m.Stat("0")
			assert.Equal(t, tt.errno, errno(err), "%v", err)
		})
	}
}

// clock is a settable time source for SetClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func TestMemFSTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &clock{t: t0}
	m := vfstest.NewMemFS()
	m.SetClock(c.now)
	require.NoError(t, m.MkdirAll("d/sub", 0o755))
	require.NoError(t, afero.WriteFile(m, "d/f", []byte("x"), 0o644))

	mtime := func(name string) time.Time {
		t.Helper()
		fi, err := m.Stat(name)
		require.NoError(t, err)
		return fi.ModTime()
	}
	assert.Equal(t, t0, mtime("d"))
	assert.Equal(t, t0, mtime("d/f"))

	steps := []struct {
		name    string
		do      func() error
		changed []string
	}{
		{"create", func() error { return afero.WriteFile(m, "d/g", nil, 0o644) }, []string{"d", "d/g"}},
		{"write", func() error { return afero.WriteFile(m, "d/f", []byte("y"), 0o644) }, []string{"d/f"}},
		{"symlink", func() error { return m.SymlinkIfPossible("f", "d/l") }, []string{"d"}},
		{"rename", func() error { return m.Rename("d/g", "d/sub/g") }, []string{"d", "d/sub"}},
		{"remove", func() error { return m.Remove("d/sub/g") }, []string{"d/sub"}},
		{"mkdir", func() error { return m.Mkdir("d/sub/e", 0o755) }, []string{"d/sub"}},
		{"removeall", func() error { return m.RemoveAll("d/sub/e") }, []string{"d/sub"}},
		{"chmod changes no mtime", func() error { return m.Chmod("d/f", 0o600) }, nil},
		{"open for reading", func() error { _, err := afero.ReadFile(m, "d/f"); return err }, nil},
	}
	for i, step := range steps {
		now := t0.Add(time.Duration(i+1) * time.Hour)
		c.set(now)
		before := map[string]time.Time{}
		for _, name := range []string{"d", "d/f", "d/sub", "d/g"} {
			if fi, err := m.Stat(name); err == nil {
				before[name] = fi.ModTime()
			}
		}
		require.NoError(t, step.do(), step.name)
		for _, name := range []string{"d", "d/f", "d/sub", "d/g"} {
			if _, err := m.Stat(name); err != nil {
				continue
			}
			if slices.Contains(step.changed, name) {
				assert.Equal(t, now, mtime(name), "%s: %s", step.name, name)
			} else {
				assert.Equal(t, before[name], mtime(name), "%s: %s", step.name, name)
			}
		}
	}

	at, mt := t0.Add(-time.Hour), t0.Add(-2*time.Hour)
	makeFS(t, m, "ldf => d/f")
	require.NoError(t, m.Chtimes("ldf", at, mt))
	assert.Equal(t, mt, mtime("d/f"), "Chtimes follows links")
	require.NoError(t, m.Chtimes("d/f", at, time.Time{}))
	assert.Equal(t, mt, mtime("d/f"), "a zero time is left alone")
	assert.ErrorIs(t, m.Chtimes("nope", at, mt), fs.ErrNotExist)

	m.SetClock(nil)
	require.NoError(t, afero.WriteFile(m, "d/f", []byte("z"), 0o644))
	assert.WithinDuration(t, time.Now(), mtime("d/f"), time.Minute, "nil clock is time.Now")
}

func TestMemFSChmodChown(t *testing.T) {
	m := newMemFS(t, "f", "d/", "lf => f", "ld => d")
	require.NoError(t, m.Chmod("lf", 0o600|fs.ModeSetuid|fs.ModeDir))
	require.NoError(t, m.Chmod("ld", 0o700|fs.ModeSticky))
	for name, want := range map[string]fs.FileMode{
		"f": 0o600 | fs.ModeSetuid,
		"d": fs.ModeDir | 0o700 | fs.ModeSticky,
	} {
		fi, err := m.Stat(name)
		require.NoError(t, err)
		assert.Equal(t, want, fi.Mode(), name)
	}
	fi, _, err := m.LstatIfPossible("lf")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSymlink|0o777, fi.Mode(), "the link keeps its mode")

	assert.ErrorIs(t, m.Chmod("nope", 0o644), fs.ErrNotExist)
	assert.NoError(t, m.Chown("lf", 1000, 1000))
	assert.ErrorIs(t, m.Chown("nope", 1000, 1000), fs.ErrNotExist)
	assert.Equal(t, "MemFS", m.Name())
}

func TestMemFSFileHandle(t *testing.T) {
	m := newMemFS(t, "d/b", "d/a", "d/c => b", "d/sub/")

	t.Run("ReadAt", func(t *testing.T) {
		require.NoError(t, afero.WriteFile(m, "f", []byte("hello"), 0o644))
		f, err := m.Open("f")
		require.NoError(t, err)
		defer f.Close()
		buf := make([]byte, 3)
		n, err := f.ReadAt(buf, 1)
		assert.NoError(t, err)
		assert.Equal(t, "ell", string(buf[:n]))
		n, err = f.ReadAt(buf, 3)
		assert.Equal(t, io.EOF, err, "a short read is exactly io.EOF")
		assert.Equal(t, "lo", string(buf[:n]))
		n, err = f.ReadAt(buf, 5)
		assert.Equal(t, io.EOF, err)
		assert.Zero(t, n)
		_, err = f.ReadAt(buf, -1)
		assert.Error(t, err)
	})

	t.Run("Read and Seek", func(t *testing.T) {
		f, err := m.Open("d/a")
		require.NoError(t, err)
		defer f.Close()
		data, err := io.ReadAll(f)
		require.NoError(t, err)
		assert.Equal(t, "d/a", string(data))
		n, err := f.Read(make([]byte, 1))
		assert.Equal(t, io.EOF, err)
		assert.Zero(t, n)
		pos, err := f.Seek(-1, io.SeekEnd)
		require.NoError(t, err)
		assert.Equal(t, int64(2), pos)
		data, err = io.ReadAll(f)
		require.NoError(t, err)
		assert.Equal(t, "a", string(data))
		_, err = f.Seek(-10, io.SeekCurrent)
		assert.Equal(t, syscall.EINVAL, errno(err))
		_, err = f.Seek(0, 7)
		assert.Equal(t, syscall.EINVAL, errno(err))
	})

	t.Run("Write, WriteAt, Truncate", func(t *testing.T) {
		f, err := m.Create("w")
		require.NoError(t, err)
		_, err = f.WriteString("abc")
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("Z"), 5)
		require.NoError(t, err)
		_, err = f.Write([]byte("d"))
		require.NoError(t, err)
		require.NoError(t, f.Sync())
		fi, err := f.Stat()
		require.NoError(t, err)
		assert.Equal(t, int64(6), fi.Size())
		require.NoError(t, f.Truncate(2))
		require.NoError(t, f.Truncate(4))
		buf := make([]byte, 4)
		_, err = f.ReadAt(buf, 0)
		require.NoError(t, err)
		assert.Equal(t, "ab\x00\x00", string(buf), "a file grown by Truncate reads as zeros")
		require.NoError(t, f.Truncate(2))
		_, err = f.WriteAt([]byte("x"), -1)
		assert.Error(t, err)
		assert.Error(t, f.Truncate(-1))
		require.NoError(t, f.Close())
		data, err := afero.ReadFile(m, "w")
		require.NoError(t, err)
		assert.Equal(t, "ab", string(data))

		f, err = m.OpenFile("w", os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("x"), 0)
		assert.Error(t, err, "WriteAt in append mode fails as with os.File")
		_, err = f.Seek(0, io.SeekStart)
		require.NoError(t, err)
		_, err = f.WriteString("c")
		require.NoError(t, err)
		_, err = f.Read(make([]byte, 1))
		assert.Equal(t, syscall.EBADF, errno(err), "reading a write-only handle")
		require.NoError(t, f.Close())
		data, err = afero.ReadFile(m, "w")
		require.NoError(t, err)
		assert.Equal(t, "abc", string(data))
	})

	t.Run("read-only handle", func(t *testing.T) {
		f, err := m.Open("d/a")
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Write([]byte("x"))
		assert.Equal(t, syscall.EBADF, errno(err))
		_, err = f.WriteAt([]byte("x"), 0)
		assert.Equal(t, syscall.EBADF, errno(err))
		assert.Equal(t, syscall.EINVAL, errno(f.Truncate(0)))
		data, err := afero.ReadFile(m, "d/a")
		require.NoError(t, err)
		assert.Equal(t, "d/a", string(data), "nothing written")
	})

	t.Run("directory", func(t *testing.T) {
		f, err := m.Open("d")
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Read(make([]byte, 1))
		assert.Equal(t, syscall.EISDIR, errno(err))
		_, err = f.ReadAt(make([]byte, 1), 0)
		assert.Equal(t, syscall.EISDIR, errno(err))
		names, err := f.Readdirnames(2)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b"}, names)
		infos, err := f.Readdir(5)
		require.NoError(t, err)
		require.Len(t, infos, 2)
		assert.Equal(t, "c", infos[0].Name())
		assert.Equal(t, fs.ModeSymlink, infos[0].Mode().Type(), "Readdir does not follow links")
		assert.Equal(t, "sub", infos[1].Name())
		assert.True(t, infos[1].IsDir())
		infos, err = f.Readdir(1)
		assert.Equal(t, io.EOF, err)
		assert.Empty(t, infos)
		infos, err = f.Readdir(-1)
		assert.NoError(t, err)
		assert.Empty(t, infos)
		_, err = f.Seek(0, io.SeekStart)
		require.NoError(t, err)
		names, err = f.Readdirnames(-1)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b", "c", "sub"}, names, "a seek restarts the listing")
	})

	t.Run("Readdir of a file", func(t *testing.T) {
		f, err := m.Open("d/a")
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Readdir(-1)
		assert.Equal(t, syscall.ENOTDIR, errno(err))
	})

	t.Run("closed", func(t *testing.T) {
		f, err := m.Open("d/a")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		assert.ErrorIs(t, f.Close(), fs.ErrClosed)
		_, err = f.Read(make([]byte, 1))
		assert.ErrorIs(t, err, fs.ErrClosed)
		_, err = f.Stat()
		assert.ErrorIs(t, err, fs.ErrClosed)
		_, err = f.Readdir(-1)
		assert.ErrorIs(t, err, fs.ErrClosed)
	})

	t.Run("removed while open", func(t *testing.T) {
		f, err := m.Create("gone")
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, m.Remove("gone"))
		_, err = f.WriteString("still works")
		assert.NoError(t, err)
		fi, err := f.Stat()
		require.NoError(t, err)
		assert.Equal(t, int64(11), fi.Size())
		_, err = m.Stat("gone")
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
}

func TestMemFSHugeOffset(t *testing.T) {
	m := vfstest.NewMemFS()
	f, err := m.Create("f")
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt([]byte("x"), 1<<62)
	assert.Equal(t, syscall.EFBIG, errno(err))
	assert.Equal(t, syscall.EFBIG, errno(f.Truncate(1<<62)))
}

func TestMemFSFSTest(t *testing.T) {
	m := newMemFS(t, "static/app.js", "static/css/a.css", "static/empty/", "static/v1 => .")
	assert.NoError(t, fstest.TestFS(afero.NewIOFS(m), "static/app.js", "static/css/a.css", "static/v1"))
}

func TestMemFSConcurrentRenames(t *testing.T) {
	m := newMemFS(t, "d/src", "d/keep")
	var wg sync.WaitGroup
	var renamed atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				dst := fmt.Sprintf("d/dst%d", (i+j)%4)
				if err := m.Rename("d/src", dst); err == nil {
					renamed.Add(1)
					_ = m.Rename(dst, "d/src")
				}
				_, _ = m.Stat("d/src")
				if f, err := m.Open("d"); err == nil {
					_, _ = f.Readdirnames(-1)
					_ = f.Close()
				}
			}
		})
	}
	wg.Wait()
	// The first Rename of all finds d/src, so some went through.
	require.NotZero(t, renamed.Load(), "no rename went through")
	// Exactly one copy of src survives, under one of the names, and keep is intact.
	tree := listTree(t, m, "/")
	require.Len(t, tree, 3, "%v", tree)
	rest := slices.DeleteFunc(slices.Clone(tree), func(s string) bool { return s == "d/" || s == "d/keep:d/keep" })
	require.Len(t, rest, 1, "%v", tree)
	assert.Regexp(t, `^d/(src|dst\d):d/src$`, rest[0])
}

// TestMemFSAvoidsMemMapFsFaults pins, one case each, the afero.MemMapFs
// behaviours MemFS must not repeat.
func TestMemFSAvoidsMemMapFsFaults(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		check func(t *testing.T, m *vfstest.MemFS, c *clock)
	}{
		{"a and /a are one file", func(t *testing.T, m *vfstest.MemFS, _ *clock) {
			require.NoError(t, afero.WriteFile(m, "a", []byte("1"), 0o644))
			require.NoError(t, afero.WriteFile(m, "/a", []byte("2"), 0o644))
			assert.Equal(t, []string{"a:2"}, listTree(t, m, "/"))
		}},
		{"Chmod cleans its name", func(t *testing.T, m *vfstest.MemFS, _ *clock) {
			makeFS(t, m, "a")
			require.NoError(t, m.Chmod("/./a", 0o600))
			fi, err := m.Stat("a")
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o600), fi.Mode())
		}},
		{"creating in a missing directory fails", func(t *testing.T, m *vfstest.MemFS, _ *clock) {
			_, err := m.Create("missing/a")
			assert.ErrorIs(t, err, fs.ErrNotExist)
			assert.Empty(t, listTree(t, m, "/"))
		}},
		{"Remove of a non-empty directory fails", func(t *testing.T, m *vfstest.MemFS, _ *clock) {
			makeFS(t, m, "d/a")
			assert.ErrorIs(t, m.Remove("d"), fs.ErrExist) // ENOTEMPTY
			assert.Equal(t, []string{"d/", "d/a:d/a"}, listTree(t, m, "/"))
		}},
		{"Close does not touch mtime", func(t *testing.T, m *vfstest.MemFS, c *clock) {
			makeFS(t, m, "a")
			c.set(t0.Add(time.Hour))
			f, err := m.OpenFile("a", os.O_RDWR, 0)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			fi, err := m.Stat("a")
			require.NoError(t, err)
			assert.Equal(t, t0, fi.ModTime())
		}},
		{"directory mtimes move", func(t *testing.T, m *vfstest.MemFS, c *clock) {
			makeFS(t, m, "d/")
			c.set(t0.Add(time.Hour))
			makeFS(t, m, "d/a")
			fi, err := m.Stat("d")
			require.NoError(t, err)
			assert.Equal(t, t0.Add(time.Hour), fi.ModTime())
		}},
		{"ReadAt reports io.EOF on a short read", func(t *testing.T, m *vfstest.MemFS, _ *clock) {
			makeFS(t, m, "a")
			f, err := m.Open("a")
			require.NoError(t, err)
			defer f.Close()
			n, err := f.ReadAt(make([]byte, 8), 0)
			assert.Equal(t, 1, n)
			assert.Equal(t, io.EOF, err)
		}},
		{"symlinks exist", func(t *testing.T, m *vfstest.MemFS, _ *clock) {
			makeFS(t, m, "static/a", "static/v1 => .")
			fi, lstat, err := m.LstatIfPossible("static/v1")
			require.NoError(t, err)
			assert.True(t, lstat)
			assert.Equal(t, fs.ModeSymlink, fi.Mode().Type())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: t0}
			m := vfstest.NewMemFS()
			m.SetClock(c.now)
			tt.check(t, m, c)
		})
	}
}
