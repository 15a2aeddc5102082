package stampfs_test

import (
	"errors"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// memTree writes files (name → content) under /static on a fresh MemFS,
// which holds symbolic links as Linux does.
func memTree(t *testing.T, files map[string]string) *vfstest.MemFS {
	t.Helper()
	fsys := vfstest.NewMemFS()
	for name, body := range files {
		require.NoError(t, fsys.MkdirAll(path.Dir("/static/"+name), 0o755))
		require.NoError(t, afero.WriteFile(fsys, "/static/"+name, []byte(body), 0o644))
	}
	return fsys
}

func TestSymlinkModeInMemory(t *testing.T) {
	fsys := memTree(t, map[string]string{"a.css": "a1"})
	for _, mode := range []stampfs.Mode{"", stampfs.ModeAuto, stampfs.ModeSymlink} {
		t.Run(string(mode), func(t *testing.T) {
			h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: mode})
			require.NoError(t, err)
			assert.Equal(t, stampfs.ModeSymlink, h.Mode())
			target, err := fsys.ReadlinkIfPossible("/static/" + h.Stamp())
			require.NoError(t, err)
			assert.Equal(t, ".stampfs/"+h.Stamp(), target)
			check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a1", header: map[string]string{"Cache-Control": immutable}})
		})
	}
	t.Run("Refresh links the new stamp", func(t *testing.T) {
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeSymlink, Keep: 1})
		require.NoError(t, err)
		require.NoError(t, afero.WriteFile(fsys, "/static/a.css", []byte("a2"), 0o644))
		require.NoError(t, h.Refresh())
		target, err := fsys.ReadlinkIfPossible("/static/" + h.Stamp())
		require.NoError(t, err)
		assert.Equal(t, ".stampfs/"+h.Stamp(), target)
		data, err := afero.ReadFile(fsys, "/static/"+h.Stamp()+"/a.css")
		require.NoError(t, err)
		assert.Equal(t, "a2", string(data), "the link leads to the stamp's own version")
	})
	t.Run("virtual makes no link", func(t *testing.T) {
		fsys := memTree(t, map[string]string{"a.css": "a1"})
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
		require.NoError(t, err)
		_, _, err = fsys.LstatIfPossible("/static/" + h.Stamp())
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
}

// TestSymlinkSwapInMemory: on any afero.Fs that can tell links apart, a
// served file or directory swapped for a link after the scan is not followed:
// in the live tree it changes nothing (the version holds the bytes), and in
// the store it is refused.
func TestSymlinkSwapInMemory(t *testing.T) {
	big := strings.Repeat("b", 500)
	fsys := memTree(t, map[string]string{"css/held.css": "held", "css/big.css": big, "js/big.js": big})
	require.NoError(t, afero.WriteFile(fsys, "/secret.txt", []byte(strings.Repeat("S", 500)), 0o600))
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryFileLimit: 100})
	require.NoError(t, err)

	for _, root := range []string{"/static", "/static/.stampfs/" + h.Stamp()} {
		for _, name := range []string{root + "/css/held.css", root + "/css/big.css"} {
			require.NoError(t, fsys.Remove(name))
			require.NoError(t, fsys.SymlinkIfPossible("/secret.txt", name))
		}
		require.NoError(t, fsys.RemoveAll(root+"/js"))
		require.NoError(t, fsys.MkdirAll("/elsewhere", 0o755))
		require.NoError(t, fsys.SymlinkIfPossible("/elsewhere", root+"/js"))

		s := "/static/" + h.Stamp() + "/"
		check(t, do(t, h, "GET", s+"css/held.css"), want{status: 200, body: "held"})
		if root == "/static" {
			check(t, do(t, h, "GET", s+"css/big.css"), want{status: 200, body: big})
			check(t, do(t, h, "GET", s+"js/big.js"), want{status: 200, body: big})
			continue
		}
		require.NoError(t, fsys.SymlinkIfPossible("/secret.txt", "/elsewhere/big.js"))
		check(t, do(t, h, "GET", s+"css/big.css"), notFoundWant())
		check(t, do(t, h, "GET", s+"js/big.js"), notFoundWant())
	}
}

func TestFaults(t *testing.T) {
	big := strings.Repeat("b", 500)
	files := map[string]string{"small.css": "small", "big.css": big}

	t.Run("read error while building", func(t *testing.T) {
		fsys := vfstest.NewFaultFS(memFS(t, files))
		fsys.Inject(vfstest.Rule{Op: vfstest.OpOpenFile, Path: "/static/small.css"}) // copying it into the store
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
		assert.Nil(t, h)
		assert.ErrorIs(t, err, vfstest.ErrInjected)
		var pe *fs.PathError
		assert.True(t, errors.As(err, &pe), "%v is a *fs.PathError", err)
	})
	t.Run("Refresh error keeps the old snapshot", func(t *testing.T) {
		fsys := vfstest.NewFaultFS(memFS(t, files))
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
		require.NoError(t, err)
		stamp := h.Stamp()
		fsys.Inject(vfstest.Rule{Op: vfstest.OpRead})
		assert.ErrorIs(t, h.Refresh(), vfstest.ErrInjected)
		assert.Equal(t, stamp, h.Stamp())
		check(t, do(t, h, "GET", "/static/"+stamp+"/small.css"), want{status: 200, body: "small"})
	})
	t.Run("open error while serving is a 404", func(t *testing.T) {
		fsys := vfstest.NewFaultFS(memFS(t, files))
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryFileLimit: 100})
		require.NoError(t, err)
		fsys.Inject(vfstest.Rule{Op: vfstest.OpOpen, Path: "/static/.stampfs/" + h.Stamp() + "/big.css"})
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/big.css"), notFoundWant())
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/small.css"), want{status: 200, body: "small"})
	})
	t.Run("seek error while serving is harmless", func(t *testing.T) {
		fsys := vfstest.NewFaultFS(memFS(t, files))
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryFileLimit: 100})
		require.NoError(t, err)
		fsys.Inject(vfstest.Rule{Op: vfstest.OpSeek})
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/big.css", "Range", "bytes=0-1"), want{status: 206, body: "bb"})
	})
}

