//go:build linux && (amd64 || arm64)

package stampfs

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func names(files []File) []string {
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

// manyFiles lists n files with long names in dir, in no particular order.
func manyFiles(dir string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s/%06d-%s", dir, (i*7919)%n, strings.Repeat("n", 90)))
	}
	return out
}

// TestOSWalkMatchesPortable checks that the Linux walk returns exactly the
// table of walkPortable over the OS file system, with and without hashes and
// with d_type ignored, on trees of odd shapes and names. Each case also pins
// the counted names, so that both walks agreeing cannot hide a fault of both.
func TestOSWalkMatchesPortable(t *testing.T) {
	long := strings.Repeat("L", 255)
	deep := strings.Repeat("d/", 60) + "bottom.txt"
	tests := []struct {
		name  string
		tree  []string
		count []string // the counted names, in order; nil when listed by count only
		n     int
	}{
		{
			name:  "empty root",
			count: []string{},
		},
		{
			name:  "only empty directories",
			tree:  []string{"a/", "a/b/c/", "e/"},
			count: []string{},
		},
		{
			name:  "as deep as maxDepth",
			tree:  []string{strings.Repeat("d/", maxDepth) + "x.txt"},
			count: []string{strings.Repeat("d/", maxDepth) + "x.txt"},
		},
		{
			name:  "flat",
			tree:  []string{"b.txt", "a.txt", "c"},
			count: []string{"a.txt", "b.txt", "c"},
		},
		{
			name:  "nested",
			tree:  []string{"js/app.js", "css/sub/deep/x.css", "css/a.css", "img/", "index.html", deep},
			count: []string{"css/a.css", "css/sub/deep/x.css", deep, "index.html", "js/app.js"},
		},
		{
			name: "hidden files and directories",
			tree: []string{".git/HEAD", ".git/objects/ab/cd", ".hidden", "css/.cache/x.css",
				"css/.x", "css/a.css", "a.b/.c", "a.b/c", "..x/y", "x../y"},
			count: []string{"a.b/c", "css/a.css", "x../y"},
		},
		{
			name: "symlinks",
			tree: []string{"a.txt", "css/a.css", "link => a.txt", "dirlink => css",
				"v1 => .", "css/up => ..", "loop => loop", "ping => pong", "pong => ping",
				"dangling => nowhere", "abs => /etc", "abs-file => /etc/hostname"},
			count: []string{"a.txt", "css/a.css"},
		},
		{
			name:  "special files",
			tree:  []string{"a.txt", "pipe |", "sub/pipe |", "sub/b.txt"},
			count: []string{"a.txt", "sub/b.txt"},
		},
		{
			name: "odd names",
			tree: []string{"new\nline", "with space", "tab\there", "unicodé/ñ.txt", "日本/語",
				long, "sub/" + long, "back\\slash", "quote\"'s", "a/x", "a-b/x", "a.b", "a0",
				"a!", "%2e%2e", "-dash", "\x01ctl", "\xff\xfe not utf-8",
				"s/a/z", "s/a b", "s/a+/y", "s/a,", "s/a\x1f", "s/a0/x", "s/a.txt", "s/a/b/c"},
			count: []string{"\x01ctl", "%2e%2e", "-dash", long, "a!", "a-b/x", "a.b", "a/x",
				"a0", "back\\slash", "new\nline", "quote\"'s",
				"s/a\x1f", "s/a b", "s/a+/y", "s/a,", "s/a.txt", "s/a/b/c", "s/a/z", "s/a0/x",
				"sub/" + long, "tab\there", "unicodé/ñ.txt", "with space", "\xe6\x97\xa5\xe6\x9c\xac/\xe8\xaa\x9e", "\xff\xfe not utf-8"},
		},
		{
			name:  "sizes",
			tree:  []string{"empty @0", "one @1", "block @4096", "big @200000", "bigger @1000003"},
			count: []string{"big", "bigger", "block", "empty", "one"},
		},
		{
			name: "many entries per directory",
			tree: append(append(manyFiles("x", 700), manyFiles("y/z", 150)...), "y/a", "y/z/.h"),
			n:    851,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, tt.tree...)
			for _, hash := range []bool{false, true} {
				want, err := walkPortableFiles(afero.NewOsFs(), dir, hash)
				require.NoError(t, err)
				got, err := walkLinuxFiles(dir, hash)
				require.NoError(t, err)
				if tt.count != nil {
					assert.Equal(t, tt.count, names(got), "hash=%v", hash)
				} else {
					assert.Len(t, got, tt.n, "hash=%v", hash)
				}
				assert.Equal(t, want, got, "hash=%v", hash)

				// As on a file system without d_type, where every entry is
				// lstat'ed to learn its type.
				testHookEntry = func(string) bool { return true }
				got, err = walkLinuxFiles(dir, hash)
				testHookEntry = nil
				require.NoError(t, err)
				assert.Equal(t, want, got, "hash=%v, DT_UNKNOWN", hash)
			}
		})
	}
}

