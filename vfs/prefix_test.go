package vfs_test

import (
	"embed"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/vfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

//go:embed testdata/site
var embedded embed.FS

const stamp = "e3b0c44298fc"

// mapTree is a MapFS with files at several depths, an empty directory and a
// link to a file.
func mapTree() fstest.MapFS {
	mtime := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return fstest.MapFS{
		"a.txt":          {Data: body("a.txt"), Mode: 0o644, ModTime: mtime},
		"css/site.css":   {Data: body("css/site.css"), Mode: 0o644, ModTime: mtime},
		"css/print.css":  {Data: body("css/print.css"), Mode: 0o644, ModTime: mtime},
		"deep/er/app.js": {Data: body("deep/er/app.js"), Mode: 0o644, ModTime: mtime},
		"img":            {Mode: fs.ModeDir | 0o755, ModTime: mtime},
		"z":              {Data: body("z"), Mode: 0o644, ModTime: mtime},
		"alias.txt":      {Data: []byte("a.txt"), Mode: fs.ModeSymlink | 0o777, ModTime: mtime},
	}
}

// under puts stamp/ in front of every name.
func under(names ...string) []string {
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = stamp + "/" + name
	}
	return out
}

func TestPrefixPassesTestFS(t *testing.T) {
	t.Run("MapFS", func(t *testing.T) {
		p, err := vfs.Prefix(mapTree(), stamp)
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, under(append(treeFiles, "alias.txt")...)...))
	})
	t.Run("os.DirFS", func(t *testing.T) {
		base, dir := osBase(t)
		makeTree(t, base, tree...)
		require.NoError(t, os.Symlink(".", filepath.Join(dir, "v1")), "an old stamp link")
		require.NoError(t, os.Symlink("a.txt", filepath.Join(dir, "alias.txt")))
		p, err := vfs.Prefix(os.DirFS(dir), stamp)
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, under(append(treeFiles, "v1", "alias.txt")...)...))
	})
	t.Run("embed.FS", func(t *testing.T) {
		site, err := fs.Sub(embedded, "testdata/site")
		require.NoError(t, err)
		p, err := vfs.Prefix(site, "v1.2.3")
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, "v1.2.3/index.html", "v1.2.3/css/site.css", "v1.2.3/js/app.js", "v1.2.3/img/logo.svg"))
	})
	t.Run("AferoFS over MemMapFs", func(t *testing.T) {
		mem := afero.NewMemMapFs()
		makeTree(t, mem, tree...)
		p, err := vfs.Prefix(vfs.AferoFS(mem), stamp)
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, under(treeFiles...)...))
	})
	t.Run("AferoFS over MemFS", func(t *testing.T) {
		mem := vfstest.NewMemFS()
		makeTree(t, mem, append(tree, treeLinks...)...)
		p, err := vfs.Prefix(vfs.AferoFS(mem), stamp)
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, under(append(treeFiles, "alias.txt", "v1")...)...))
	})
	t.Run("Prefix of a Prefix", func(t *testing.T) {
		inner, err := vfs.Prefix(mapTree(), "inner")
		require.NoError(t, err)
		p, err := vfs.Prefix(inner, stamp)
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, under("inner/a.txt", "inner/css/site.css")...))
	})
	t.Run("empty", func(t *testing.T) {
		p, err := vfs.Prefix(fstest.MapFS{}, stamp)
		require.NoError(t, err)
		assert.NoError(t, fstest.TestFS(p, stamp))
	})
}

