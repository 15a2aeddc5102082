package stampfs_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

const killDirEnv = "STAMPFS_KILL_DIR" // the directory TestPublishKilledHelper deploys

// TestPublishKilled kills a process that publishes, links and prunes in a
// loop at random moments, and checks after every kill that each version in
// the store is complete and each stamp link leads to one; a clean run then
// leaves nothing behind but what a later prune removes.
func TestPublishKilled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	for i := range 200 {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%d.css", i))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(strings.Repeat(fmt.Sprint(i), 500)), 0o644))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 15 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPublishKilledHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(5+rng.IntN(60)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		assertStoreWhole(t, dir, round)
	}

	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	l.Keep, l.Grace = -1, -1
	l.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } // past every leftover's minimum age
	v := publish(t, l, nil)
	require.NoError(t, l.Activate(v.Stamp))
	_, err := l.Prune(v.Stamp)
	require.NoError(t, err)
	assert.Equal(t, []string{v.Stamp}, storeEntries(t, afero.NewOsFs(), dir), "only the current version")
	leftovers, err := filepath.Glob(filepath.Join(dir, stampfs.DefaultStore, ".tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "no staging directory outlives a prune")
	links, err := filepath.Glob(filepath.Join(dir, ".stampfs-tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, links, "no temporary link outlives a prune")
}

// TestPublishKilledHelper is TestPublishKilled's process: it rewrites a file
// and deploys, over and over, until it is killed.
func TestPublishKilledHelper(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("runs only as a subprocess of TestPublishKilled")
	}
	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	l.Keep, l.Grace = 1, -1
	for i := 0; ; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "d0", "f0.css"), []byte(fmt.Sprint("round ", i, time.Now().UnixNano())), 0o644))
		v, err := l.Publish(nil)
		require.NoError(t, err)
		require.NoError(t, l.Activate(v.Stamp))
		_, err = l.Prune(v.Stamp)
		require.NoError(t, err)
	}
}

// assertStoreWhole checks every version in dir's store against its index,
// byte for byte, and every stamp link in dir.
func assertStoreWhole(t *testing.T, dir string, round int) {
	t.Helper()
	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	vs, err := l.Versions()
	require.NoError(t, err)
	for _, name := range storeEntriesIfAny(t, dir) {
		found := false
		for _, v := range vs {
			found = found || v.Stamp == name
		}
		assert.Truef(t, found, "round %d: %s in the store is not a readable version", round, name)
	}
	for _, v := range vs {
		for _, f := range v.Files {
			data, err := os.ReadFile(filepath.Join(v.Dir(), f.Name))
			if assert.NoErrorf(t, err, "round %d: version %s", round, v.Stamp) {
				assert.Equalf(t, f.SHA256, sha256.Sum256(data), "round %d: %s of %s", round, f.Name, v.Stamp)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		_, err := os.Stat(filepath.Join(dir, e.Name(), "d1", "f1.css"))
		assert.NoErrorf(t, err, "round %d: the stamp link %s leads to its version", round, e.Name())
	}
}

func storeEntriesIfAny(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, stampfs.DefaultStore)); err != nil {
		return nil
	}
	return storeEntries(t, afero.NewOsFs(), dir)
}

// TestServeNeverBlocksOnFIFO: a stored or live file swapped for a FIFO after
// the scan is a 404, answered at once, with and without a store.
func TestServeNeverBlocksOnFIFO(t *testing.T) {
	big := strings.Repeat("b", 100<<10)
	for _, store := range []bool{true, false} {
		t.Run(map[bool]string{true: "store", false: "no store"}[store], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "static")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "big.css"), []byte(big), 0o644))
			var fsys afero.Fs = afero.NewOsFs()
			if !store {
				fsys = afero.NewReadOnlyFs(fsys)
			}
			h, err := stampfs.New(fsys, dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
			require.NoError(t, err)
			served := filepath.Join(dir, "big.css")
			if store {
				served = filepath.Join(dir, stampfs.DefaultStore, h.Stamp(), "big.css")
			}
			require.NoError(t, os.Remove(served))
			require.NoError(t, syscall.Mkfifo(served, 0o644))

			done := make(chan int, 1)
			go func() { done <- do(t, h, "GET", "/static/"+h.Stamp()+"/big.css").Code }()
			select {
			case code := <-done:
				assert.Equal(t, 404, code)
			case <-time.After(10 * time.Second):
				t.Fatal("the handler blocked on a FIFO")
			}
			refreshed := make(chan error, 1)
			go func() { refreshed <- h.Refresh() }()
			select {
			case <-refreshed:
			case <-time.After(10 * time.Second):
				t.Fatal("Refresh blocked on a FIFO")
			}
		})
	}
}

// TestPublishFullDisk publishes into a small tmpfs until it is full, of
// blocks and then of inodes: each failure is a clear error naming the
// store, the earlier version stays whole and served, and nothing
// half-made is visible. It needs root, to mount the tmpfs.
func TestPublishFullDisk(t *testing.T) {
	for _, limit := range []string{"size=256k", "nr_inodes=40"} {
		t.Run(limit, func(t *testing.T) {
			mnt := t.TempDir()
			if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, limit+",mode=0755"); err != nil {
				t.Skipf("cannot mount a tmpfs here (%v): run as root to test a full disk", err)
			}
			t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
			dir := filepath.Join(mnt, "static")
			require.NoError(t, os.Mkdir(dir, 0o755))
			for i := range 10 {
				require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.bin", i)), []byte(strings.Repeat(fmt.Sprint(i), 6<<10)), 0o644))
			}
			h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual, Keep: 5, Grace: time.Hour})
			require.NoError(t, err, "the first version fits")
			first := h.Stamp()

			var failed error
			for i := 0; i < 40 && failed == nil; i++ {
				for j := range 10 { // new bytes in every file: nothing to share
					require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.bin", j)), []byte(strings.Repeat(fmt.Sprint(i, j), 3<<10)), 0o644))
				}
				failed = h.Refresh()
			}
			require.Error(t, failed, "the disk never filled")
			assert.ErrorIs(t, failed, syscall.ENOSPC)
			assert.Contains(t, failed.Error(), filepath.Join(dir, stampfs.DefaultStore))
			staged, err := filepath.Glob(filepath.Join(dir, stampfs.DefaultStore, ".tmp-*"))
			require.NoError(t, err)
			assert.Empty(t, staged, "a failed publish removes its staging directory")
			assertStoreWhole(t, dir, 0)
			w := do(t, h, "GET", "/static/"+first+"/f1.bin")
			assert.Equal(t, 200, w.Code)
			assert.Equal(t, immutable, w.Header().Get("Cache-Control"))
			assert.Equal(t, strings.Repeat("1", 6<<10), w.Body.String(), "the first version is still served")
		})
	}
}