// TestOSWalkFileFields pins what the walk records beyond names, so that both
// walks agreeing cannot hide a field both get wrong.
func TestOSWalkFileFields(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, "a.txt", "pipe |", "b/c.txt")
	mtime := time.Unix(1_600_000_000, 123_456_789)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "b/c.txt"), mtime, mtime))

	got, err := walkLinuxFiles(dir, true)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "b/c.txt", got[1].Name)
	assert.Equal(t, int64(len("b/c.txt")), got[1].Size)
	assert.True(t, mtime.Equal(got[1].ModTime), "mtime %v", got[1].ModTime)
	assert.Equal(t, sha256.Sum256([]byte("b/c.txt")), got[1].SHA256)

	got, err = walkLinuxFiles(dir, false)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, [32]byte{}, got[0].SHA256, "no hash unless asked")
	assert.True(t, mtime.Equal(got[1].ModTime), "mtime %v", got[1].ModTime)

	before1970 := time.Unix(-86_401, 999_999_999)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "a.txt"), before1970, before1970))
	for _, hash := range []bool{false, true} {
		want, err := walkPortableFiles(afero.NewOsFs(), dir, hash)
		require.NoError(t, err)
		got, err := walkLinuxFiles(dir, hash)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.True(t, before1970.Equal(got[0].ModTime), "mtime %v", got[0].ModTime)
	}
}

func TestOSWalkErrors(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, "file.txt", "sub/a.txt", "dirlink => sub", "dangling => nowhere",
		"deep/"+strings.Repeat("d/", maxDepth+1)+"x.txt")
	tests := []struct {
		name string
		dir  string
		is   error
	}{
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist},
		{"missing parent", filepath.Join(dir, "missing", "sub"), fs.ErrNotExist},
		{"empty path", "", fs.ErrNotExist},
		{"file as directory", filepath.Join(dir, "file.txt"), syscall.ENOTDIR},
		{"below a file", filepath.Join(dir, "file.txt", "x"), syscall.ENOTDIR},
		{"dangling symlink", filepath.Join(dir, "dangling"), fs.ErrNotExist},
		{"deeper than maxDepth", filepath.Join(dir, "deep"), syscall.ELOOP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, hash := range []bool{false, true} {
				_, wantErr := walkPortableFiles(afero.NewOsFs(), tt.dir, hash)
				got, err := walkLinuxFiles(tt.dir, hash)
				assert.Nil(t, got)
				assertSameError(t, wantErr, err, tt.is)
			}
		})
	}
}

// TestOSWalkRaces changes a file between listing and stat'ing or opening
// it. walkPortable reports a file gone as an lstat error; one that is no
// longer a regular file is not counted. (These races cannot be staged for
// walkPortable, so only the Linux walk is checked.)
func TestOSWalkRaces(t *testing.T) {
	tests := []struct {
		name   string
		change func(path string) error
		err    string // "" for none; %s is the file's path
	}{
		{"removed", os.Remove, "lstat %s: no such file or directory"},
		{"replaced by a link", func(path string) error {
			if err := os.Remove(path); err != nil {
				return err
			}
			return os.Symlink("../a.txt", path)
		}, ""},
		{"replaced by a FIFO", func(path string) error {
			if err := os.Remove(path); err != nil {
				return err
			}
			return syscall.Mkfifo(path, 0o644) // opened, it would block a reader
		}, ""},
	}
	for _, tt := range tests {
		for _, hash := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/hash=%v", tt.name, hash), func(t *testing.T) {
				dir := t.TempDir()
				makeTree(t, dir, "a.txt", "sub/b.txt", "sub/c.txt", "sub/d.txt")
				// Change the second entry in directory order: the first is
				// lstat'ed to learn whether the directory is searchable,
				// the others are opened as d_type says.
				order, err := os.ReadDir(filepath.Join(dir, "sub"))
				require.NoError(t, err)
				changed := "sub/" + order[1].Name()
				path := filepath.Join(dir, changed)
				testHookEntry = func(name string) bool {
					if name == changed {
						assert.NoError(t, tt.change(path)) // on a worker goroutine
					}
					return false
				}
				t.Cleanup(func() { testHookEntry = nil })

				got, err := walkLinuxFiles(dir, hash)
				if tt.err != "" {
					assert.Nil(t, got)
					assert.EqualError(t, err, fmt.Sprintf(tt.err, path))
					return
				}
				require.NoError(t, err)
				want := []string{"a.txt", "sub/b.txt", "sub/c.txt", "sub/d.txt"}
				assert.Equal(t, slices.DeleteFunc(want, func(n string) bool { return n == changed }), names(got))
			})
		}
	}
}