func TestPrefixRoot(t *testing.T) {
	base := vfs.AferoFS(afero.NewMemMapFs())
	p, err := vfs.Prefix(base, stamp)
	require.NoError(t, err)

	entries, err := fs.ReadDir(p, ".")
	require.NoError(t, err)
	require.Len(t, entries, 1, "the root lists exactly the segment")
	assert.Equal(t, stamp, entries[0].Name())
	assert.True(t, entries[0].IsDir())

	info, err := fs.Stat(p, ".")
	require.NoError(t, err)
	assert.Equal(t, ".", info.Name())
	assert.True(t, info.IsDir())
	info, err = fs.Stat(p, stamp)
	require.NoError(t, err)
	assert.Equal(t, stamp, info.Name())
	assert.True(t, info.IsDir())

	f, err := p.Open(".")
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Read(make([]byte, 1))
	assert.Equal(t, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}, err)
	dir := f.(fs.ReadDirFile)
	list, err := dir.ReadDir(1)
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, err = dir.ReadDir(1)
	assert.Equal(t, io.EOF, err)
	assert.Empty(t, list)
	list, err = dir.ReadDir(-1)
	assert.NoError(t, err)
	assert.Empty(t, list)

	_, err = fs.ReadFile(p, ".")
	assert.Equal(t, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}, err)
	_, err = fs.ReadLink(p, ".")
	assert.Equal(t, &fs.PathError{Op: "readlink", Path: ".", Err: fs.ErrInvalid}, err)
}

func TestPrefixSub(t *testing.T) {
	base := vfs.AferoFS(afero.NewMemMapFs())
	p, err := vfs.Prefix(base, stamp)
	require.NoError(t, err)

	sub, err := fs.Sub(p, stamp)
	require.NoError(t, err)
	assert.Same(t, base, sub, "Sub of the segment is fsys itself")
	sub, err = fs.Sub(p, ".")
	require.NoError(t, err)
	assert.Same(t, p, sub)

	p, err = vfs.Prefix(mapTree(), stamp)
	require.NoError(t, err)
	sub, err = fs.Sub(p, stamp+"/css")
	require.NoError(t, err)
	data, err := fs.ReadFile(sub, "site.css")
	require.NoError(t, err)
	assert.Equal(t, body("css/site.css"), data)
}

func TestPrefixReads(t *testing.T) {
	p, err := vfs.Prefix(mapTree(), stamp)
	require.NoError(t, err)

	data, err := fs.ReadFile(p, stamp+"/css/site.css")
	require.NoError(t, err)
	assert.Equal(t, body("css/site.css"), data)

	entries, err := fs.ReadDir(p, stamp+"/css")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "print.css", entries[0].Name())
	assert.Equal(t, "site.css", entries[1].Name())

	target, err := fs.ReadLink(p, stamp+"/alias.txt")
	require.NoError(t, err)
	assert.Equal(t, "a.txt", target)
	info, err := fs.Lstat(p, stamp+"/alias.txt")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSymlink, info.Mode().Type())
	info, err = fs.Lstat(p, stamp)
	require.NoError(t, err)
	assert.Equal(t, stamp, info.Name())
	assert.True(t, info.IsDir())

	// http.ServeContent needs a Seeker: Prefix hands out fsys's own files.
	f, err := p.Open(stamp + "/a.txt")
	require.NoError(t, err)
	defer f.Close()
	seeker, ok := f.(io.ReadSeeker)
	require.True(t, ok, "file is no io.ReadSeeker")
	_, err = seeker.Seek(9, io.SeekStart)
	require.NoError(t, err)
	rest, err := io.ReadAll(seeker)
	require.NoError(t, err)
	assert.Equal(t, body("a.txt")[9:], rest)
}

