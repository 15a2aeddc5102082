package stampfs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// lockedBuffer is a log both the watcher and the test use.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWatchBurstOnDisk writes 1,000 files into a watched t.TempDir() as fast
// as it can: the watcher polls every 10 ms throughout, rescans nothing
// before the burst ends and a handful of times at most after it.
func TestWatchBurstOnDisk(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a{}"), 0o644))
	log := &lockedBuffer{}
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual, Logger: slog.New(slog.NewTextHandler(log, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.Watch(ctx, &stampfs.WatchOptions{Interval: 10 * time.Millisecond, Quiet: 500 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})

	time.Sleep(50 * time.Millisecond) // a few polls of the old tree
	for i := range 1000 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen%04d.js", i)), []byte(fmt.Sprint(i)), 0o644))
	}
	assert.NotContains(t, log.String(), "rescanned", "a rescan ran during the burst")

	want, err := stampfs.Scan(afero.NewOsFs(), dir, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.Stamp() == want.Stamp() }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(time.Second) // two quiet periods more, for any extra rescan
	n := strings.Count(log.String(), `msg="stampfs: rescanned"`)
	assert.GreaterOrEqual(t, n, 1)
	assert.LessOrEqual(t, n, 3, log.String())
	assert.Contains(t, log.String(), "stamp="+want.Stamp()+" files=1001 ")
}

func TestWatchBadOptions(t *testing.T) {
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "static/a.css", []byte("a{}"), 0o644))
	h, err := stampfs.New(fsys, "static", &stampfs.Options{Mode: stampfs.ModeVirtual})
	require.NoError(t, err)
	for _, opts := range []stampfs.WatchOptions{{Interval: -1}, {Quiet: -time.Second}} {
		err := h.Watch(context.Background(), &opts)
		assert.ErrorIs(t, err, fs.ErrInvalid)
		assert.False(t, errors.Is(err, context.Canceled))
	}
}

// TestWatchSeesAnEditBeforeItStarts: a file changed between New and Watch
// is picked up, not taken as the baseline.
func TestWatchSeesAnEditBeforeItStarts(t *testing.T) {
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "/static/a.css", []byte("a1"), 0o644))
	h, err := stampfs.New(fsys, "/static", nil)
	require.NoError(t, err)
	old := h.Stamp()
	require.NoError(t, afero.WriteFile(fsys, "/static/a.css", []byte("a2-longer"), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Watch(ctx, &stampfs.WatchOptions{Interval: 10 * time.Millisecond})
	assert.Eventually(t, func() bool { return h.Stamp() != old }, 5*time.Second, 10*time.Millisecond)
}
