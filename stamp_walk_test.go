//go:build unix

package stampfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeOSTree builds a tree under dir: "a/b" is a file holding its name,
// "d/" a directory, "l -> t" a symbolic link.
func writeOSTree(t *testing.T, dir string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		if name, target, ok := strings.Cut(e, " -> "); ok {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
			require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
			continue
		}
		path := filepath.Join(dir, e)
		if strings.HasSuffix(e, "/") {
			require.NoError(t, os.MkdirAll(path, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(e+"\n"), 0o644))
	}
}

func TestScanUsesOSWalkOnlyOnOsFs(t *testing.T) {
	saved := osWalk
	t.Cleanup(func() { osWalk = saved })
	var calls []string
	osWalk = func(dir string, hash bool) ([]File, error) {
		calls = append(calls, dir)
		return []File{{Name: "from-osWalk"}}, nil
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
	writeOSTree(t, filepath.Join(root, "tree"),
		"css/a.css", "css/b.css", "a.c", "a/b", "a-b", "A", "empty/", "deep/er/still/x.js",
		".env", ".git/HEAD", "css/.swp", "css/.cache/x",
		"a b.css", "ünï/cödé.js", "back\\slash", "new\nline", "car\rriage",
		"v1 -> .", "css/up -> ..", "link.css -> css/a.css", "dangling -> nowhere", "loop1 -> loop2", "loop2 -> loop1",
	)
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "tree", "fifo"), 0o644))
	writeOSTree(t, root, "file", "emptydir/", "current -> tree")

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
	writeOSTree(t, root, "dangling-dir -> nowhere")
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
		t.Skip("root reads files whatever their mode; vfs.FaultFS covers these errors on the portable walk")
	}
	for _, name := range []string{"css/a.css", "css", "js/lib"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeOSTree(t, dir, "css/a.css", "js/lib/x.js", "z.css")
			path := filepath.Join(dir, filepath.FromSlash(name))
			require.NoError(t, os.Chmod(path, 0))
			t.Cleanup(func() { os.Chmod(path, 0o755) })
			for _, hash := range []bool{false, true} {
				_, err := walkPortable(afero.NewOsFs(), dir, hash)
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
	want, wantErr := walkPortable(afero.NewOsFs(), dir, hash)
	got, err := osWalk(dir, hash)
	if wantErr == nil {
		require.NoError(t, err)
		assert.Equal(t, want, got)
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