func TestPrefixBadSegment(t *testing.T) {
	for _, seg := range []string{"", ".", "..", "/", `\`, "a\x00", "a/b", `a\b`, ".git", strings.Repeat("a", 65)} {
		t.Run(seg, func(t *testing.T) {
			p, err := vfs.Prefix(mapTree(), seg)
			assert.Nil(t, p)
			assert.Equal(t, &fs.PathError{Op: "prefix", Path: seg, Err: fs.ErrInvalid}, err)
		})
	}
	t.Run("nil fsys", func(t *testing.T) {
		_, err := vfs.Prefix(nil, stamp)
		assert.ErrorIs(t, err, fs.ErrInvalid)
	})
}

func TestPrefixHostilePaths(t *testing.T) {
	p, err := vfs.Prefix(mapTree(), stamp)
	require.NoError(t, err)
	tests := []struct {
		name string
		want error
	}{
		{"", fs.ErrInvalid},
		{"/", fs.ErrInvalid},
		{"..", fs.ErrInvalid},
		{"../a.txt", fs.ErrInvalid},
		{stamp + "/../a.txt", fs.ErrInvalid},
		{stamp + "/..", fs.ErrInvalid},
		{stamp + "/./a.txt", fs.ErrInvalid},
		{stamp + "//a.txt", fs.ErrInvalid},
		{stamp + "/", fs.ErrInvalid},
		{"/" + stamp + "/a.txt", fs.ErrInvalid},
		{"./" + stamp + "/a.txt", fs.ErrInvalid},
		{stamp + `\a.txt`, fs.ErrInvalid},
		{stamp + `/css\site.css`, fs.ErrInvalid},
		{`..\a.txt`, fs.ErrInvalid},
		{stamp + "/a.txt\x00", fs.ErrInvalid},
		{stamp + "\x00/a.txt", fs.ErrInvalid},
		{"a.txt", fs.ErrNotExist},
		{"css/site.css", fs.ErrNotExist},
		{"v1/a.txt", fs.ErrNotExist},
		{"v1", fs.ErrNotExist},
		{stamp + "x/a.txt", fs.ErrNotExist},
		{stamp[:5] + "/a.txt", fs.ErrNotExist},
		{strings.ToUpper(stamp) + "/a.txt", fs.ErrNotExist},
		{stamp + "/missing", fs.ErrNotExist},
	}
	calls := fsCalls(t, p)
	require.Contains(t, calls, "sub", "Prefix is no fs.SubFS")
	for op, call := range calls {
		for _, tt := range tests {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				if op == "sub" && tt.name == stamp+"/missing" {
					t.Skip("fs.Sub does not look at the file system")
				}
				err := call(tt.name)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.name, pe.Path, "the error names another path")
				assert.ErrorIs(t, err, tt.want)
				if tt.want == fs.ErrInvalid || !strings.HasPrefix(tt.name, stamp+"/") {
					assert.Equal(t, &fs.PathError{Op: op, Path: tt.name, Err: tt.want}, err)
				}
			})
		}
	}
}

func TestPrefixErrorsNameCallersPath(t *testing.T) {
	base, dir := osBase(t)
	makeTree(t, base, "a.txt", "css/")
	p, err := vfs.Prefix(os.DirFS(dir), stamp)
	require.NoError(t, err)
	for op, call := range fsCalls(t, p) {
		if op == "sub" {
			continue
		}
		t.Run(op, func(t *testing.T) {
			name := stamp + "/css/missing.css"
			err := call(name)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, name, pe.Path)
			assert.NotContains(t, err.Error(), dir)
		})
	}
	t.Run("a regular file is no link", func(t *testing.T) {
		_, err := fs.ReadLink(p, stamp+"/a.txt")
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, stamp+"/a.txt", pe.Path)
	})
}

func FuzzPrefixOpen(f *testing.F) {
	for _, seed := range []string{
		".", stamp, stamp + "/a.txt", stamp + "/css", stamp + "/css/site.css",
		stamp + "/alias.txt", stamp + "/img", "..", stamp + "/../a.txt",
		stamp + "/./a.txt", stamp + "//a.txt", stamp + `\a.txt`, "a.txt",
		"v1/a.txt", stamp + "x/a.txt", stamp + "/a.txt\x00", "/" + stamp,
		stamp + "/deep/er/app.js", stamp + "/a.txt/x",
	} {
		f.Add(seed)
	}
	base := mapTree()
	p, err := vfs.Prefix(base, stamp)
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, name string) {
		file, err := p.Open(name)
		if err != nil {
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, name, pe.Path, "the error names another path")
			require.True(t, errors.Is(err, fs.ErrInvalid) || errors.Is(err, fs.ErrNotExist), "unexpected error %v", err)
			return
		}
		defer file.Close()
		require.True(t, fs.ValidPath(name), "opened an invalid name")
		require.NotContains(t, name, `\`)

		if name == "." {
			entries, err := file.(fs.ReadDirFile).ReadDir(-1)
			require.NoError(t, err)
			require.Len(t, entries, 1)
			require.Equal(t, stamp, entries[0].Name())
			return
		}
		inner, ok := strings.CutPrefix(name, stamp+"/")
		if !ok {
			require.Equal(t, stamp, name, "opened a name outside the segment")
			inner = "."
		}
		info, err := file.Stat()
		require.NoError(t, err)
		if info.IsDir() {
			got, err := file.(fs.ReadDirFile).ReadDir(-1)
			require.NoError(t, err)
			want, err := fs.ReadDir(base, inner)
			require.NoError(t, err)
			require.Equal(t, entryNames(want), entryNames(got))
			return
		}
		got, err := io.ReadAll(file)
		require.NoError(t, err)
		want, err := fs.ReadFile(base, inner)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}

func entryNames(entries []fs.DirEntry) []string {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// TestPrefixRootErrors checks that a failure of fsys's root is reported
// under the name the caller used: "." or the segment.
func TestPrefixRootErrors(t *testing.T) {
	faults := vfstest.NewFaultFS(afero.NewMemMapFs())
	p, err := vfs.Prefix(vfs.AferoFS(faults), stamp)
	require.NoError(t, err)
	runFaultCases(t, faults, []faultCase{
		{
			name: "Stat of the root",
			rule: vfstest.Rule{Op: vfstest.OpStat, Path: ".", Err: errBoom},
			call: func(*testing.T) error { _, err := fs.Stat(p, "."); return err },
			want: &fs.PathError{Op: "stat", Path: ".", Err: errBoom},
		},
		{
			name: "Stat of the segment",
			rule: vfstest.Rule{Op: vfstest.OpStat, Path: ".", Err: errBoom},
			call: func(*testing.T) error { _, err := fs.Stat(p, stamp); return err },
			want: &fs.PathError{Op: "stat", Path: stamp, Err: errBoom},
		},
		{
			name: "ReadDir of the root",
			rule: vfstest.Rule{Op: vfstest.OpStat, Path: ".", Err: errBoom},
			call: func(*testing.T) error { _, err := fs.ReadDir(p, "."); return err },
			want: &fs.PathError{Op: "stat", Path: ".", Err: errBoom},
		},
		{
			name: "ReadDir of the segment",
			rule: vfstest.Rule{Op: vfstest.OpReadDir, Path: ".", Err: errBoom},
			call: func(*testing.T) error { _, err := fs.ReadDir(p, stamp); return err },
			want: &fs.PathError{Op: "readdirent", Path: stamp, Err: errBoom},
		},
		{
			name: "ReadDir of the opened segment",
			rule: vfstest.Rule{Op: vfstest.OpReadDir, Path: ".", Err: errBoom},
			call: func(t *testing.T) error {
				f, err := p.Open(stamp)
				require.NoError(t, err)
				defer f.Close()
				_, err = f.(fs.ReadDirFile).ReadDir(-1)
				return err
			},
			want: &fs.PathError{Op: "readdirent", Path: stamp, Err: errBoom},
		},
		{
			name: "Stat of the opened segment",
			rule: vfstest.Rule{Op: vfstest.OpFileStat, Path: ".", Err: errBoom},
			call: func(t *testing.T) error {
				f, err := p.Open(stamp)
				require.NoError(t, err)
				defer f.Close()
				_, err = f.Stat()
				return err
			},
			want: &fs.PathError{Op: "stat", Path: stamp, Err: errBoom},
		},
	})
}
