package stampfs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

func TestScanFsWithoutLstater(t *testing.T) {
	// afero.FromIOFS has no Lstat; Scan then trusts the modes its Readdir
	// reports, which for os.DirFS and fstest.MapFS are those of the links.
	files := []string{"css/a.css=body{}", "index.html=<p>"}
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "static", files...)
	want := scan(t, mem, "static", nil)

	t.Run("os.DirFS", func(t *testing.T) {
		dir := t.TempDir()
		makeTree(t, afero.NewOsFs(), dir, append(files, want.Stamp()+" -> .", "css/up -> ..", "page.html -> index.html")...)
		fsys := afero.FromIOFS{FS: os.DirFS(dir)}
		_, isLstater := afero.Fs(fsys).(afero.Lstater)
		require.False(t, isLstater)

		snap := scan(t, fsys, ".", nil)
		assert.Equal(t, want.Stamp(), snap.Stamp())
		assert.Equal(t, names(want), names(snap))

		sub := afero.FromIOFS{FS: os.DirFS(filepath.Dir(dir))}
		snap = scan(t, sub, filepath.Base(dir), nil)
		assert.Equal(t, want.Stamp(), snap.Stamp(), "a subdirectory of an fs.FS")
	})
	t.Run("fstest.MapFS", func(t *testing.T) {
		fsys := afero.FromIOFS{FS: fstest.MapFS{
			"css/a.css":              {Data: []byte("body{}")},
			"index.html":             {Data: []byte("<p>")},
			want.Stamp():             {Data: []byte("."), Mode: fs.ModeSymlink},
			"page.html":              {Data: []byte("index.html"), Mode: fs.ModeSymlink},
			".well-known/security":   {Data: []byte("x")},
			"css/.a.css.swp":         {Data: []byte("x")},
			"css/fonts/.placeholder": {Data: nil},
		}}
		snap := scan(t, fsys, ".", nil)
		assert.Equal(t, want.Stamp(), snap.Stamp())
		assert.Equal(t, names(want), names(snap))
	})
}

// followingFS is an Fs without Lstat whose Readdir follows links, the worst
// case Scan's documentation describes.
type followingFS struct{ afero.Fs }

func (f followingFS) Open(name string) (afero.File, error) {
	file, err := f.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return followingFile{file, f.Fs, name}, nil
}

type followingFile struct {
	afero.File
	fsys afero.Fs
	name string
}

func (f followingFile) Readdir(n int) ([]fs.FileInfo, error) {
	names, err := f.File.Readdirnames(n)
	if err != nil {
		return nil, err
	}
	var infos []fs.FileInfo
	for _, name := range names {
		info, err := f.fsys.Stat(filepath.Join(f.name, name))
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

func TestScanFsWithoutLstaterFollowingLinks(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, afero.NewOsFs(), dir, "a.css", "v1 -> .")
	_, err := stampfs.Scan(followingFS{afero.NewOsFs()}, dir, nil)
	assert.ErrorIs(t, err, syscall.ELOOP, "a cycle must end in an error, not run forever")
	var pe *fs.PathError
	if assert.ErrorAs(t, err, &pe) {
		assert.Contains(t, pe.Path, filepath.Join(dir, "v1", "v1", "v1"))
	}
}

// endlessFS shows the directory "loop" again at "loop/d", "loop/d/d" and so
// on, as an Fs without Lstat whose Readdir follows a link "loop/d -> ." would.
type endlessFS struct{ afero.Fs }

func (f endlessFS) Open(name string) (afero.File, error) {
	return f.Fs.Open(strings.ReplaceAll(name, "/d", ""))
}

func TestScanDepthLimit(t *testing.T) {
	// No kernel stops this cycle: Scan's own depth limit must.
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "loop", "a.css", "d/")
	_, err := stampfs.Scan(endlessFS{mem}, "loop", nil)
	assert.ErrorIs(t, err, syscall.ELOOP)
	var pe *fs.PathError
	if assert.ErrorAs(t, err, &pe) {
		assert.Equal(t, "loop"+strings.Repeat("/d", 256), pe.Path)
	}

	// 255 nested directories are fine.
	deep := "deep" + strings.Repeat("/d", 255)
	makeTree(t, mem, deep, "x.css")
	snap := scan(t, mem, "deep", nil)
	assert.Equal(t, []string{strings.Repeat("d/", 255) + "x.css"}, names(snap))
}
