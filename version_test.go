package stampfs_test

import (
	"crypto/sha512"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// publish runs Publish and requires it to succeed.
func publish(t testing.TB, l *stampfs.Linker, opts *stampfs.ScanOptions) *stampfs.Version {
	t.Helper()
	v, err := l.Publish(opts)
	require.NoError(t, err)
	return v
}

// readStored reads name from the store's version of stamp.
func readStored(t testing.TB, fsys afero.Fs, dir, stamp, name string) string {
	t.Helper()
	data, err := afero.ReadFile(fsys, filepath.Join(dir, stampfs.DefaultStore, stamp, filepath.FromSlash(name)))
	require.NoError(t, err)
	return string(data)
}

func TestPublish(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeTree(t, fsys, dir, "css/site.css=body{}", "js/app.js=go()", "a b é.txt=x", "new\nline\ttab.txt=y", ".env=secret", "css/.a.css.swp=swap")
			l := stampfs.NewLinker(fsys, dir)

			v := publish(t, l, nil)

			want := scan(t, fsys, dir, nil)
			assert.Equal(t, want.Stamp(), v.Stamp, "the content stamp of the stored bytes is the scan's")
			assert.Equal(t, stampfs.Content, v.Strategy)
			assert.Equal(t, []string{"a b é.txt", "css/site.css", "js/app.js", "new\nline\ttab.txt"}, fileNames(v.Files))
			for _, f := range want.Files() {
				assert.Equal(t, readStored(t, fsys, dir, v.Stamp, f.Name), mustRead(t, fsys, filepath.Join(dir, f.Name)))
			}
			_, err := fsys.Stat(filepath.Join(dir, stampfs.DefaultStore, v.Stamp, ".env"))
			assert.ErrorIs(t, err, fs.ErrNotExist, "dot files are not counted, so not stored")
			assert.Equal(t, int64(len("body{}go()xy")), v.Size())

			m, err := v.Manifest(nil)
			require.NoError(t, err)
			assert.Equal(t, "/static/"+v.Stamp+"/a%20b%20%C3%A9.txt", m.Files["a b é.txt"].URL)
			sum := sha512.Sum384([]byte("body{}"))
			assert.Equal(t, "sha384-"+base64.StdEncoding.EncodeToString(sum[:]), m.Files["css/site.css"].Integrity)
			live, err := stampfs.NewManifest(vfs.AferoFS(afero.NewBasePathFs(fsys, dir)), want, nil)
			require.NoError(t, err)
			assert.Equal(t, live, m, "a version's manifest is the one its files make")

			again := scan(t, fsys, dir, nil)
			assert.Equal(t, want.Stamp(), again.Stamp(), "the store inside the directory changes no stamp")

			got, err := l.Version(v.Stamp)
			require.NoError(t, err)
			assert.Equal(t, v.Files, got.Files)
			data, err := fs.ReadFile(v.FS(), "css/site.css")
			require.NoError(t, err)
			assert.Equal(t, "body{}", string(data))
			for _, meta := range []string{".stampfs-index", ".stampfs-base"} {
				_, err = fs.ReadFile(v.FS(), meta)
				assert.ErrorIs(t, err, fs.ErrNotExist, "a version's FS holds only its files")
			}
		})
	}
}

func TestPublishKeepsEveryStampsBytes(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeTree(t, fsys, dir, "css/site.css=old", "js/app.js=same")
			l := stampfs.NewLinker(fsys, dir)
			a := publish(t, l, nil)

			makeTree(t, fsys, dir, "css/site.css=new") // edited in place
			b := publish(t, l, nil)
			require.NotEqual(t, a.Stamp, b.Stamp)
			assert.Equal(t, "old", readStored(t, fsys, dir, a.Stamp, "css/site.css"))
			assert.Equal(t, "new", readStored(t, fsys, dir, b.Stamp, "css/site.css"))

			tmp := filepath.Join(dir, "css", "site.css.tmp")
			makeTree(t, fsys, dir, "css/site.css.tmp=new") // renamed over, same size
			require.NoError(t, fsys.Rename(tmp, filepath.Join(dir, "css", "site.css")))
			assert.Equal(t, b.Stamp, publish(t, l, nil).Stamp, "same bytes, same stamp")

			makeTree(t, fsys, dir, "css/site.css=old") // rolled back
			back := publish(t, l, nil)
			assert.Equal(t, a.Stamp, back.Stamp)
			assert.Equal(t, "old", readStored(t, fsys, dir, a.Stamp, "css/site.css"))
			assert.Equal(t, "new", readStored(t, fsys, dir, b.Stamp, "css/site.css"))

			vs, err := l.Versions()
			require.NoError(t, err)
			require.Len(t, vs, 2)
			assert.Equal(t, a.Stamp, vs[0].Stamp, "the rolled-back version is the most recently activated")
		})
	}
}

