package vfs_test

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/internal/fstree"
	"github.com/stampfs/stampfs/vfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// makeTree builds a tree on fsys from one spec per entry: "img/" is a
// directory, "v1 => ." a symlink to ".", anything else a file holding
// body(name). Parents are made as needed.
func makeTree(t *testing.T, fsys afero.Fs, specs ...string) {
	t.Helper()
	fstree.Build(t, fsys, body, specs...)
}

// body returns the bytes makeTree writes into the file name.
func body(name string) []byte {
	return []byte(strings.Repeat("contents of "+name+"\n", 3))
}

// errBoom is the error the FaultFS rules of these tests inject.
var errBoom = errors.New("boom")

// statOnly hides every method of an afero.Fs but the Fs interface's own.
type statOnly struct{ afero.Fs }

// osBase returns an afero.Fs rooted in a fresh temporary directory, and
// that directory.
func osBase(t *testing.T) (afero.Fs, string) {
	t.Helper()
	dir := t.TempDir()
	return afero.NewBasePathFs(afero.NewOsFs(), dir), dir
}

// tree is the fixture of the fstest runs: files at several depths, an empty
// directory and, where links exist, links to a file and to the root.
var (
	tree      = []string{"a.txt", "css/site.css", "css/print.css", "deep/er/app.js", "img/", "z"}
	treeFiles = []string{"a.txt", "css/site.css", "css/print.css", "deep/er/app.js", "img", "z"}
	treeLinks = []string{"alias.txt => a.txt", "v1 => ."}
)

func TestAferoFSPassesTestFS(t *testing.T) {
	t.Run("MemMapFs", func(t *testing.T) {
		mem := afero.NewMemMapFs()
		makeTree(t, mem, tree...)
		assert.NoError(t, fstest.TestFS(vfs.AferoFS(mem), treeFiles...))
	})
	t.Run("OsFs", func(t *testing.T) {
		base, dir := osBase(t)
		makeTree(t, base, tree...)
		for _, spec := range treeLinks {
			name, target, _ := strings.Cut(spec, " => ")
			require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
		}
		assert.NoError(t, fstest.TestFS(vfs.AferoFS(base), append(treeFiles, "alias.txt", "v1")...))
	})
	t.Run("MemFS", func(t *testing.T) {
		mem := vfstest.NewMemFS()
		makeTree(t, mem, append(tree, treeLinks...)...)
		assert.NoError(t, fstest.TestFS(vfs.AferoFS(mem), append(treeFiles, "alias.txt", "v1")...))
	})
	t.Run("ReadOnlyFs over MemMapFs", func(t *testing.T) {
		mem := afero.NewMemMapFs()
		makeTree(t, mem, tree...)
		assert.NoError(t, fstest.TestFS(vfs.AferoFS(afero.NewReadOnlyFs(mem)), treeFiles...))
	})
	t.Run("FaultFS over MemMapFs", func(t *testing.T) {
		mem := afero.NewMemMapFs()
		makeTree(t, mem, tree...)
		assert.NoError(t, fstest.TestFS(vfs.AferoFS(vfstest.NewFaultFS(mem)), treeFiles...))
	})
}

// TestAferoIOFSFailsTestFS pins why AferoFS exists: afero's own adapter
// fails fstest.TestFS on a MemMapFs with one non-empty file, because
// mem.File.ReadAt reports a short read as success (spf13/afero#352).
func TestAferoIOFSFailsTestFS(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "a.txt")

	err := fstest.TestFS(afero.NewIOFS(mem), "a.txt")
	require.Error(t, err, "afero.NewIOFS passes fstest.TestFS now: AferoFS may be redundant")
	assert.Contains(t, err.Error(), "ReadAt")
	assert.NoError(t, fstest.TestFS(vfs.AferoFS(mem), "a.txt"))

	f, err := mem.Open("a.txt")
	require.NoError(t, err)
	defer f.Close()
	n, err := f.ReadAt(make([]byte, 100), 0)
	assert.Equal(t, len(body("a.txt")), n)
	assert.NoError(t, err, "mem.File.ReadAt returns io.EOF on a short read now")

	var iofs fs.FS = afero.NewIOFS(mem)
	_, ok := iofs.(fs.ReadLinkFS)
	assert.False(t, ok, "afero.IOFS implements fs.ReadLinkFS now")
}

