package vfstest_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/vfs/vfstest"
)

var errBoom = errors.New("boom")

// faultBase is a file system a FaultFS test runs on, with the directory
// its names live under.
type faultBase struct {
	name  string
	fsys  afero.Fs
	root  string
	links bool // whether the base can make and read symlinks
}

func (b faultBase) path(name string) string {
	if b.root == "" {
		return name
	}
	return filepath.Join(b.root, name)
}

// faultBases returns a MemMapFs and an OsFs in a temporary directory, both
// holding a.txt ("hello"), dir/b.txt ("bee") and, on the OS, ln -> a.txt.
func faultBases(t *testing.T) []faultBase {
	t.Helper()
	bases := []faultBase{
		{name: "MemMapFs", fsys: afero.NewMemMapFs()},
		{name: "OsFs", fsys: afero.NewOsFs(), root: t.TempDir(), links: true},
	}
	for _, b := range bases {
		require.NoError(t, afero.WriteFile(b.fsys, b.path("a.txt"), []byte("hello"), 0o644))
		require.NoError(t, b.fsys.MkdirAll(b.path("dir"), 0o755))
		require.NoError(t, afero.WriteFile(b.fsys, b.path("dir/b.txt"), []byte("bee"), 0o644))
		if b.links {
			require.NoError(t, os.Symlink("a.txt", b.path("ln")))
		}
	}
	return bases
}

func exists(t *testing.T, fsys afero.Fs, name string) bool {
	t.Helper()
	_, err := fsys.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	require.NoError(t, err)
	return true
}

