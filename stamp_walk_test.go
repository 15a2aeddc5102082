//go:build unix

package stampfs

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// makeTree builds a tree under root from one line per entry:
//
//	"css/a.css"        a file whose bytes are its own name (parents made as needed)
//	"big.bin @200000"  a file of that many pseudo-random bytes
//	"img/"             a directory
//	"v1 => ."          a symbolic link with that target
//	"pipe |"           a FIFO
//
// Every file gets its own mtime with a nanosecond part.
func makeTree(t *testing.T, root string, lines ...string) {
	t.Helper()
	for i, line := range lines {
		name, target, isLink := strings.Cut(line, " => ")
		switch {
		case isLink:
			mkParent(t, root, name)
			require.NoError(t, os.Symlink(target, filepath.Join(root, name)))
		case strings.HasSuffix(line, "/"):
			require.NoError(t, os.MkdirAll(filepath.Join(root, line), 0o755))
		case strings.HasSuffix(line, " |"):
			name = strings.TrimSuffix(line, " |")
			mkParent(t, root, name)
			require.NoError(t, syscall.Mkfifo(filepath.Join(root, name), 0o644))
		default:
			data := []byte(line)
			if n, size, ok := strings.Cut(line, " @"); ok {
				name = n
				count, err := strconv.Atoi(size)
				require.NoError(t, err)
				data = make([]byte, count)
				rand.NewChaCha8([32]byte{byte(i)}).Read(data)
			}
			mkParent(t, root, name)
			path := filepath.Join(root, name)
			require.NoError(t, os.WriteFile(path, data, 0o644))
			mtime := time.Unix(1_700_000_000+int64(i)*977, int64(i)*1_000_003+7)
			require.NoError(t, os.Chtimes(path, mtime, mtime))
		}
	}
}

// mkParent makes the directories that are to hold root/name.
func mkParent(t *testing.T, root, name string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
}

func TestScanUsesOSWalkOnlyOnOsFs(t *testing.T) {
	saved := osWalk
	t.Cleanup(func() { osWalk = saved })
	var calls []string
	osWalk = func(dir string, hash, stat bool, _ *meter) ([]File, []liveStat, error) {
		calls = append(calls, dir)
		return []File{{Name: "from-osWalk"}}, nil, nil
	}

	snap, err := Scan(afero.NewOsFs(), "/some/dir", &ScanOptions{Strategy: Fixed, Version: "v1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"/some/dir"}, calls)
	assert.Equal(t, []File{{Name: "from-osWalk"}}, snap.Files())

	mem := afero.NewMemMapFs()
	require.NoError(t, mem.MkdirAll("/some/dir", 0o755))
	for _, fsys := range []afero.Fs{mem, afero.NewReadOnlyFs(afero.NewOsFs()), afero.NewBasePathFs(afero.NewOsFs(), "/")} {
		calls = nil
		_, _ = Scan(fsys, "/some/dir", nil)
		assert.Emptyf(t, calls, "%T must take the portable walk", fsys)
	}
}

// TestOSWalkAgreesWithWalkPortable holds osWalk, where a platform sets it,
// to the table and the errors of the portable walk.
func TestOSWalkAgreesWithWalkPortable(t *testing.T) {
	if osWalk == nil {
		t.Skip("no OS fast path on this platform")
	}
	root := t.TempDir()
	makeTree(t, filepath.Join(root, "tree"),
		"css/a.css", "css/b.css", "a.c", "a/b", "a-b", "A", "empty/", "deep/er/still/x.js",
		".env", ".git/HEAD", "css/.swp", "css/.cache/x",
		"a b.css", "ünï/cödé.js", "back\\slash", "new\nline", "car\rriage",
		"v1 => .", "css/up => ..", "link.css => css/a.css", "dangling => nowhere", "loop1 => loop2", "loop2 => loop1",
		"fifo |",
	)
	makeTree(t, root, "file", "emptydir/", "current => tree")

	dirs := []string{
		filepath.Join(root, "tree"),
		filepath.Join(root, "tree") + "/",
		filepath.Join(root, "tree", "css"),
		filepath.Join(root, "current"),
		filepath.Join(root, "emptydir"),
		filepath.Join(root, "missing"),
		filepath.Join(root, "missing", "deeper"),
		filepath.Join(root, "file"),
		filepath.Join(root, "file", "below"),
		filepath.Join(root, "dangling-dir"),
	}
	makeTree(t, root, "dangling-dir => nowhere")
	for _, dir := range dirs {
		for _, hash := range []bool{false, true} {
			name := strings.TrimPrefix(dir, root)
			if hash {
				name += " hashed"
			}
			t.Run(name, func(t *testing.T) {
				assertSameWalk(t, dir, hash)
			})
		}
	}
	t.Run("relative", func(t *testing.T) {
		t.Chdir(root)
		assertSameWalk(t, "tree", true)
		assertSameWalk(t, ".", false)
	})
}

func TestOSWalkAgreesOnUnreadable(t *testing.T) {
	if osWalk == nil {
		t.Skip("no OS fast path on this platform")
	}
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode; vfstest.FaultFS covers these errors on the portable walk")
	}
	for _, name := range []string{"css/a.css", "css", "js/lib"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, "css/a.css", "js/lib/x.js", "z.css")
			path := filepath.Join(dir, filepath.FromSlash(name))
			require.NoError(t, os.Chmod(path, 0))
			t.Cleanup(func() { os.Chmod(path, 0o755) })
			for _, hash := range []bool{false, true} {
				_, _, err := walkPortable(afero.NewOsFs(), dir, hash, false, nil)
				if !hash && name == "css/a.css" {
					assert.NoError(t, err, "an unreadable file is only opened to hash it")
				}
				assertSameWalk(t, dir, hash)
			}
		})
	}
}

// assertSameWalk checks that osWalk and walkPortable return the same table,
// or errors with the same type, text, path and cause.
func assertSameWalk(t *testing.T, dir string, hash bool) {
	t.Helper()
	want, wantStats, wantErr := walkPortable(afero.NewOsFs(), dir, hash, true, nil)
	got, gotStats, err := osWalk(dir, hash, true, nil)
	if wantErr == nil {
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, wantStats, gotStats)
		return
	}
	require.Error(t, err, "walkPortable: %v", wantErr)
	assert.Equal(t, wantErr.Error(), err.Error())
	var wantPE, gotPE *fs.PathError
	if errors.As(wantErr, &wantPE) {
		require.ErrorAs(t, err, &gotPE)
		assert.Equal(t, wantPE.Path, gotPE.Path)
		assert.Equal(t, wantPE.Err, gotPE.Err)
	}
	for _, sentinel := range []error{fs.ErrNotExist, fs.ErrPermission, syscall.ENOTDIR} {
		assert.Equal(t, errors.Is(wantErr, sentinel), errors.Is(err, sentinel), "errors.Is(err, %v)", sentinel)
	}
}