func TestSymlinkPruneAndLog(t *testing.T) {
	fsys := memTree(t, map[string]string{"a.css": "a1"})
	var log strings.Builder
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeSymlink, Keep: -1, Grace: -1, Logger: logger})
	require.NoError(t, err)
	old := h.Stamp()
	assert.Contains(t, log.String(), `msg="stampfs: serving" stamp=`+old+" mode=symlink store=true files=1")

	require.NoError(t, afero.WriteFile(fsys, "/static/a.css", []byte("a2"), 0o644))
	require.NoError(t, h.Refresh())
	_, _, err = fsys.LstatIfPossible("/static/" + old)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Keep and Grace reach the Linker: the old link is pruned")
	assert.Contains(t, log.String(), "stamp="+h.Stamp())
	assert.Contains(t, log.String(), `msg="link removed" link=/static/`+old+" ", "the removal is logged")
}

// TestNewFSSymlinkSwap: through NewFS, a file or directory swapped for a
// link after the scan is not followed, even to a dot file of the same size.
func TestNewFSSymlinkSwap(t *testing.T) {
	fsys := fstest.MapFS{
		"css/big.css": {Data: []byte("0123456789")},
		"js/big.js":   {Data: []byte("0123456789")},
		".env":        {Data: []byte("SECRET=abc")},
		".git/big.js": {Data: []byte("GITSECRET!")},
	}
	h, err := stampfs.NewFS(fsys, &stampfs.Options{MemoryLimit: -1})
	require.NoError(t, err)
	fsys["css/big.css"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("../.env")}
	delete(fsys, "js/big.js")
	fsys["js"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte(".git")}
	_, err = fs.ReadFile(fsys, "css/big.css")
	require.NoError(t, err, "MapFS follows the link: without the check the secret would be served")

	s := "/static/" + h.Stamp() + "/"
	check(t, do(t, h, "GET", s+"css/big.css"), notFoundWant())
	check(t, do(t, h, "GET", s+"js/big.js"), notFoundWant())
}

// TestBuildFileChanged: without a store (a read-only directory), a file whose
// bytes change between the scan and the in-memory copy fails New and Refresh
// with an error naming it, and Refresh keeps the old snapshot. (With a store
// the version holds what was copied: see TestPublishCopiesAgain.)
func TestBuildFileChanged(t *testing.T) {
	for name, data := range map[string]string{"same size": "XX", "longer": "a1-longer", "shorter": "a"} {
		t.Run(name, func(t *testing.T) {
			inner := &changeOnOpen{Fs: memFS(t, map[string]string{"a.css": "a1", "b.css": "b1"})}
			fsys := afero.NewReadOnlyFs(inner)
			inner.arm("/static/a.css", data)
			_, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "a.css", pe.Path)
			assert.EqualError(t, err, "read a.css: stampfs: file changed since the scan; Refresh to pick it up")

			inner.arm("", "")
			require.NoError(t, afero.WriteFile(inner, "/static/a.css", []byte("a1"), 0o644))
			h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
			require.NoError(t, err)
			stamp := h.Stamp()
			require.NoError(t, afero.WriteFile(inner, "/static/b.css", []byte("b2"), 0o644))
			inner.arm("/static/a.css", data)
			assert.ErrorContains(t, h.Refresh(), "read a.css: stampfs: file changed since the scan")
			assert.Equal(t, stamp, h.Stamp())
			check(t, do(t, h, "GET", "/static/"+stamp+"/a.css"), want{status: 200, body: "a1"})
		})
	}
}

// changeOnOpen rewrites name with data just before its second Open from
// the moment it is armed: the scan opens a file first, the copy second.
type changeOnOpen struct {
	afero.Fs
	name, data string
	opens      int
}

func (c *changeOnOpen) arm(name, data string) { c.name, c.data, c.opens = name, data, 0 }

func (c *changeOnOpen) Open(name string) (afero.File, error) {
	if name == c.name {
		if c.opens++; c.opens == 2 {
			if err := afero.WriteFile(c.Fs, name, []byte(c.data), 0o644); err != nil {
				return nil, err
			}
		}
	}
	return c.Fs.Open(name)
}