func TestFaultFSFailsEachOp(t *testing.T) {
	// withFile opens name and calls use on it, closing the file afterwards
	// (a Close fault is the case's own business).
	withFile := func(fsys afero.Fs, name string, flag int, use func(afero.File) error) error {
		f, err := fsys.OpenFile(name, flag, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		return use(f)
	}
	tests := []struct {
		name   string
		op     vfstest.Op
		path   string                                           // the rule's path, relative to the base's root
		call   func(fsys afero.Fs, p func(string) string) error // the operation under test
		errOp  string                                           // the Op of the *fs.PathError or *os.LinkError the call returns
		link   bool                                             // needs symlink support to succeed
		intact func(t *testing.T, fsys afero.Fs, p func(string) string)
	}{
		{
			name: "Create", errOp: "open", op: vfstest.OpCreate, path: "new.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				f, err := fsys.Create(p("new.txt"))
				if err == nil {
					err = f.Close()
				}
				return err
			},
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.False(t, exists(t, fsys, p("new.txt")), "new.txt was created")
			},
		},
		{
			name: "Mkdir", errOp: "mkdir", op: vfstest.OpMkdir, path: "new",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.Mkdir(p("new"), 0o755) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.False(t, exists(t, fsys, p("new")), "new was created")
			},
		},
		{
			name: "MkdirAll", errOp: "mkdir", op: vfstest.OpMkdirAll, path: "x/y",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.MkdirAll(p("x/y"), 0o755) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.False(t, exists(t, fsys, p("x")), "x was created")
			},
		},
		{
			name: "Open", errOp: "open", op: vfstest.OpOpen, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				f, err := fsys.Open(p("a.txt"))
				if err == nil {
					err = f.Close()
				}
				return err
			},
		},
		{
			name: "OpenFile", errOp: "open", op: vfstest.OpOpenFile, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDWR|os.O_TRUNC, func(afero.File) error { return nil })
			},
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				data, err := afero.ReadFile(fsys, p("a.txt"))
				require.NoError(t, err)
				assert.Equal(t, "hello", string(data), "a.txt was truncated")
			},
		},
		{
			name: "Remove", errOp: "remove", op: vfstest.OpRemove, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.Remove(p("a.txt")) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.True(t, exists(t, fsys, p("a.txt")), "a.txt was removed")
			},
		},
		{
			name: "RemoveAll", errOp: "unlinkat", op: vfstest.OpRemoveAll, path: "dir",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.RemoveAll(p("dir")) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.True(t, exists(t, fsys, p("dir/b.txt")), "dir/b.txt was removed")
			},
		},
		{
			name: "Rename by old name", errOp: "rename", op: vfstest.OpRename, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.Rename(p("a.txt"), p("c.txt")) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.True(t, exists(t, fsys, p("a.txt")), "a.txt was renamed")
				assert.False(t, exists(t, fsys, p("c.txt")), "c.txt was created")
			},
		},
		{
			name: "Rename by new name", errOp: "rename", op: vfstest.OpRename, path: "c.txt",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.Rename(p("a.txt"), p("c.txt")) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				assert.True(t, exists(t, fsys, p("a.txt")), "a.txt was renamed")
			},
		},
		{
			name: "Stat", errOp: "stat", op: vfstest.OpStat, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error { _, err := fsys.Stat(p("a.txt")); return err },
		},
		{
			name: "Chmod", errOp: "chmod", op: vfstest.OpChmod, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.Chmod(p("a.txt"), 0o600) },
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				info, err := fsys.Stat(p("a.txt"))
				require.NoError(t, err)
				assert.Equal(t, fs.FileMode(0o644), info.Mode().Perm())
			},
		},
		{
			name: "Chown", errOp: "chown", op: vfstest.OpChown, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error { return fsys.Chown(p("a.txt"), -1, -1) },
		},
		{
			name: "Chtimes", errOp: "chtimes", op: vfstest.OpChtimes, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return fsys.Chtimes(p("a.txt"), time.Unix(1, 0), time.Unix(1, 0))
			},
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				info, err := fsys.Stat(p("a.txt"))
				require.NoError(t, err)
				assert.NotEqual(t, int64(1), info.ModTime().Unix(), "mtime was changed")
			},
		},
		{
			name: "Lstat", errOp: "lstat", op: vfstest.OpLstat, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				_, _, err := fsys.(afero.Lstater).LstatIfPossible(p("a.txt"))
				return err
			},
		},
		{
			name: "Symlink", errOp: "symlink", op: vfstest.OpSymlink, path: "v1", link: true,
			call: func(fsys afero.Fs, p func(string) string) error {
				return fsys.(afero.Linker).SymlinkIfPossible(".", p("v1"))
			},
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				_, _, err := fsys.(afero.Lstater).LstatIfPossible(p("v1"))
				assert.ErrorIs(t, err, fs.ErrNotExist, "v1 was created")
			},
		},
		{
			name: "Readlink", errOp: "readlink", op: vfstest.OpReadlink, path: "ln", link: true,
			call: func(fsys afero.Fs, p func(string) string) error {
				_, err := fsys.(afero.LinkReader).ReadlinkIfPossible(p("ln"))
				return err
			},
		},
		{
			name: "Read", errOp: "read", op: vfstest.OpRead, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDONLY, func(f afero.File) error {
					_, err := f.Read(make([]byte, 5))
					return err
				})
			},
		},
		{
			name: "ReadAt", errOp: "read", op: vfstest.OpRead, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDONLY, func(f afero.File) error {
					_, err := f.ReadAt(make([]byte, 4), 1)
					return err
				})
			},
		},
		{
			name: "Write", errOp: "write", op: vfstest.OpWrite, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDWR, func(f afero.File) error {
					_, err := f.Write([]byte("J"))
					return err
				})
			},
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				data, err := afero.ReadFile(fsys, p("a.txt"))
				require.NoError(t, err)
				assert.Equal(t, "hello", string(data))
			},
		},
		{
			name: "WriteAt", errOp: "write", op: vfstest.OpWrite, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDWR, func(f afero.File) error {
					_, err := f.WriteAt([]byte("J"), 0)
					return err
				})
			},
		},
		{
			name: "WriteString", errOp: "write", op: vfstest.OpWrite, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDWR, func(f afero.File) error {
					_, err := f.WriteString("J")
					return err
				})
			},
		},
		{
			name: "Seek", errOp: "seek", op: vfstest.OpSeek, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDONLY, func(f afero.File) error {
					_, err := f.Seek(1, io.SeekStart)
					return err
				})
			},
		},
		{
			name: "Readdir", errOp: "readdirent", op: vfstest.OpReadDir, path: "dir",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("dir"), os.O_RDONLY, func(f afero.File) error {
					_, err := f.Readdir(-1)
					return err
				})
			},
		},
		{
			name: "Readdirnames", errOp: "readdirent", op: vfstest.OpReadDir, path: "dir",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("dir"), os.O_RDONLY, func(f afero.File) error {
					_, err := f.Readdirnames(-1)
					return err
				})
			},
		},
		{
			name: "File.Stat", errOp: "stat", op: vfstest.OpFileStat, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDONLY, func(f afero.File) error {
					_, err := f.Stat()
					return err
				})
			},
		},
		{
			name: "Sync", errOp: "sync", op: vfstest.OpSync, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDWR, func(f afero.File) error { return f.Sync() })
			},
		},
		{
			name: "Truncate", errOp: "truncate", op: vfstest.OpTruncate, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				return withFile(fsys, p("a.txt"), os.O_RDWR, func(f afero.File) error { return f.Truncate(0) })
			},
			intact: func(t *testing.T, fsys afero.Fs, p func(string) string) {
				data, err := afero.ReadFile(fsys, p("a.txt"))
				require.NoError(t, err)
				assert.Equal(t, "hello", string(data))
			},
		},
		{
			name: "Close", errOp: "close", op: vfstest.OpClose, path: "a.txt",
			call: func(fsys afero.Fs, p func(string) string) error {
				f, err := fsys.Open(p("a.txt"))
				if err != nil {
					return err
				}
				return f.Close()
			},
		},
	}
	for i := range faultBases(t) {
		for _, tt := range tests {
			base := faultBases(t)[i]
			t.Run(base.name+"/"+tt.name, func(t *testing.T) {
				fsys := vfstest.NewFaultFS(base.fsys)
				fsys.Inject(vfstest.Rule{Op: tt.op, Path: base.path(tt.path), Err: errBoom})

				err := tt.call(fsys, base.path)
				require.ErrorIs(t, err, errBoom)
				switch tt.op {
				case vfstest.OpRename:
					assert.Equal(t, &os.LinkError{Op: tt.errOp, Old: base.path("a.txt"), New: base.path("c.txt"), Err: errBoom}, err)
				case vfstest.OpSymlink:
					assert.Equal(t, &os.LinkError{Op: tt.errOp, Old: ".", New: base.path(tt.path), Err: errBoom}, err)
				default:
					assert.Equal(t, &fs.PathError{Op: tt.errOp, Path: base.path(tt.path), Err: errBoom}, err)
				}
				if tt.intact != nil {
					tt.intact(t, fsys, base.path)
				}
				assert.Equal(t, 1, fsys.Calls(tt.op, base.path(tt.path)))

				// Without the rule the same call succeeds, so the fault was the
				// only reason it failed.
				fsys.Reset()
				err = tt.call(fsys, base.path)
				switch {
				case tt.link && !base.links && tt.op == vfstest.OpSymlink:
					assert.ErrorIs(t, err, afero.ErrNoSymlink)
				case tt.link && !base.links:
					assert.ErrorIs(t, err, afero.ErrNoReadlink)
				default:
					assert.NoError(t, err)
				}
			})
		}
	}
}

