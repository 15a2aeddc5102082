package stampfs_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// age sets the times of the given files of dir an hour back, so that the
// hash cache trusts them (it does not trust a file modified within two
// seconds of the scan that recorded it). It changes their ctime, and so
// their identity, as any touch does.
func age(t *testing.T, fsys afero.Fs, dir string, names ...string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	for _, name := range names {
		require.NoError(t, fsys.Chtimes(filepath.Join(dir, name), old, old))
	}
}

// TestVersionsShareOneTable: a version whose table differs from the newest
// version's in a few files records only those and shares that version's
// base (one file on disk where hard links work); a table that differs in
// many gets a base of its own. Every version reads back as it was
// published, also after the files its base holds are gone from the tree.
func TestVersionsShareOneTable(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			var names []string
			for i := range 40 {
				names = append(names, fmt.Sprintf("d%d/f%02d.css", i%4, i))
				makeTree(t, fsys, dir, fmt.Sprintf("%s=body %d", names[i], i))
			}
			age(t, fsys, dir, names...)
			l := stampfs.NewLinker(fsys, dir)
			l.Keep = 10
			base := func(v *stampfs.Version) string { return filepath.Join(v.Dir(), ".stampfs-base") }
			size := func(name string) int64 {
				fi, err := fsys.Stat(name)
				require.NoError(t, err)
				return fi.Size()
			}

			a := publish(t, l, nil)
			makeTree(t, fsys, dir, "d0/f00.css=edited", "new/one.css=added")
			require.NoError(t, fsys.Remove(filepath.Join(dir, "d1", "f01.css")))
			age(t, fsys, dir, "d0/f00.css", "new/one.css")
			b := publish(t, l, nil)
			assert.Less(t, size(filepath.Join(b.Dir(), ".stampfs-index")), size(base(a))/4,
				"b's index records only what changed")
			assert.Equal(t, mustRead(t, fsys, base(a)), mustRead(t, fsys, base(b)), "b's table is a's base and its changes")
			if lfs.name == "os" {
				assert.Equal(t, inode(t, base(a)), inode(t, base(b)), "a and b share one base")
			}

			for i := range 20 { // half the files rewritten, and 20 more
				makeTree(t, fsys, dir, names[i+20]+"=rewritten", fmt.Sprintf("top%02d.js", i))
				age(t, fsys, dir, names[i+20], fmt.Sprintf("top%02d.js", i))
			}
			c := publish(t, l, nil)
			assert.NotEqual(t, mustRead(t, fsys, base(b)), mustRead(t, fsys, base(c)), "a table unlike the base's gets its own")

			for _, want := range []*stampfs.Version{a, b, c} {
				got, err := l.Version(want.Stamp)
				require.NoError(t, err)
				assert.Equal(t, fileNames(want.Files), fileNames(got.Files), want.Stamp)
				assertSameFiles(t, want.Files, got.Files)
				for _, f := range got.Files {
					assert.Equal(t, f.SHA256, sha256Of(t, fsys, filepath.Join(got.Dir(), f.Name)), f.Name)
				}
			}
			got, err := l.Version(b.Stamp)
			require.NoError(t, err)
			assert.Contains(t, fileNames(got.Files), "new/one.css")
			assert.NotContains(t, fileNames(got.Files), "d1/f01.css", "a name the base has and the version has not")

			// Pruning the version that wrote the base leaves it to those
			// that share it.
			require.NoError(t, l.Activate(c.Stamp))
			l.Keep, l.Grace = 1, -1
			removed, err := l.Prune(c.Stamp)
			require.NoError(t, err)
			assert.Contains(t, removed, a.Dir())
			got, err = l.Version(b.Stamp)
			require.NoError(t, err, "b outlives a, whose base it shares")
			assertSameFiles(t, b.Files, got.Files)
		})
	}
}

