package stampfs_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// TestVersionsThroughHandler is the motivating scenario: edit a file in
// place, rename another over it, roll back, with Refresh after each step.
// Every stamp ever served keeps answering with its own bytes, immutable,
// through the handler and (in symlink mode) through its stamp link on disk;
// no response under any stamp carries other bytes with immutable.
func TestVersionsThroughHandler(t *testing.T) {
	small := func(s string) string { return s }
	large := func(s string) string { return strings.Repeat(s, 70<<10/len(s)+1) } // over the memory limit: streamed
	for _, lfs := range linkFSes() {
		for _, mode := range []stampfs.Mode{stampfs.ModeSymlink, stampfs.ModeVirtual} {
			for size, body := range map[string]func(string) string{"small": small, "large": large} {
				t.Run(lfs.name+"/"+string(mode)+"/"+size, func(t *testing.T) {
					fsys, dir := lfs.make(t)
					css := filepath.Join(dir, "css", "site.css")
					makeTree(t, fsys, dir, "css/site.css="+body("old!"), "js/app.js=go()")
					h, err := stampfs.New(fsys, dir, &stampfs.Options{Mode: mode, Stale: stampfs.StaleNotFound})
					require.NoError(t, err)
					owned := map[string]string{h.Stamp(): body("old!")} // stamp → the bytes it promised
					first := h.Stamp()

					steps := []struct {
						name   string
						change func()
					}{
						{"edited in place, same size", func() { require.NoError(t, afero.WriteFile(fsys, css, []byte(body("new!")), 0o644)) }},
						{"edited in place, other size", func() { require.NoError(t, afero.WriteFile(fsys, css, []byte(body("newer!")), 0o644)) }},
						{"renamed over", func() {
							makeTree(t, fsys, dir, "css/site.css.tmp="+body("moved"))
							require.NoError(t, fsys.Rename(css+".tmp", css))
						}},
						{"rolled back", func() { require.NoError(t, afero.WriteFile(fsys, css, []byte(body("old!")), 0o644)) }},
					}
					for _, step := range steps {
						step.change()
						require.NoError(t, h.Refresh(), step.name)
						want := mustRead(t, fsys, css)
						if prev, ok := owned[h.Stamp()]; ok {
							assert.Equal(t, prev, want, "%s: a stamp seen before names the same bytes", step.name)
						}
						owned[h.Stamp()] = want
						for stamp, bytes := range owned {
							w := do(t, h, "GET", "/static/"+stamp+"/css/site.css")
							assert.Equal(t, 200, w.Code, "%s: %s", step.name, stamp)
							assert.Equal(t, immutable, w.Header().Get("Cache-Control"), "%s: %s", step.name, stamp)
							assert.Equal(t, bytes, w.Body.String(), "%s: %s serves its own bytes", step.name, stamp)
							if mode == stampfs.ModeSymlink {
								got, err := afero.ReadFile(fsys, filepath.Join(dir, stamp, "css", "site.css"))
								require.NoError(t, err, "%s: the link of %s", step.name, stamp)
								assert.Equal(t, bytes, string(got), "%s: the link of %s leads to its own bytes", step.name, stamp)
							}
						}
					}
					assert.Equal(t, first, h.Stamp(), "the rollback is the first stamp again")
					assert.Len(t, owned, 4)
				})
			}
		}
	}
}

// TestPublishCopiesAgain: a live file that changes while it is copied is
// copied again, so the version never mixes two moments of one file.
func TestPublishCopiesAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	p := filepath.Join(dir, "a.css")
	require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("1", 1<<20)), 0o644))
	fsys := &rewriteDuringRead{Fs: afero.NewOsFs(), name: p, data: []byte(strings.Repeat("2", 1<<20))}
	v, err := stampfs.NewLinker(fsys, dir).Publish(nil)
	require.NoError(t, err)
	assert.Equal(t, 1, fsys.rewrites, "the file was rewritten during the first copy")
	assert.Equal(t, 2, fsys.opens, "and copied again")
	stored, err := os.ReadFile(filepath.Join(v.Dir(), "a.css"))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("2", 1<<20), string(stored), "the version holds one moment of the file")
	assert.Equal(t, scan(t, afero.NewOsFs(), dir, nil).Stamp(), v.Stamp)
}