func TestPublishStampTaken(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeTree(t, fsys, dir, "a.css=one")
			l := stampfs.NewLinker(fsys, dir)
			fixed := &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"}
			publish(t, l, fixed)
			publish(t, l, fixed) // the same bytes again are fine

			makeTree(t, fsys, dir, "a.css=two")
			_, err := l.Publish(fixed)
			require.ErrorIs(t, err, stampfs.ErrStampTaken)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, filepath.Join(dir, stampfs.DefaultStore, "v1"), pe.Path)
			assert.Equal(t, "one", readStored(t, fsys, dir, "v1", "a.css"), "nothing is touched")
			assert.Equal(t, []string{"v1"}, storeEntries(t, fsys, dir), "no staging directory is left")
		})
	}
}

func TestPublishRefusesForeignDirectory(t *testing.T) {
	fsys, dir := memLinkFS.make(t)
	makeTree(t, fsys, dir, "a.css", ".stampfs/v1/a.css=someone else's")
	_, err := stampfs.NewLinker(fsys, dir).Publish(&stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"})
	require.ErrorIs(t, err, fs.ErrInvalid)
	assert.ErrorContains(t, err, "not a version")
	assert.Equal(t, "someone else's", readStored(t, fsys, dir, "v1", "a.css"))
}

func TestPublishIgnoresCorruptIndex(t *testing.T) {
	fsys, dir := memLinkFS.make(t)
	makeTree(t, fsys, dir, "a.css=one")
	l := stampfs.NewLinker(fsys, dir)
	v := publish(t, l, nil)
	index := filepath.Join(dir, stampfs.DefaultStore, v.Stamp, ".stampfs-index")
	require.NoError(t, afero.WriteFile(fsys, index, []byte("stampfs-index 1\nstamp "+v.Stamp+"\n"), 0o644))

	vs, err := l.Versions()
	require.NoError(t, err)
	assert.Empty(t, vs, "a version whose index is unreadable is not listed")
	_, err = l.Version(v.Stamp)
	assert.ErrorIs(t, err, fs.ErrInvalid)

	makeTree(t, fsys, dir, "a.css=two")
	w := publish(t, l, nil)
	assert.Equal(t, "two", readStored(t, fsys, dir, w.Stamp, "a.css"), "the corrupt cache is not trusted")
}

func TestPublishUnwritableStore(t *testing.T) {
	mem := vfstest.NewMemFS()
	makeTree(t, mem, "/static", "a.css")
	l := stampfs.NewLinker(afero.NewReadOnlyFs(mem), "/static")
	_, err := l.Publish(nil)
	require.ErrorIs(t, err, fs.ErrPermission)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "/static/.stampfs", pe.Path)
}

// TestPublishFaults fails every call Publish makes, one at a time: each
// failure is an error, the store never shows a half-made version, and the
// version published before stays whole.
func TestPublishFaults(t *testing.T) {
	mem := vfstest.NewMemFS()
	makeTree(t, mem, "/static", "css/a.css=one", "js/b.js=two", "img/c.png=three")
	first := publish(t, stampfs.NewLinker(mem, "/static"), nil)
	makeTree(t, mem, "/static", "css/a.css=ONE")

	count := vfstest.NewFaultFS(mem)
	publish(t, stampfs.NewLinker(count, "/static"), nil)
	for op := vfstest.OpCreate; op <= vfstest.OpClose; op++ {
		for n := 1; n <= count.Calls(op, ""); n++ {
			m := vfstest.NewMemFS()
			makeTree(t, m, "/static", "css/a.css=one", "js/b.js=two", "img/c.png=three")
			publish(t, stampfs.NewLinker(m, "/static"), nil)
			makeTree(t, m, "/static", "css/a.css=ONE")
			ffs := vfstest.NewFaultFS(m)
			ffs.Inject(vfstest.Rule{Op: op, Nth: n, Err: syscall.ENOSPC})
			v, err := stampfs.NewLinker(ffs, "/static").Publish(nil)

			l := stampfs.NewLinker(m, "/static")
			vs, lerr := l.Versions()
			require.NoError(t, lerr)
			for _, got := range vs {
				for _, f := range got.Files {
					data, rerr := afero.ReadFile(m, filepath.Join(got.Dir(), f.Name))
					require.NoErrorf(t, rerr, "%v #%d: version %s misses %s", op, n, got.Stamp, f.Name)
					assert.Equalf(t, f.Size, int64(len(data)), "%v #%d", op, n)
				}
			}
			old, oerr := l.Version(first.Stamp)
			require.NoErrorf(t, oerr, "%v #%d: the earlier version is gone", op, n)
			assert.Equal(t, fileNames(first.Files), fileNames(old.Files))
			assert.Equal(t, "one", readStored(t, m, "/static", first.Stamp, "css/a.css"))
			if err != nil {
				assert.ErrorIsf(t, err, syscall.ENOSPC, "%v #%d", op, n)
				assert.Lenf(t, vs, 1, "%v #%d: failed, but a new version is visible", op, n)
				if op != vfstest.OpRemoveAll { // the cleanup itself
					staged, _ := afero.Glob(m, "/static/.stampfs/.tmp-*")
					assert.Emptyf(t, staged, "%v #%d: a failed publish leaves its staging directory", op, n)
				}
			} else {
				assert.Lenf(t, vs, 2, "%v #%d", op, n)
				assert.Equal(t, "ONE", readStored(t, m, "/static", v.Stamp, "css/a.css"))
			}
		}
	}
}

