package stampfs_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

func TestScanMtimeMatchesFind(t *testing.T) {
	dir := t.TempDir()
	fsys := afero.NewOsFs()
	makeTree(t, fsys, dir, "css/a.css", "js/app.js", "index.html", ".hidden", "css/.swap", "img/", "link -> index.html")

	setTime := func(name string, tm time.Time) {
		t.Helper()
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), tm, tm))
	}
	newest := time.Date(2024, 6, 1, 12, 0, 0, 999_000_000, time.UTC)
	setTime("css/a.css", newest.Add(-time.Hour))
	setTime("js/app.js", newest)
	setTime("index.html", newest.Add(-48*time.Hour))
	// Neither hidden files nor directories count, however new.
	setTime(".hidden", newest.Add(time.Hour))
	setTime("css/.swap", newest.Add(time.Hour))
	setTime("img", newest.Add(time.Hour))
	setTime("css", newest.Add(time.Hour))

	want := pipeline(t, dir, mtimePipeline, "find", "sort", "tail", "cut")
	snap := scan(t, fsys, dir, &stampfs.ScanOptions{Strategy: stampfs.Mtime})
	assert.Equal(t, want, snap.Stamp())
	assert.Equal(t, "1717243200", snap.Stamp())
	assert.Equal(t, stampfs.Mtime, snap.Strategy())
	assert.Equal(t, []string{"css/a.css", "index.html", "js/app.js"}, names(snap))
}

// logTo returns a logger that writes text records to buf.
func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}

func TestScanMtimeWarnings(t *testing.T) {
	real1 := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	real2 := real1.Add(-time.Minute)
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		times map[string]time.Time // file → mtime; every file listed
		stamp string
		warn  string // part of the warning, "" for none
	}{
		{"real times", map[string]time.Time{"a": real1, "b": real2}, "1717243200", ""},
		{"one file", map[string]time.Time{"a": real1}, "1717243200", ""},
		{"all equal", map[string]time.Time{"a": real1, "b": real1, "c": real1}, "1717243200", "all have the same time"},
		{"epoch", map[string]time.Time{"a": real1, "b": time.Unix(0, 0)}, "1717243200", "fake file times"},
		{"one second, as Nix", map[string]time.Time{"a": time.Unix(1, 0), "b": time.Unix(1, 0)}, "1", "fake file times"},
		{"future", map[string]time.Time{"a": real1, "b": future}, strconv.FormatInt(future.Unix(), 10), "in the future"},
		{"no files", nil, "0", "without counted files is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			require.NoError(t, fsys.MkdirAll("static", 0o755))
			for name, tm := range tt.times {
				makeTree(t, fsys, "static", name)
				require.NoError(t, fsys.Chtimes("static/"+name, tm, tm))
			}
			var logs bytes.Buffer
			snap := scan(t, fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Mtime, Logger: logTo(&logs)})
			assert.Equal(t, tt.stamp, snap.Stamp())
			if tt.warn == "" {
				assert.Empty(t, logs.String())
				return
			}
			assert.Contains(t, logs.String(), "level=WARN")
			assert.Contains(t, logs.String(), tt.warn)
			assert.Equal(t, 1, strings.Count(logs.String(), "\n"), "one warning per scan")
		})
	}
}

func TestScanMtimeNilLoggerIsSilent(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "static", "a", "b")
	one := time.Unix(1, 0)
	require.NoError(t, fsys.Chtimes("static/a", one, one))
	require.NoError(t, fsys.Chtimes("static/b", one, one))
	assert.Equal(t, "1", scan(t, fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Mtime}).Stamp())
}

// TestScanMtimeWithoutTimes: a tree whose times are all zero or at the
// epoch (an embed.FS) has no mtime stamp: an error saying why, never a
// negative or zero stamp, whether or not a logger listens.
func TestScanMtimeWithoutTimes(t *testing.T) {
	for name, tm := range map[string]time.Time{"zero time": {}, "epoch": time.Unix(0, 0), "before 1970": time.Unix(-5, 0)} {
		t.Run(name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			makeTree(t, fsys, "static", "a", "b")
			require.NoError(t, fsys.Chtimes("static/a", tm, tm))
			require.NoError(t, fsys.Chtimes("static/b", tm, tm))
			_, err := stampfs.Scan(fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Mtime})
			require.ErrorIs(t, err, stampfs.ErrBadStamp)
			assert.ErrorContains(t, err, "zero or pre-1970 modification time")
			assert.ErrorContains(t, err, "use the content strategy")
		})
	}
}
