package e2e_test

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// storeName is the version store inside a static directory.
const storeName = ".stampfs"

// publishVersion publishes dir's current bytes as a version in the layout
// "stampfs link" makes (dir/.stampfs/<stamp>/ holding every counted file and
// .manifest.json, made under a temporary name and renamed into place, and
// the link dir/<stamp> -> .stampfs/<stamp>) and returns its manifest.
//
// It builds the layout by hand until the library's Linker.Publish lands on
// this branch; then it runs "stampfs link" instead.
func publishVersion(t *testing.T, dir string) *stampfs.Manifest {
	t.Helper()
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &stampfs.ScanOptions{Hash: true})
	require.NoError(t, err)
	stamp := snap.Stamp()
	store := filepath.Join(dir, storeName)
	version := filepath.Join(store, stamp)
	if _, err := os.Stat(version); err != nil {
		tmp := filepath.Join(store, ".tmp-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		for _, f := range snap.Files() {
			copyFile(t, filepath.Join(dir, filepath.FromSlash(f.Name)), filepath.Join(tmp, filepath.FromSlash(f.Name)))
		}
		require.NoError(t, os.MkdirAll(tmp, 0o755))
		m, err := stampfs.NewManifest(os.DirFS(tmp), snap, nil)
		require.NoError(t, err)
		data, err := m.MarshalIndent()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, ".manifest.json"), data, 0o644))
		require.NoError(t, os.Rename(tmp, version))
	}
	link := filepath.Join(dir, ".tmp-link-"+stamp)
	require.NoError(t, os.Symlink(storeName+"/"+stamp, link))
	require.NoError(t, os.Rename(link, filepath.Join(dir, stamp)))
	m, err := stampfs.NewManifest(os.DirFS(version), snap, nil)
	require.NoError(t, err)
	return m
}

// pruneVersion removes the version stamp and its link, as link's pruning
// does.
func pruneVersion(t *testing.T, dir, stamp string) {
	t.Helper()
	require.NoError(t, os.Remove(filepath.Join(dir, stamp)))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, storeName, stamp)))
}

// copyFile copies the regular file src to dst, making dst's directories.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