func TestFaultFSNth(t *testing.T) {
	tests := []struct {
		name string
		rule vfstest.Rule
		want []bool // whether each of four Stat("a.txt") calls fails
	}{
		{"first call", vfstest.Rule{Op: vfstest.OpStat, Path: "a.txt", Nth: 1}, []bool{true, false, false, false}},
		{"third call", vfstest.Rule{Op: vfstest.OpStat, Path: "a.txt", Nth: 3}, []bool{false, false, true, false}},
		{"every call", vfstest.Rule{Op: vfstest.OpStat, Path: "a.txt"}, []bool{true, true, true, true}},
		{"any path", vfstest.Rule{Op: vfstest.OpStat, Nth: 2}, []bool{false, true, false, false}},
		{"uncleaned path", vfstest.Rule{Op: vfstest.OpStat, Path: "./dir/../a.txt"}, []bool{true, true, true, true}},
		{"other path", vfstest.Rule{Op: vfstest.OpStat, Path: "dir/b.txt"}, []bool{false, false, false, false}},
		{"other op", vfstest.Rule{Op: vfstest.OpLstat, Path: "a.txt"}, []bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := faultBases(t)[0]
			fsys := vfstest.NewFaultFS(base.fsys)
			fsys.Inject(tt.rule)
			var got []bool
			for range tt.want {
				_, err := fsys.Stat("a.txt")
				if err != nil {
					assert.ErrorIs(t, err, vfstest.ErrInjected)
				}
				got = append(got, err != nil)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(tt.want), fsys.Calls(vfstest.OpStat, "a.txt"))
			assert.Equal(t, len(tt.want), fsys.Calls(vfstest.OpStat, "./a.txt"))
			assert.Equal(t, len(tt.want), fsys.Calls(vfstest.OpStat, ""))
			assert.Zero(t, fsys.Calls(vfstest.OpStat, "dir/b.txt"))
		})
	}
}