// TestPublishIgnoresDamagedBase: a base that is cut short or missing makes
// every version that shares it unreadable, so none of them is listed,
// served or trusted as the hash cache, and the next publish stores the
// live bytes with a base of its own.
func TestPublishIgnoresDamagedBase(t *testing.T) {
	for _, damage := range []string{"truncated", "missing"} {
		t.Run(damage, func(t *testing.T) {
			fsys, dir := memLinkFS.make(t)
			makeTree(t, fsys, dir, "a.css=one", "b.css=two")
			l := stampfs.NewLinker(fsys, dir)
			v := publish(t, l, nil)
			p := filepath.Join(v.Dir(), ".stampfs-base")
			if damage == "missing" {
				require.NoError(t, fsys.Remove(p))
			} else {
				data, err := afero.ReadFile(fsys, p)
				require.NoError(t, err)
				require.NoError(t, afero.WriteFile(fsys, p, data[:len(data)-1], 0o444))
			}
			vs, err := l.Versions()
			require.NoError(t, err)
			assert.Empty(t, vs)
			_, err = l.Version(v.Stamp)
			require.ErrorIs(t, err, fs.ErrInvalid, "damaged, not missing")
			assert.ErrorContains(t, err, ".stampfs-base")

			makeTree(t, fsys, dir, "a.css=three")
			w := publish(t, l, nil)
			assert.Equal(t, "three", readStored(t, fsys, dir, w.Stamp, "a.css"))
			got, err := l.Version(w.Stamp)
			require.NoError(t, err)
			assertSameFiles(t, w.Files, got.Files)
		})
	}
}

func sha256Of(t testing.TB, fsys afero.Fs, name string) [32]byte {
	t.Helper()
	data, err := afero.ReadFile(fsys, name)
	require.NoError(t, err)
	return sha256.Sum256(data)
}

// assertSameFiles checks two tables file by file, with times compared as
// instants.
func assertSameFiles(t *testing.T, want, got []stampfs.File) {
	t.Helper()
	require.Equal(t, fileNames(want), fileNames(got))
	for i := range want {
		assert.Equal(t, want[i].Size, got[i].Size, want[i].Name)
		assert.Equal(t, want[i].SHA256, got[i].SHA256, want[i].Name)
		assert.True(t, want[i].ModTime.Equal(got[i].ModTime), "%s: %v, want %v", want[i].Name, got[i].ModTime, want[i].ModTime)
	}
}

// pruneOnStat is a file system on which the version directory dir goes
// away (as another process's Prune renames it) just before its base is
// looked at.
type pruneOnStat struct {
	afero.Fs
	dir string
}

func (p pruneOnStat) Stat(name string) (fs.FileInfo, error) {
	if name == filepath.Join(p.dir, ".stampfs-base") {
		if err := p.Fs.RemoveAll(p.dir); err != nil {
			return nil, err
		}
	}
	return p.Fs.Stat(name)
}

// TestVersionPrunedWhileRead: a version that another process prunes while
// it is read is not there (fs.ErrNotExist), not damaged.
func TestVersionPrunedWhileRead(t *testing.T) {
	fsys, dir := memLinkFS.make(t)
	makeTree(t, fsys, dir, "a.css=one")
	v := publish(t, stampfs.NewLinker(fsys, dir), nil)
	_, err := stampfs.NewLinker(pruneOnStat{fsys, v.Dir()}, dir).Version(v.Stamp)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.NotErrorIs(t, err, fs.ErrInvalid)
}

// goneOnMkdir is a file system on which the directory dir is moved away
// (as a deploy renames it) just before the store is made in it.
type goneOnMkdir struct {
	afero.Fs
	dir string
}

func (g goneOnMkdir) Mkdir(name string, perm os.FileMode) error {
	g.gone(name)
	return g.Fs.Mkdir(name, perm)
}

func (g goneOnMkdir) MkdirAll(name string, perm os.FileMode) error {
	g.gone(name)
	return g.Fs.MkdirAll(name, perm)
}

func (g goneOnMkdir) gone(name string) {
	if name == filepath.Join(g.dir, stampfs.DefaultStore) {
		_ = g.Fs.Rename(g.dir, g.dir+".gone")
	}
}

// TestPublishDirectoryMovedAway: a directory moved away after the scan is
// an error, and is not made again, empty but for a store.
func TestPublishDirectoryMovedAway(t *testing.T) {
	fsys, dir := memLinkFS.make(t)
	makeTree(t, fsys, dir, "a.css=one")
	_, err := stampfs.NewLinker(goneOnMkdir{fsys, dir}, dir).Publish(nil)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = fsys.Stat(dir)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the directory is not made again")
	assert.Equal(t, "one", mustRead(t, fsys, filepath.Join(dir+".gone", "a.css")))
}