func TestAferoFSReadAt(t *testing.T) {
	data := string(body("a.txt"))
	size := int64(len(data))
	tests := []struct {
		name    string
		off     int64
		size    int
		want    string
		wantErr error
	}{
		{"whole file", 0, len(data), data, nil},
		{"middle", 3, 5, data[3:8], nil},
		{"short read at end", size - 4, 10, data[size-4:], io.EOF},
		{"exactly to the end", size - 4, 4, data[size-4:], nil},
		{"at end", size, 1, "", io.EOF},
		{"past end", size + 100, 1, "", io.EOF},
		{"empty buffer", 0, 0, "", nil},
	}
	bases := map[string]afero.Fs{"MemMapFs": afero.NewMemMapFs()}
	bases["OsFs"], _ = osBase(t)
	for baseName, base := range bases {
		makeTree(t, base, "a.txt")
		fsys := vfs.AferoFS(base)
		for _, tt := range tests {
			t.Run(baseName+"/"+tt.name, func(t *testing.T) {
				f, err := fsys.Open("a.txt")
				require.NoError(t, err)
				defer f.Close()
				ra, ok := f.(io.ReaderAt)
				require.True(t, ok, "file is no io.ReaderAt")
				p := make([]byte, tt.size)
				n, err := ra.ReadAt(p, tt.off)
				assert.Equal(t, tt.wantErr, err)
				assert.Equal(t, tt.want, string(p[:n]))
			})
		}
		t.Run(baseName+"/negative offset", func(t *testing.T) {
			f, err := fsys.Open("a.txt")
			require.NoError(t, err)
			defer f.Close()
			_, err = f.(io.ReaderAt).ReadAt(make([]byte, 1), -1)
			assert.Equal(t, &fs.PathError{Op: "readat", Path: "a.txt", Err: fs.ErrInvalid}, err)
		})
	}
}

func TestAferoFSServeContentSeeks(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "css/site.css")
	f, err := vfs.AferoFS(mem).Open("css/site.css")
	require.NoError(t, err)
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	require.True(t, ok, "file is no io.ReadSeeker")

	req := httptest.NewRequest(http.MethodGet, "/site.css", nil)
	req.Header.Set("Range", "bytes=3-9")
	rec := httptest.NewRecorder()
	http.ServeContent(rec, req, "site.css", time.Unix(0, 0), rs)

	assert.Equal(t, http.StatusPartialContent, rec.Code)
	assert.Equal(t, string(body("css/site.css")[3:10]), rec.Body.String())
	assert.Equal(t, "bytes 3-9/"+strconv.Itoa(len(body("css/site.css"))), rec.Header().Get("Content-Range"))
	assert.Equal(t, "text/css; charset=utf-8", rec.Header().Get("Content-Type"))
}

func TestAferoFSReadDirFile(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "d/c", "d/a", "d/b/", "file")
	fsys := vfs.AferoFS(mem)

	open := func(t *testing.T, name string) fs.ReadDirFile {
		t.Helper()
		f, err := fsys.Open(name)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		d, ok := f.(fs.ReadDirFile)
		require.True(t, ok, "%s is no fs.ReadDirFile", name)
		return d
	}
	names := func(entries []fs.DirEntry) []string {
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}

	t.Run("n > 0", func(t *testing.T) {
		d := open(t, "d")
		list, err := d.ReadDir(2)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b"}, names(list))
		list, err = d.ReadDir(2)
		require.NoError(t, err)
		assert.Equal(t, []string{"c"}, names(list))
		list, err = d.ReadDir(2)
		assert.Equal(t, io.EOF, err)
		assert.Empty(t, list)
		list, err = d.ReadDir(-1)
		assert.NoError(t, err, "n <= 0 at the end is no error")
		assert.Empty(t, list)
	})
	t.Run("n <= 0", func(t *testing.T) {
		d := open(t, "d")
		list, err := d.ReadDir(0)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b", "c"}, names(list))
		assert.True(t, list[1].IsDir())
		list, err = d.ReadDir(-1)
		assert.NoError(t, err)
		assert.Empty(t, list)
		list, err = d.ReadDir(1)
		assert.Equal(t, io.EOF, err)
		assert.Empty(t, list)
	})
	t.Run("ReadDirFS", func(t *testing.T) {
		list, err := fs.ReadDir(fsys, "d")
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b", "c"}, names(list))
	})
	t.Run("not a directory", func(t *testing.T) {
		_, err := open(t, "file").ReadDir(-1)
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "file", pe.Path)
		_, err = fs.ReadDir(fsys, "file")
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "file", pe.Path)
	})
}