func TestFaultFSRuleOrder(t *testing.T) {
	fsys := vfstest.NewFaultFS(afero.NewMemMapFs())
	fsys.Inject(vfstest.Rule{Op: vfstest.OpMkdir, Nth: 2, Err: fs.ErrPermission})
	fsys.Inject(vfstest.Rule{Op: vfstest.OpMkdir, Err: syscall.EROFS})

	err := fsys.Mkdir("a", 0o755)
	assert.ErrorIs(t, err, syscall.EROFS, "only the second rule matches call 1")
	err = fsys.Mkdir("a", 0o755)
	assert.ErrorIs(t, err, fs.ErrPermission, "the first rule injected decides call 2")
	assert.NotErrorIs(t, err, syscall.EROFS)
}

func TestFaultFSCountsAndReset(t *testing.T) {
	fsys := vfstest.NewFaultFS(afero.NewMemMapFs())
	require.NoError(t, afero.WriteFile(fsys, "a.txt", []byte("hello"), 0o644))
	fsys.Inject(vfstest.Rule{Op: vfstest.OpRename, Path: "b.txt", Err: errBoom})

	assert.ErrorIs(t, fsys.Rename("a.txt", "b.txt"), errBoom)
	require.NoError(t, fsys.Rename("a.txt", "c.txt"))
	assert.Equal(t, 2, fsys.Calls(vfstest.OpRename, "a.txt"), "a rename concerns its old name")
	assert.Equal(t, 1, fsys.Calls(vfstest.OpRename, "b.txt"), "a rename concerns its new name")
	assert.Equal(t, 1, fsys.Calls(vfstest.OpRename, "c.txt"))
	assert.Equal(t, 2, fsys.Calls(vfstest.OpRename, ""))
	assert.Equal(t, 1, fsys.Calls(vfstest.OpOpenFile, "a.txt"), "WriteFile opened a.txt once")
	assert.Equal(t, 1, fsys.Calls(vfstest.OpWrite, "a.txt"))
	assert.Equal(t, 1, fsys.Calls(vfstest.OpClose, "a.txt"))

	fsys.Reset()
	assert.Zero(t, fsys.Calls(vfstest.OpRename, ""))
	assert.NoError(t, fsys.Rename("c.txt", "b.txt"), "Reset removed the rule")
	assert.Equal(t, 1, fsys.Calls(vfstest.OpRename, "b.txt"))
}

// statOnly hides every method of an afero.Fs but the Fs interface's own.
type statOnly struct{ afero.Fs }