// rewriteDuringRead rewrites name with data (keeping its inode, as an editor
// saving in place does) in the middle of the first copy of it: after the
// first read from the first handle opened.
type rewriteDuringRead struct {
	afero.Fs
	name     string
	data     []byte
	opens    int
	rewrites int
}

func (r *rewriteDuringRead) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := r.Fs.OpenFile(name, flag, perm)
	if err != nil || name != r.name {
		return f, err
	}
	r.opens++
	if r.opens > 1 {
		return f, nil
	}
	return &rewriteOnRead{File: f, r: r}, nil
}

type rewriteOnRead struct {
	afero.File
	r *rewriteDuringRead
}

func (f *rewriteOnRead) Read(p []byte) (int, error) {
	n, err := f.File.Read(p[:min(len(p), 4096)])
	if f.r.rewrites == 0 {
		f.r.rewrites++
		if werr := os.WriteFile(f.r.name, f.r.data, 0o644); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// TestTamperedVersionNotServed: a stored file whose bytes no longer match its
// version's index is never served as immutable, and the handler says why.
func TestTamperedVersionNotServed(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeTree(t, fsys, dir, "a.css=one")
			var log strings.Builder
			h, err := stampfs.New(fsys, dir, &stampfs.Options{Mode: stampfs.ModeVirtual, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			require.NoError(t, err)
			old := h.Stamp()
			makeTree(t, fsys, dir, "a.css=two")
			require.NoError(t, h.Refresh())
			stored := filepath.Join(dir, stampfs.DefaultStore, old, "a.css")
			require.NoError(t, fsys.Chmod(stored, 0o644))
			require.NoError(t, afero.WriteFile(fsys, stored, []byte("ONE"), 0o644)) // same size, in place

			w := do(t, h, "GET", "/static/"+old+"/a.css")
			assert.Equal(t, "one", w.Body.String(), "this process still holds the bytes it served")

			// Another process (or this one after a restart) reads the store.
			h2, err := stampfs.New(fsys, dir, &stampfs.Options{Mode: stampfs.ModeVirtual, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			require.NoError(t, err)
			w = do(t, h2, "GET", "/static/"+old+"/a.css")
			assert.NotEqual(t, immutable, w.Header().Get("Cache-Control"))
			assert.NotEqual(t, "ONE", w.Body.String())
			assert.Contains(t, log.String(), "not serving a version that does not match its index")
		})
	}
}

// TestCopiedStore: a directory copied with its store (cp -a, a restore, an
// image build) serves every stamp from the copy, streamed files too, and the
// next publishes trust the copy's files again.
func TestCopiedStore(t *testing.T) {
	src := filepath.Join(t.TempDir(), "static")
	require.NoError(t, os.MkdirAll(src, 0o755))
	big := strings.Repeat("b", 100<<10)
	require.NoError(t, os.WriteFile(filepath.Join(src, "big.js"), []byte(big), 0o644))
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(filepath.Join(src, "big.js"), old, old))
	h, err := stampfs.New(afero.NewOsFs(), src, &stampfs.Options{Mode: stampfs.ModeVirtual})
	require.NoError(t, err)
	stamp := h.Stamp()

	dst := filepath.Join(t.TempDir(), "static")
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	require.NoError(t, err, string(out))
	var log strings.Builder
	h2, err := stampfs.New(afero.NewOsFs(), dst, &stampfs.Options{Mode: stampfs.ModeVirtual, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	require.NoError(t, err)
	assert.Equal(t, stamp, h2.Stamp())
	check(t, do(t, h2, "GET", "/static/"+stamp+"/big.js"), want{status: 200, body: big, header: map[string]string{"Cache-Control": immutable}})

	log.Reset()
	require.NoError(t, h2.Refresh())
	assert.Contains(t, log.String(), `msg="version unchanged"`, "the copy's index now vouches for the copied files")
}
