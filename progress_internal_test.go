package stampfs

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// progressTree writes 200 files of 1 to 200 KiB under dir and returns their
// number and bytes.
func progressTree(t *testing.T, fsys afero.Fs, dir string) (files, bytes int64) {
	t.Helper()
	for i := range 200 {
		data := make([]byte, (i+1)<<10)
		for j := range data {
			data[j] = byte(i * j)
		}
		name := filepath.Join(dir, fmt.Sprintf("d%d/f%03d.js", i%7, i))
		require.NoError(t, fsys.MkdirAll(filepath.Dir(name), 0o755))
		require.NoError(t, afero.WriteFile(fsys, name, data, 0o644))
		files, bytes = files+1, bytes+int64(len(data))
	}
	require.NoError(t, afero.WriteFile(fsys, filepath.Join(dir, ".hidden"), []byte("not counted"), 0o644))
	return files, bytes
}

// progressLog records the calls of a ScanOptions.Progress and fails the
// test when two overlap.
type progressLog struct {
	t     *testing.T
	in    atomic.Bool
	calls []Progress // written without a lock: -race reports overlapping calls
}

func (l *progressLog) report(p Progress) {
	if !l.in.CompareAndSwap(false, true) {
		l.t.Error("Progress called while a call is running")
	}
	time.Sleep(time.Millisecond) // widen the window for an overlap
	l.calls = append(l.calls, p)
	l.in.Store(false)
}

// check asserts that the counts only grow, that the last call alone has
// Done, and that it reports files and bytes done equal to the totals.
func (l *progressLog) check(files, bytes int64) {
	t := l.t
	t.Helper()
	require.NotEmpty(t, l.calls)
	last := l.calls[len(l.calls)-1]
	assert.True(t, last.Done, "the last call has Done")
	assert.Equal(t, Progress{Files: files, Bytes: bytes, TotalFiles: files, TotalBytes: bytes, Elapsed: last.Elapsed, Done: true}, last)
	var prev Progress
	for i, p := range l.calls[:len(l.calls)-1] {
		assert.False(t, p.Done, "call %d of %d has Done", i, len(l.calls))
		assert.GreaterOrEqual(t, p.Files, prev.Files)
		assert.GreaterOrEqual(t, p.Bytes, prev.Bytes)
		assert.GreaterOrEqual(t, p.Elapsed, prev.Elapsed)
		assert.LessOrEqual(t, p.Files, files)
		if p.TotalFiles != 0 {
			assert.Equal(t, files, p.TotalFiles)
		}
		prev = p
	}
}

func TestScanProgress(t *testing.T) {
	saved := progressEvery
	t.Cleanup(func() { progressEvery = saved })
	progressEvery = 100 * time.Microsecond // many reports, even on a fast scan

	for _, fs := range []struct {
		name string
		fsys afero.Fs
		dir  string
	}{
		{"MemMapFs", afero.NewMemMapFs(), "/static"},
		{"OS", afero.NewOsFs(), t.TempDir()}, // the Linux fast walk, where there is one
	} {
		files, bytes := progressTree(t, fs.fsys, fs.dir)
		for _, opts := range []ScanOptions{{Strategy: Content}, {Strategy: Mtime}, {Strategy: Mtime, Hash: true}} {
			t.Run(fmt.Sprintf("%s/%s/hash=%v", fs.name, opts.Strategy, opts.Hash), func(t *testing.T) {
				log := &progressLog{t: t}
				opts.Progress = log.report
				_, err := Scan(fs.fsys, fs.dir, &opts)
				require.NoError(t, err)
				log.check(files, bytes)
			})
		}
	}
}

func TestScanProgressOnError(t *testing.T) {
	var calls []Progress
	_, err := Scan(afero.NewMemMapFs(), "/missing", &ScanOptions{Progress: func(p Progress) { calls = append(calls, p) }})
	require.Error(t, err)
	require.Len(t, calls, 1)
	assert.True(t, calls[0].Done)
	assert.Zero(t, calls[0].TotalFiles)
}

func TestScanNoProgress(t *testing.T) {
	fsys := afero.NewMemMapFs()
	progressTree(t, fsys, "/static")
	allocs := func(opts *ScanOptions) float64 {
		return testing.AllocsPerRun(2, func() {
			if _, err := Scan(fsys, "/static", opts); err != nil {
				t.Fatal(err)
			}
		})
	}
	without := allocs(nil)
	with := allocs(&ScanOptions{Progress: func(Progress) {}})
	// A meter is a few allocations per scan, never one per file.
	assert.Less(t, with-without, 20.0, "allocations with Progress: %v, without: %v", with, without)
}

func TestPublishProgress(t *testing.T) {
	saved := progressEvery
	t.Cleanup(func() { progressEvery = saved })
	progressEvery = 100 * time.Microsecond

	for _, fs := range []struct {
		name string
		fsys afero.Fs
		dir  string
	}{
		{"MemMapFs", afero.NewMemMapFs(), "/static"},
		{"OS", afero.NewOsFs(), t.TempDir()},
	} {
		t.Run(fs.name, func(t *testing.T) {
			files, bytes := progressTree(t, fs.fsys, fs.dir)
			l := NewLinker(fs.fsys, fs.dir)
			for _, what := range []string{"copied", "linked or copied again"} {
				log := &progressLog{t: t}
				_, err := l.Publish(&ScanOptions{Progress: log.report})
				require.NoError(t, err, what)
				log.check(files, bytes)
			}
		})
	}
}