func TestFaultFSWithoutSymlinks(t *testing.T) {
	mem := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(mem, "a.txt", []byte("hello"), 0o644))
	fsys := vfstest.NewFaultFS(statOnly{mem})

	err := fsys.SymlinkIfPossible(".", "v1")
	var le *os.LinkError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, afero.ErrNoSymlink)
	assert.Equal(t, &os.LinkError{Op: "symlink", Old: ".", New: "v1", Err: afero.ErrNoSymlink}, le)

	_, err = fsys.ReadlinkIfPossible("a.txt")
	assert.ErrorIs(t, err, afero.ErrNoReadlink)
	assert.Equal(t, 1, fsys.Calls(vfstest.OpReadlink, "a.txt"))

	info, lstatCalled, err := fsys.LstatIfPossible("a.txt")
	require.NoError(t, err)
	assert.False(t, lstatCalled, "a base without Lstater is asked Stat")
	assert.Equal(t, int64(5), info.Size())
}

func TestFaultFSForwardsSymlinks(t *testing.T) {
	bases := map[string]func(t *testing.T) (afero.Fs, string){
		"OsFs":  func(t *testing.T) (afero.Fs, string) { return afero.NewOsFs(), t.TempDir() },
		"MemFS": func(t *testing.T) (afero.Fs, string) { return vfstest.NewMemFS(), "/static" },
	}
	for name, newBase := range bases {
		t.Run(name, func(t *testing.T) {
			base, dir := newBase(t)
			require.NoError(t, base.MkdirAll(dir, 0o755))
			fsys := vfstest.NewFaultFS(base)
			link := filepath.Join(dir, "v1")

			require.NoError(t, fsys.SymlinkIfPossible(".", link))
			target, err := fsys.ReadlinkIfPossible(link)
			require.NoError(t, err)
			assert.Equal(t, ".", target, "the target is passed through unchanged")
			info, lstatCalled, err := fsys.LstatIfPossible(link)
			require.NoError(t, err)
			assert.True(t, lstatCalled)
			assert.Equal(t, fs.ModeSymlink, info.Mode().Type())

			// A crash test's step: the link step fails, nothing is made.
			fsys.Inject(vfstest.Rule{Op: vfstest.OpSymlink, Path: filepath.Join(dir, "v2"), Err: fs.ErrPermission})
			err = fsys.SymlinkIfPossible(".", filepath.Join(dir, "v2"))
			assert.Equal(t, &os.LinkError{Op: "symlink", Old: ".", New: filepath.Join(dir, "v2"), Err: fs.ErrPermission}, err)
			_, _, err = fsys.LstatIfPossible(filepath.Join(dir, "v2"))
			assert.ErrorIs(t, err, fs.ErrNotExist)
		})
	}
}

func TestFaultFSConcurrent(t *testing.T) {
	fsys := vfstest.NewFaultFS(afero.NewMemMapFs())
	require.NoError(t, afero.WriteFile(fsys, "a.txt", []byte("hello"), 0o644))
	fsys.Inject(vfstest.Rule{Op: vfstest.OpRead, Path: "a.txt", Nth: 50})

	const workers, each = 8, 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures int
	)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := afero.ReadFile(fsys, "a.txt")
				if err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, failures, "exactly the 50th read fails")
	assert.GreaterOrEqual(t, fsys.Calls(vfstest.OpRead, "a.txt"), workers*each)
	assert.Equal(t, workers*each, fsys.Calls(vfstest.OpOpen, "a.txt"))
}

func TestOpString(t *testing.T) {
	assert.Equal(t, "Rename", vfstest.OpRename.String())
	assert.Equal(t, "File.Stat", vfstest.OpFileStat.String())
	assert.Equal(t, "Close", vfstest.OpClose.String())
	assert.Equal(t, "Op(0)", vfstest.Op(0).String())
	assert.Equal(t, "Op(99)", vfstest.Op(99).String())
}