// assertSameError checks that got and want both wrap is in a *fs.PathError
// naming the same path.
func assertSameError(t *testing.T, want, got, is error) {
	t.Helper()
	require.Error(t, want, "portable walk")
	require.Error(t, got, "Linux walk")
	assert.ErrorIs(t, want, is, "portable walk")
	assert.ErrorIs(t, got, is, "Linux walk")
	var wantPE, gotPE *fs.PathError
	require.ErrorAs(t, want, &wantPE, "portable walk")
	require.ErrorAs(t, got, &gotPE, "Linux walk")
	assert.Equal(t, wantPE.Path, gotPE.Path)
}

// unreadableCases are the error cases that need a user whom permissions
// stop. Each case directory holds ok/a.txt and tree, then gets the modes of
// locks.
var unreadableCases = []struct {
	name  string
	tree  []string
	locks map[string]os.FileMode
	hash  bool
	path  string   // the path the error names, relative to the case directory; "" to compare only
	count []string // the counted files when there is no error
}{
	{
		name:  "unreadable directory",
		tree:  []string{"noread/f.txt"},
		locks: map[string]os.FileMode{"noread": 0o311},
		path:  "noread",
	},
	{
		name:  "unsearchable directory",
		tree:  []string{"nosearch/g.txt"},
		locks: map[string]os.FileMode{"nosearch": 0o644},
		path:  "nosearch/g.txt",
	},
	{
		name:  "unsearchable directory of a link and a FIFO",
		tree:  []string{"nosearch/link => ../ok", "nosearch/pipe |", "nosearch/.h"},
		locks: map[string]os.FileMode{"nosearch": 0o644},
	},
	{
		name:  "directory of mode 000",
		tree:  []string{"locked/h.txt"},
		locks: map[string]os.FileMode{"locked": 0o000},
		hash:  true,
		path:  "locked",
	},
	{
		name:  "unreadable file, listing only",
		tree:  []string{"secret.txt"},
		locks: map[string]os.FileMode{"secret.txt": 0o000},
		count: []string{"ok/a.txt", "secret.txt"},
	},
	{
		name:  "unreadable file, hashed",
		tree:  []string{"secret.txt"},
		locks: map[string]os.FileMode{"secret.txt": 0o000},
		hash:  true,
		path:  "secret.txt",
	},
	{
		name:  "unreadable files, hashed: the least name wins",
		tree:  []string{"m/z.txt", "b.txt", "a/b/c.txt", "a/b.txt", "a.txt"},
		locks: map[string]os.FileMode{"m/z.txt": 0, "b.txt": 0, "a/b/c.txt": 0, "a/b.txt": 0},
		hash:  true,
		path:  "a/b.txt",
	},
	{
		name: "several failures: the walk's first wins",
		tree: []string{"m/z.txt", "b.txt", "a/b/c.txt", "a/b.txt", "c/d/e.txt", "n/", "p/q/r/s.txt", "a.txt"},
		locks: map[string]os.FileMode{"m/z.txt": 0, "b.txt": 0, "a/b": 0, "a/b.txt": 0, "c/d": 0o311,
			"n": 0o000, "p/q": 0o644},
		hash: true,
	},
}

// TestOSWalkUnreadable checks unreadable files and directories. As root,
// whom permissions do not stop, it re-runs itself as nobody.
func TestOSWalkUnreadable(t *testing.T) {
	if root := os.Getenv("STAMPFS_UNREADABLE_CHILD"); root != "" {
		if _, err := os.Stat(root); err != nil {
			t.Skipf("nobody cannot reach the test's temporary directory: %v", err)
		}
		checkUnreadable(t, root)
		return
	}
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(root), 0o755)) // the test's own temporary directory
	for i, tt := range unreadableCases {
		dir := filepath.Join(root, strconv.Itoa(i))
		makeTree(t, dir, append([]string{"ok/a.txt"}, tt.tree...)...)
		for name, mode := range tt.locks {
			locked := filepath.Join(dir, name)
			require.NoError(t, os.Chmod(locked, mode))
			t.Cleanup(func() { os.Chmod(locked, 0o755) })
		}
	}
	if os.Geteuid() != 0 {
		checkUnreadable(t, root)
		return
	}
	runAsNobody(t, root)
}

