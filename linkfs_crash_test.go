package stampfs_test

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// TestLinkerCrash fails every call of each step Activate and Prune make, one
// at a time, and checks that the previous link keeps working, that the error
// names the step, and that the next clean run leaves exactly the links it
// should.
func TestLinkerCrash(t *testing.T) {
	ops := []struct {
		op   vfstest.Op
		name string // as the error shows it
	}{
		{vfstest.OpSymlink, "symlink"},
		{vfstest.OpRename, "rename"},
		{vfstest.OpRemove, "remove"},
		{vfstest.OpReadlink, "readlink"},
		{vfstest.OpLstat, "lstat"},
		{vfstest.OpOpen, "open"},
		{vfstest.OpReadDir, "readdirent"},
	}
	tree := []string{"css/a.css", "100 -> . @3h", "v1 -> .stampfs/v1 @2h"}
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			for _, stamp := range []string{"v2", "v1"} {
				// Count the calls of a clean run to know how many there are to fail.
				base, dir := lfs.make(t)
				makeLinkTree(t, lfs, base, dir, tree...)
				publishStamps(t, base, dir, "v1", "v2")
				fsys := vfstest.NewFaultFS(base)
				linkAndPrune(t, fsys, dir, stamp, time.Now)
				for _, op := range ops {
					calls := fsys.Calls(op.op, "")
					require.NotZerof(t, calls, "a clean run calls %v", op.op)
					for nth := 1; nth <= calls; nth++ {
						t.Run(stamp+"/"+op.name+"#"+strconv.Itoa(nth), func(t *testing.T) {
							crashOnce(t, lfs, tree, stamp, vfstest.Rule{Op: op.op, Nth: nth}, op.name)
						})
					}
				}
			}
			t.Run("rename and cleanup both fail", func(t *testing.T) {
				crashOnce(t, lfs, tree, "v2", vfstest.Rule{Op: vfstest.OpRename, Nth: 1}, "rename",
					vfstest.Rule{Op: vfstest.OpRemove, Nth: 1})
			})
			t.Run("readlink of the new link and cleanup both fail", func(t *testing.T) {
				crashOnce(t, lfs, tree, "v2", vfstest.Rule{Op: vfstest.OpReadlink, Nth: 1}, "readlink",
					vfstest.Rule{Op: vfstest.OpRemove, Nth: 1})
			})
		})
	}
}

// crashOnce runs Activate(stamp) and Prune(stamp) on tree with the fault
// rules injected, checks what a user would see, then runs both again
// without faults.
func crashOnce(t *testing.T, lfs linkFS, tree []string, stamp string, rule vfstest.Rule, opName string, more ...vfstest.Rule) {
	t.Helper()
	base, dir := lfs.make(t)
	makeLinkTree(t, lfs, base, dir, tree...)
	publishStamps(t, base, dir, "v1", "v2")
	before := listTop(t, base, dir)
	fsys := vfstest.NewFaultFS(base)
	fsys.Inject(rule)
	for _, r := range more {
		fsys.Inject(r)
	}
	l := stampfs.NewLinker(fsys, dir)
	l.Keep, l.Grace = -1, -1

	errA := l.Activate(stamp)
	var errP error
	if errA == nil {
		_, errP = l.Prune(stamp)
	}

	switch {
	case errA != nil:
		assert.ErrorIs(t, errA, vfstest.ErrInjected)
		assert.Contains(t, errA.Error(), opName+" ", "the error names the step that failed")
		assert.Contains(t, errA.Error(), dir, "the error names the path")
		assertServes(t, base, dir, "v1")
		after := slices.DeleteFunc(listTop(t, base, dir), func(e string) bool {
			return len(more) > 0 && strings.HasPrefix(e, ".stampfs-tmp-")
		})
		assert.Equal(t, before, after, "a failed Activate changes nothing but a temporary link it could not remove")
	case errP != nil:
		assert.ErrorIs(t, errP, vfstest.ErrInjected)
		assert.Contains(t, errP.Error(), opName+" ", "the error names the step that failed")
		assertServes(t, base, dir, stamp)
	default:
		assert.Failf(t, "no error", "the injected %v fault was never hit: %d calls", rule.Op, fsys.Calls(rule.Op, ""))
	}

	// The next clean run, a few minutes later, leaves nothing behind.
	fsys.Reset()
	linkAndPrune(t, fsys, dir, stamp, func() time.Time { return time.Now().Add(2 * time.Minute) })
	assertServes(t, base, dir, stamp)
	assert.Equal(t, []string{".stampfs/", "css/", stamp + " -> .stampfs/" + stamp}, listTop(t, base, dir))
}

// publishStamps publishes the directory under each of stamps.
func publishStamps(t *testing.T, fsys afero.Fs, dir string, stamps ...string) {
	t.Helper()
	for _, s := range stamps {
		publish(t, stampfs.NewLinker(fsys, dir), &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: s})
	}
}

// linkAndPrune activates stamp and prunes every other link.
func linkAndPrune(t *testing.T, fsys afero.Fs, dir, stamp string, now func() time.Time) {
	t.Helper()
	l := stampfs.NewLinker(fsys, dir)
	l.Keep, l.Grace, l.Now = -1, -1, now
	require.NoError(t, l.Activate(stamp))
	_, err := l.Prune(stamp)
	require.NoError(t, err)
}

// assertServes checks that dir/stamp/css/a.css reads as dir/css/a.css.
func assertServes(t *testing.T, fsys afero.Fs, dir, stamp string) {
	t.Helper()
	got, err := afero.ReadFile(fsys, filepath.Join(dir, stamp, "css", "a.css"))
	if assert.NoErrorf(t, err, "%s still resolves", stamp) {
		assert.Equal(t, "css/a.css\n", string(got))
	}
}