// fsCalls calls each method of fsys that takes a name and returns its error,
// keyed by the Op the error should carry; "sub" is there when fsys is an
// fs.SubFS.
func fsCalls(t *testing.T, fsys fs.FS) map[string]func(string) error {
	t.Helper()
	all, ok := fsys.(interface {
		fs.StatFS
		fs.ReadDirFS
		fs.ReadFileFS
		fs.ReadLinkFS
	})
	require.True(t, ok, "%T lacks an interface", fsys)
	calls := map[string]func(string) error{
		"open":     func(n string) error { _, err := all.Open(n); return err },
		"stat":     func(n string) error { _, err := all.Stat(n); return err },
		"lstat":    func(n string) error { _, err := all.Lstat(n); return err },
		"readlink": func(n string) error { _, err := all.ReadLink(n); return err },
		"readdir":  func(n string) error { _, err := all.ReadDir(n); return err },
		"read":     func(n string) error { _, err := all.ReadFile(n); return err },
	}
	if sub, ok := fsys.(fs.SubFS); ok {
		calls["sub"] = func(n string) error { _, err := sub.Sub(n); return err }
	}
	return calls
}

// faultCase is a call that fails through a rule injected into a FaultFS,
// and the exact error it must return.
type faultCase struct {
	name string
	rule vfstest.Rule
	call func(t *testing.T) error
	want error
}

// runFaultCases runs each case on faults, with only its own rule injected.
func runFaultCases(t *testing.T, faults *vfstest.FaultFS, tests []faultCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faults.Reset()
			faults.Inject(tt.rule)
			assert.Equal(t, tt.want, tt.call(t))
		})
	}
}

func TestAferoFSInvalidNames(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "a.txt", "d/b.txt")
	calls := fsCalls(t, vfs.AferoFS(mem))
	names := []string{
		"", "/", "/a.txt", "a.txt/", "./a.txt", "d/./b.txt", "d//b.txt", "..",
		"../a.txt", "d/../a.txt", `d\b.txt`, `\a.txt`, `..\a.txt`, "a.txt\x00", "d/\x00",
	}
	for op, call := range calls {
		for _, name := range names {
			t.Run(op+"/"+name, func(t *testing.T) {
				assert.Equal(t, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}, call(name))
			})
		}
	}
}

func TestAferoFSErrorsNameCallersPath(t *testing.T) {
	base, dir := osBase(t)
	makeTree(t, base, "a.txt", "d/")
	calls := fsCalls(t, vfs.AferoFS(base))
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			err := call("d/missing.css")
			assert.ErrorIs(t, err, fs.ErrNotExist)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "d/missing.css", pe.Path)
			assert.NotContains(t, err.Error(), dir, "the error shows the host path")
		})
	}
}