func checkUnreadable(t *testing.T, root string) {
	for i, tt := range unreadableCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(root, strconv.Itoa(i))
			want, wantErr := walkPortableFiles(afero.NewOsFs(), dir, tt.hash)
			got, err := walkLinuxFiles(dir, tt.hash)
			if tt.count != nil {
				require.NoError(t, wantErr)
				require.NoError(t, err)
				assert.Equal(t, tt.count, names(got))
				assert.Equal(t, want, got)
				return
			}
			assertSameError(t, wantErr, err, fs.ErrPermission)
			if tt.path != "" {
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, filepath.Join(dir, tt.path), pe.Path)
			}
		})
	}
}

// runAsNobody runs TestOSWalkUnreadable in a copy of the test binary as the
// user nobody, so that file permissions apply.
func runAsNobody(t *testing.T, dir string) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "walk.test")
	data, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(bin), 0o755))
	cmd := exec.Command(bin, "-test.run=^TestOSWalkUnreadable$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "STAMPFS_UNREADABLE_CHILD="+dir)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		t.Skipf("cannot run a process as nobody here: %v", err) // no setuid in this container, an emulator
	}
	require.NoError(t, err, "child as nobody:\n%s", out)
	if strings.Contains(string(out), "--- SKIP: TestOSWalkUnreadable") {
		t.Skipf("the child as nobody skipped:\n%s", out)
	}
	assert.Contains(t, string(out), "--- PASS: TestOSWalkUnreadable/unreadable_file,_hashed")
}

// TestOSWalkAllocations proves that the hot path allocates per directory,
// not per file: three times the files in the same directories cost next to
// no more allocations.
func TestOSWalkAllocations(t *testing.T) {
	allocs := func(perDir int, hash bool) float64 {
		t.Helper()
		dir := t.TempDir()
		var tree []string
		for d := range 4 {
			for f := range perDir {
				tree = append(tree, fmt.Sprintf("d%d/f%03d.txt", d, f))
			}
		}
		makeTree(t, dir, tree...)
		return testing.AllocsPerRun(5, func() {
			files, err := walkLinuxFiles(dir, hash)
			if err != nil || len(files) != 4*perDir {
				t.Fatalf("walk: %d files, %v", len(files), err)
			}
		})
	}
	for _, hash := range []bool{false, true} {
		few, many := allocs(50, hash), allocs(150, hash)
		// 400 more files: a per-file allocation would add 400; each worker's
		// buffers grow a few more times.
		assert.Less(t, many-few, 100.0, "hash=%v: %v allocations for 200 files, %v for 600", hash, few, many)
	}
}

// walkLinuxFiles and walkPortableFiles are the two walks without the
// liveStat table, which most tests here do not need.
func walkLinuxFiles(dir string, hash bool) ([]File, error) {
	files, _, err := walkLinux(dir, hash, false, nil)
	return files, err
}

func walkPortableFiles(fsys afero.Fs, dir string, hash bool) ([]File, error) {
	files, _, err := walkPortable(fsys, dir, hash, false, nil)
	return files, err
}

// TestWalkLinuxStatsAgree checks that both walks give every file the
// identity and change time that os.Lstat reports, with and without hashing.
func TestWalkLinuxStatsAgree(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.css", "sub/b.js", "sub/deeper/c.txt"} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(name), 0o644))
	}
	for _, hash := range []bool{false, true} {
		files, stats, err := walkLinux(dir, hash, true, nil)
		require.NoError(t, err)
		pfiles, pstats, err := walkPortable(afero.NewOsFs(), dir, hash, true, nil)
		require.NoError(t, err)
		assert.Equal(t, pfiles, files)
		assert.Equal(t, pstats, stats)
		require.Len(t, stats, 3)
		for i, f := range files {
			fi, err := os.Lstat(filepath.Join(dir, f.Name))
			require.NoError(t, err)
			assert.Equal(t, statOfInfo(fi), stats[i], f.Name)
			assert.NotZero(t, stats[i].ino, f.Name)
		}
	}
}
