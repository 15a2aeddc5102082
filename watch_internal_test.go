package stampfs

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watchedMem returns a Handler over static/ on a fresh MemMapFs holding
// css/a.css, a watcher of it with quiet period quiet, and the log.
func watchedMem(t *testing.T, quiet time.Duration) (afero.Fs, *Handler, *watcher, *bytes.Buffer) {
	t.Helper()
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "static/css/a.css", []byte("a{}"), 0o644))
	var log bytes.Buffer
	h, err := New(fsys, "static", &Options{Mode: ModeVirtual, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	require.NoError(t, err)
	w, err := h.newWatcher(&WatchOptions{Interval: time.Millisecond, Quiet: quiet})
	require.NoError(t, err)
	return fsys, h, w, &log
}

// TestWatchDebounceMem writes a burst of 1,000 files on a MemMapFs, polling
// after every 10 writes at a clock that moves 1 ms a poll: no poll during the
// burst rescans, and the first poll after the quiet period rescans once.
func TestWatchDebounceMem(t *testing.T) {
	fsys, h, w, log := watchedMem(t, 50*time.Millisecond)
	before := h.Stamp()
	now := time.Unix(1e9, 0)
	for i := range 1000 {
		require.NoError(t, afero.WriteFile(fsys, fmt.Sprintf("static/gen/%03d.js", i%100), []byte(fmt.Sprintf("v%d", i)), 0o644))
		if i%10 == 9 {
			now = now.Add(time.Millisecond)
			require.False(t, w.poll(now), "poll after write %d rescanned during the burst", i)
		}
	}
	assert.Equal(t, before, h.Stamp(), "nothing rescanned yet")

	rescans := 0
	for range 100 { // 100 ms of polls after the burst
		now = now.Add(time.Millisecond)
		if w.poll(now) {
			rescans++
		}
	}
	assert.Equal(t, 1, rescans)
	assert.Equal(t, 1, strings.Count(log.String(), `msg="stampfs: rescanned"`), log.String())

	want, err := Scan(fsys, "static", nil)
	require.NoError(t, err)
	assert.Equal(t, want.Stamp(), h.Stamp())
	assert.Contains(t, log.String(), `msg="stampfs: rescanned" reason="files changed" old=`+before+" stamp="+want.Stamp()+" files=101 took=")
}

func TestWatchNoChangeNoRescan(t *testing.T) {
	fsys, h, w, log := watchedMem(t, time.Millisecond)
	before := h.Stamp()
	now := time.Unix(1e9, 0)
	for range 50 {
		now = now.Add(time.Second)
		assert.False(t, w.poll(now))
	}
	assert.NotContains(t, log.String(), "rescan")

	// The same bytes written again have a new mtime: one rescan, same stamp.
	require.NoError(t, afero.WriteFile(fsys, "static/css/a.css", []byte("a{}"), 0o644))
	assert.False(t, w.poll(now.Add(time.Second)), "the poll that sees the change waits")
	assert.True(t, w.poll(now.Add(2*time.Second)))
	assert.Equal(t, before, h.Stamp())
}

func TestWatchSizeChangeSameMtime(t *testing.T) {
	fsys, h, w, _ := watchedMem(t, time.Millisecond)
	fi, err := fsys.Stat("static/css/a.css")
	require.NoError(t, err)
	require.NoError(t, afero.WriteFile(fsys, "static/css/a.css", []byte("a{color:red}"), 0o644))
	require.NoError(t, fsys.Chtimes("static/css/a.css", fi.ModTime(), fi.ModTime()))

	now := time.Unix(1e9, 0)
	w.poll(now)
	require.True(t, w.poll(now.Add(time.Second)), "a new size alone is a change")
	u, err := h.URL("css/a.css")
	require.NoError(t, err)
	assert.NotContains(t, u, "/"+mustStamp(t, "a{}")+"/")
}

// mustStamp is the content stamp of static/css/a.css holding body alone.
func mustStamp(t *testing.T, body string) string {
	t.Helper()
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "static/css/a.css", []byte(body), 0o644))
	snap, err := Scan(fsys, "static", nil)
	require.NoError(t, err)
	return snap.Stamp()
}

func TestWatchFailedRescanKeepsServing(t *testing.T) {
	fsys, h, w, log := watchedMem(t, time.Millisecond)
	before := h.Stamp()
	require.NoError(t, fsys.RemoveAll("static"))

	now := time.Unix(1e9, 0)
	assert.False(t, w.poll(now))
	assert.True(t, w.poll(now.Add(time.Second)))
	assert.Equal(t, before, h.Stamp())
	assert.Contains(t, log.String(), `level=WARN msg="stampfs: rescan failed; serving the old stamp" reason="files changed" stamp=`+before)
	assert.Contains(t, log.String(), "file does not exist")

	// The error persists: no rescan per poll.
	assert.False(t, w.poll(now.Add(2*time.Second)))
	assert.Equal(t, 1, strings.Count(log.String(), "rescan failed"))
}

// TestWatchTreeWithoutTimes: a tree whose files all have zero times, which
// makes no mtime stamp, is still watched by size.
func TestWatchTreeWithoutTimes(t *testing.T) {
	fsys, h, _, log := watchedMem(t, time.Millisecond)
	require.NoError(t, fsys.Chtimes("static/css/a.css", time.Time{}, time.Time{}))
	w, err := h.newWatcher(&WatchOptions{Interval: time.Millisecond, Quiet: time.Millisecond})
	require.NoError(t, err)
	require.Empty(t, w.last.err)
	require.Len(t, w.last.files, 1)

	require.NoError(t, afero.WriteFile(fsys, "static/css/a.css", []byte("a{color:red}"), 0o644))
	require.NoError(t, fsys.Chtimes("static/css/a.css", time.Time{}, time.Time{}))
	now := time.Unix(1e9, 0)
	assert.False(t, w.poll(now))
	assert.True(t, w.poll(now.Add(time.Second)), log.String())
	assert.Equal(t, mustStamp(t, "a{color:red}"), h.Stamp())
}