func TestAferoFSFileErrors(t *testing.T) {
	mem := afero.NewMemMapFs()
	makeTree(t, mem, "a.txt", "d/b.txt")
	faults := vfstest.NewFaultFS(mem)
	fsys := vfs.AferoFS(faults)
	runFaultCases(t, faults, []faultCase{
		{
			name: "Read",
			rule: vfstest.Rule{Op: vfstest.OpRead, Path: "a.txt", Err: errBoom},
			call: func(t *testing.T) error {
				f, err := fsys.Open("a.txt")
				require.NoError(t, err)
				defer f.Close()
				_, err = f.Read(make([]byte, 8))
				return err
			},
			want: &fs.PathError{Op: "read", Path: "a.txt", Err: errBoom},
		},
		{
			name: "ReadFile",
			rule: vfstest.Rule{Op: vfstest.OpRead, Path: "a.txt", Err: errBoom},
			call: func(*testing.T) error { _, err := fsys.(fs.ReadFileFS).ReadFile("a.txt"); return err },
			want: &fs.PathError{Op: "read", Path: "a.txt", Err: errBoom},
		},
		{
			name: "ReadDir",
			rule: vfstest.Rule{Op: vfstest.OpReadDir, Path: "d", Err: fs.ErrPermission},
			call: func(*testing.T) error { _, err := fs.ReadDir(fsys, "d"); return err },
			want: &fs.PathError{Op: "readdirent", Path: "d", Err: fs.ErrPermission},
		},
		{
			name: "Open",
			rule: vfstest.Rule{Op: vfstest.OpOpen, Path: "d/b.txt", Err: fs.ErrPermission},
			call: func(*testing.T) error { _, err := fsys.Open("d/b.txt"); return err },
			want: &fs.PathError{Op: "open", Path: "d/b.txt", Err: fs.ErrPermission},
		},
		{
			name: "bare error from fsys",
			rule: vfstest.Rule{Op: vfstest.OpStat, Path: "a.txt", Err: errBoom},
			call: func(*testing.T) error {
				_, err := vfs.AferoFS(bareErrors{faults}).(fs.StatFS).Stat("a.txt")
				return err
			},
			want: &fs.PathError{Op: "stat", Path: "a.txt", Err: errBoom},
		},
	})
}

// bareErrors unwraps the *fs.PathError of Stat, as afero's ReadOnlyFs
// returns bare errors.
type bareErrors struct{ afero.Fs }

func (b bareErrors) Stat(name string) (os.FileInfo, error) {
	info, err := b.Fs.Stat(name)
	if pe, ok := err.(*fs.PathError); ok {
		return nil, pe.Err
	}
	return info, err
}

func TestAferoFSLinks(t *testing.T) {
	links := map[string]func(t *testing.T) afero.Fs{
		"OsFs": func(t *testing.T) afero.Fs {
			base, dir := osBase(t)
			makeTree(t, base, "a.txt")
			require.NoError(t, os.Symlink("a.txt", filepath.Join(dir, "alias.txt")))
			require.NoError(t, os.Symlink("gone", filepath.Join(dir, "dangling")))
			return base
		},
		"MemFS": func(t *testing.T) afero.Fs {
			mem := vfstest.NewMemFS()
			makeTree(t, mem, "a.txt", "alias.txt => a.txt", "dangling => gone")
			return mem
		},
	}
	for name, newFs := range links {
		t.Run(name, func(t *testing.T) {
			base := newFs(t)
			fsys := vfs.AferoFS(base).(fs.ReadLinkFS)

			target, err := fsys.ReadLink("alias.txt")
			require.NoError(t, err)
			assert.Equal(t, "a.txt", target)
			info, err := fsys.Lstat("alias.txt")
			require.NoError(t, err)
			assert.Equal(t, fs.ModeSymlink, info.Mode().Type())
			assert.Equal(t, "alias.txt", info.Name())
			info, err = fs.Stat(fsys, "alias.txt")
			require.NoError(t, err)
			assert.True(t, info.Mode().IsRegular(), "Stat follows the link")

			_, err = fsys.ReadLink("a.txt")
			assert.Equal(t, &fs.PathError{Op: "readlink", Path: "a.txt", Err: fs.ErrInvalid}, err, "a regular file is no link")
			_, err = fsys.ReadLink("missing")
			assert.ErrorIs(t, err, fs.ErrNotExist)
			target, err = fsys.ReadLink("dangling")
			require.NoError(t, err)
			assert.Equal(t, "gone", target)
			_, err = fs.Stat(fsys, "dangling")
			assert.ErrorIs(t, err, fs.ErrNotExist)
		})
	}

	noLinks := map[string]func() afero.Fs{
		"MemMapFs":             afero.NewMemMapFs,
		"BasePathFs(MemMapFs)": func() afero.Fs { return afero.NewBasePathFs(afero.NewMemMapFs(), "/srv") },
		"no Lstater":           func() afero.Fs { return statOnly{afero.NewMemMapFs()} },
	}
	for name, newFs := range noLinks {
		t.Run(name, func(t *testing.T) {
			base := newFs()
			makeTree(t, base, "a.txt")
			fsys := vfs.AferoFS(base).(fs.ReadLinkFS)
			_, err := fsys.ReadLink("a.txt")
			assert.Equal(t, &fs.PathError{Op: "readlink", Path: "a.txt", Err: fs.ErrInvalid}, err)
			_, err = fsys.ReadLink("missing")
			assert.ErrorIs(t, err, fs.ErrNotExist)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "missing", pe.Path)

			info, err := fsys.Lstat("a.txt")
			require.NoError(t, err)
			assert.True(t, info.Mode().IsRegular())
			assert.Equal(t, int64(len(body("a.txt"))), info.Size())
		})
	}
}