func TestPruneVersions(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			l := stampfs.NewLinker(fsys, dir)
			clock := time.Now()
			l.Now = func() time.Time { return clock }
			var stamps []string
			for _, body := range []string{"v1", "v2", "v3", "v4"} {
				makeTree(t, fsys, dir, "a.css="+body, "same.js=shared")
				v := publish(t, l, nil)
				require.NoError(t, l.Activate(v.Stamp))
				stamps = append(stamps, v.Stamp)
				clock = clock.Add(2 * time.Hour)
			}
			l.Keep = 1
			removed, err := l.Prune(stamps[3])
			require.NoError(t, err)
			store := filepath.Join(dir, stampfs.DefaultStore)
			assert.Equal(t, []string{
				filepath.Join(dir, stamps[1]), filepath.Join(store, stamps[1]),
				filepath.Join(dir, stamps[0]), filepath.Join(store, stamps[0]),
			}, removed)
			assert.ElementsMatch(t, []string{stamps[2], stamps[3]}, storeEntries(t, fsys, dir))
			assert.Equal(t, "v3", readStored(t, fsys, dir, stamps[2], "a.css"))
			assert.Equal(t, "shared", readStored(t, fsys, dir, stamps[2], "same.js"), "shared bytes survive in retained versions")
			got, err := afero.ReadFile(fsys, filepath.Join(dir, stamps[2], "a.css"))
			require.NoError(t, err)
			assert.Equal(t, "v3", string(got), "the stamp link serves its version's bytes")
		})
	}
}

// storeEntries lists the names in the default store, without dot files.
func storeEntries(t testing.TB, fsys afero.Fs, dir string) []string {
	t.Helper()
	f, err := fsys.Open(filepath.Join(dir, stampfs.DefaultStore))
	require.NoError(t, err)
	names, err := f.Readdirnames(-1)
	require.NoError(t, err)
	f.Close()
	var out []string
	for _, n := range names {
		if n[0] != '.' {
			out = append(out, n)
		}
	}
	return out
}