// TestAferoFSEscape tries to leave the directory an OsFs is rooted in.
func TestAferoFSEscape(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "base")
	require.NoError(t, os.MkdirAll(filepath.Join(parent, "base-evil"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "base-evil", "secret"), []byte("secret"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret"), []byte("secret"), 0o644))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644))
	base := afero.NewBasePathFs(afero.NewOsFs(), dir)

	// BasePathFs alone checks containment with a string prefix
	// (spf13/afero#513): pin that, since it is why AferoFS checks names.
	data, err := afero.ReadFile(base, "../base-evil/secret")
	require.NoError(t, err, "afero.BasePathFs no longer lets ../base-evil through")
	require.Equal(t, "secret", string(data))

	fsys := vfs.AferoFS(base)
	for _, name := range []string{
		"../base-evil/secret",
		"../secret",
		"..",
		filepath.ToSlash(filepath.Join(parent, "secret")),
		strings.TrimPrefix(filepath.ToSlash(filepath.Join(parent, "secret")), "/"),
		`..\secret`,
		`..\base-evil\secret`,
		"a.txt/../../secret",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(fsys, name)
			assert.Empty(t, data)
			switch {
			case errors.Is(err, fs.ErrInvalid):
			case errors.Is(err, fs.ErrNotExist):
			default:
				t.Fatalf("ReadFile(%q) = %v, want fs.ErrInvalid or fs.ErrNotExist", name, err)
			}
		})
	}

	// A link inside the tree is followed as the OS follows it, like
	// os.DirFS does: AferoFS is no barrier against it (documented).
	require.NoError(t, os.Symlink("../base-evil", filepath.Join(dir, "out")))
	data, err = fs.ReadFile(fsys, "out/secret")
	require.NoError(t, err)
	assert.Equal(t, "secret", string(data))
}

// TestAferoFSConcurrentReadAt reads one MemMapFs file with ReadAt and Read
// at once: mem.File implements ReadAt by moving the read offset, which
// AferoFS must keep from leaking into the other reader.
func TestAferoFSConcurrentReadAt(t *testing.T) {
	mem := afero.NewMemMapFs()
	data := []byte(strings.Repeat("0123456789", 10))
	require.NoError(t, afero.WriteFile(mem, "a.txt", data, 0o644))
	f, err := vfs.AferoFS(mem).Open("a.txt")
	require.NoError(t, err)
	defer f.Close()
	ra, seeker := f.(io.ReaderAt), f.(io.Seeker)

	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := seeker.Seek(0, io.SeekStart); !assert.NoError(t, err) {
				return
			}
			got, err := io.ReadAll(iotestOneByte{f})
			if !assert.NoError(t, err) || !assert.Equal(t, data, got, "Read saw ReadAt's offset") {
				return
			}
		}
	})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			p := make([]byte, 3)
			for i := range 20000 {
				off := i % (len(data) - len(p))
				n, err := ra.ReadAt(p, int64(off))
				if !assert.NoError(t, err) || !assert.Equal(t, data[off:off+3], p[:n]) {
					return
				}
			}
		})
	}
	readers.Wait()
	close(done)
	wg.Wait()
}

// iotestOneByte reads one byte at a time, to interleave with other readers.
type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}