func fileNames(files []stampfs.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func mustRead(t testing.TB, fsys afero.Fs, name string) string {
	t.Helper()
	data, err := afero.ReadFile(fsys, name)
	require.NoError(t, err)
	return string(data)
}

func TestPublishSharesUnchangedFilesOnDisk(t *testing.T) {
	fsys, dir := osLinkFS.make(t)
	makeTree(t, fsys, dir, "big.bin=unchanged bytes", "a.css=one")
	l := stampfs.NewLinker(fsys, dir)
	a := publish(t, l, nil)
	makeTree(t, fsys, dir, "a.css=two")
	b := publish(t, l, nil)
	ia, ib := inode(t, filepath.Join(a.Dir(), "big.bin")), inode(t, filepath.Join(b.Dir(), "big.bin"))
	assert.Equal(t, ia, ib, "an unchanged file is one file on disk")
	assert.NotEqual(t, inode(t, filepath.Join(dir, "big.bin")), ia, "the live tree is never linked")
	assert.NotEqual(t, inode(t, filepath.Join(a.Dir(), "a.css")), inode(t, filepath.Join(b.Dir(), "a.css")))

	makeTree(t, fsys, dir, "a.css=one") // rolled back: the bytes of a are shared again
	back := publish(t, l, nil)
	assert.Equal(t, a.Stamp, back.Stamp)

	makeTree(t, fsys, dir, "renamed.css=one") // a copy of a.css's bytes under a new name
	c := publish(t, l, nil)
	assert.Equal(t, inode(t, filepath.Join(a.Dir(), "a.css")), inode(t, filepath.Join(c.Dir(), "renamed.css")),
		"bytes a retained version holds are linked, not copied")
}

func inode(t testing.TB, name string) uint64 {
	t.Helper()
	fi, err := os.Lstat(name)
	require.NoError(t, err)
	st, ok := fi.Sys().(*syscall.Stat_t)
	require.True(t, ok)
	return st.Ino
}

// TestPublishUnchangedAndChanged: publishing an unchanged tree again reads,
// copies and stages nothing; after a change, the new version holds exactly
// the tree's files (no temporary names left from sharing bytes).
func TestPublishUnchangedAndChanged(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeTree(t, fsys, dir, "a.css=one", "b/c.js=two", "d.txt=three")
			var log strings.Builder
			l := stampfs.NewLinker(fsys, dir)
			l.Logger = slog.New(slog.NewTextHandler(&log, nil))
			old := time.Now().Add(-time.Minute) // older than the hash cache's racy window
			for _, name := range []string{"a.css", "b/c.js", "d.txt"} {
				require.NoError(t, fsys.Chtimes(filepath.Join(dir, name), old, old))
			}
			a := publish(t, l, nil)

			log.Reset()
			again := publish(t, l, nil)
			assert.Equal(t, a.Stamp, again.Stamp)
			assert.Contains(t, log.String(), `msg="version unchanged"`)
			assert.NotContains(t, log.String(), "version published")

			makeTree(t, fsys, dir, "a.css=ONE")
			b := publish(t, l, nil)
			var stored []string
			require.NoError(t, afero.Walk(fsys, b.Dir(), func(p string, fi fs.FileInfo, err error) error {
				if err == nil && !fi.IsDir() && !strings.HasPrefix(fi.Name(), ".") {
					rel, _ := filepath.Rel(b.Dir(), p)
					stored = append(stored, filepath.ToSlash(rel))
				}
				return err
			}))
			assert.ElementsMatch(t, []string{"a.css", "b/c.js", "d.txt"}, stored, "exactly the tree's files")
		})
	}
}

// TestPruneLeavesForeignDirectories: a stamp-shaped directory in the store
// that is no version (no index) is never pruned, and takes no Keep slot.
func TestPruneLeavesForeignDirectories(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeTree(t, fsys, dir, "a.css=one", ".stampfs/handmade/keep.txt=mine")
			old := time.Now().Add(-3 * time.Hour)
			require.NoError(t, fsys.Chtimes(filepath.Join(dir, ".stampfs", "handmade"), old, old))
			l := stampfs.NewLinker(fsys, dir)
			l.Keep, l.Grace = -1, -1
			v := publish(t, l, nil)
			removed, err := l.Prune(v.Stamp)
			require.NoError(t, err)
			assert.Empty(t, removed)
			assert.Equal(t, "mine", mustRead(t, fsys, filepath.Join(dir, ".stampfs", "handmade", "keep.txt")))
			vs, err := l.Versions()
			require.NoError(t, err)
			assert.Len(t, vs, 1, "it is not listed as a version either")
		})
	}
}

// TestStoreMustBeApart: a Store that is the directory, holds it, or is a
// served part of it is refused before anything is written.
func TestStoreMustBeApart(t *testing.T) {
	fsys := vfstest.NewMemFS()
	makeTree(t, fsys, "/www/static", "a.css")
	for _, store := range []string{"/www/static", "/www", "/", "/www/static/versions"} {
		l := stampfs.NewLinker(fsys, "/www/static")
		l.Store = store
		_, err := l.Publish(nil)
		assert.ErrorIs(t, err, fs.ErrInvalid, store)
		_, err = l.Prune("v1")
		assert.ErrorIs(t, err, fs.ErrInvalid, store)
	}
	for _, store := range []string{"/www/static/.versions", "/www/versions", "/srv/versions"} {
		l := stampfs.NewLinker(fsys, "/www/static")
		l.Store = store
		_, err := l.Publish(nil)
		assert.NoError(t, err, store)
	}
}

// TestLinkerOnFSWithoutPointers: a Linker on a file system value that is no
// pointer (one that does not even hash) works and never panics.
func TestLinkerOnFSWithoutPointers(t *testing.T) {
	fsys := afero.FromIOFS{FS: fstest.MapFS{"static/a.css": {Data: []byte("a")}}}
	l := stampfs.NewLinker(fsys, "static")
	assert.NotPanics(t, func() { _, _ = l.Prune("v1") })
	assert.NotPanics(t, func() { _, _ = l.Publish(nil) })
}
