package stampfs

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/spf13/afero"
)

// DefaultWatchInterval is the default WatchOptions.Interval.
const DefaultWatchInterval = 500 * time.Millisecond

// WatchOptions configures Handler.Watch. A nil *WatchOptions means the zero
// value, and every zero field means its default.
type WatchOptions struct {
	// Interval is how often Watch stats the directory. Default
	// DefaultWatchInterval.
	Interval time.Duration
	// Quiet is how long the directory must stay unchanged after a change
	// before Watch rescans it, so that a burst of writes (a deploy, a
	// build) gives one rescan once it has landed, never one during it.
	// Default: Interval.
	Quiet time.Duration
}

// Watch polls the Handler's directory every opts.Interval and calls Refresh
// once the counted files changed (a file added, removed, or given another
// size or modification time) and then stayed unchanged for opts.Quiet. It is
// meant for development: a poll is a stat of every counted file and reads
// no file's bytes; only the rescan hashes.
//
// Watch logs every rescan through Options.Logger: the old stamp, the new
// one, the number of files and the time taken, or the error, after which the
// old snapshot stays in use and Watch goes on. Changes made before Watch
// starts are not seen until something changes again. It returns ctx.Err()
// when ctx is done, and an error wrapping fs.ErrInvalid at once for a
// negative Interval or Quiet.
func (h *Handler) Watch(ctx context.Context, opts *WatchOptions) error {
	w, err := h.newWatcher(opts)
	if err != nil {
		return err
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			w.poll(now)
		}
	}
}

// watcher is the state of one Watch: the last table seen and whether it
// changed since the last rescan.
type watcher struct {
	h               *Handler
	interval, quiet time.Duration
	fsys            afero.Fs
	dir             string

	last    tableState
	dirty   bool      // changed since the last rescan
	changed time.Time // when the last change was seen
}

// tableState is what one poll saw: the counted files, or why they could not
// be listed.
type tableState struct {
	files []File
	err   string
}

func (h *Handler) newWatcher(opts *WatchOptions) (*watcher, error) {
	var o WatchOptions
	if opts != nil {
		o = *opts
	}
	if o.Interval < 0 || o.Quiet < 0 {
		return nil, fmt.Errorf("stampfs: watch interval %v, quiet %v: want 0 or more: %w", o.Interval, o.Quiet, fs.ErrInvalid)
	}
	if o.Interval == 0 {
		o.Interval = DefaultWatchInterval
	}
	if o.Quiet == 0 {
		o.Quiet = o.Interval
	}
	w := &watcher{h: h, interval: o.Interval, quiet: o.Quiet, fsys: h.fsys, dir: h.dir}
	if h.iofs != nil {
		w.fsys, w.dir = afero.FromIOFS{FS: h.iofs}, "."
	}
	w.last = w.stat()
	// A change that landed between the Handler's last scan and this first
	// poll would otherwise go unseen: compare with the version it serves.
	if st := h.cur.Load(); st != nil && st.version != nil && !w.last.equal(tableState{files: st.version.Files}) {
		w.dirty, w.changed = true, time.Now()
	}
	return w, nil
}

// statOnly makes Scan a stat pass: the Fixed strategy reads no file and,
// unlike Mtime, does not refuse a tree without times (an embed.FS, Nix).
var statOnly = ScanOptions{Strategy: Fixed, Version: "stat"}

// stat lists the counted files with their sizes and modification times.
func (w *watcher) stat() tableState {
	snap, err := Scan(w.fsys, w.dir, &statOnly)
	if err != nil {
		return tableState{err: err.Error()}
	}
	return tableState{files: snap.files}
}

// poll stats the directory at now and rescans if it changed and has been
// quiet for w.quiet since. It reports whether it rescanned.
func (w *watcher) poll(now time.Time) bool {
	cur := w.stat()
	if !cur.equal(w.last) {
		w.last, w.dirty, w.changed = cur, true, now
		return false
	}
	if !w.dirty || now.Sub(w.changed) < w.quiet {
		return false
	}
	w.dirty = false
	w.h.rescan("files changed")
	return true
}

// equal reports whether two polls saw the same names, sizes and mtimes.
func (a tableState) equal(b tableState) bool {
	if a.err != b.err || len(a.files) != len(b.files) {
		return false
	}
	for i, f := range a.files {
		g := b.files[i]
		if f.Name != g.Name || f.Size != g.Size || !f.ModTime.Equal(g.ModTime) {
			return false
		}
	}
	return true
}

// rescan runs Refresh and logs the outcome with reason.
func (h *Handler) rescan(reason string) {
	old, start := h.Stamp(), time.Now()
	err := h.Refresh()
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		h.log(slog.LevelWarn, "stampfs: rescan failed; serving the old stamp", "reason", reason, "stamp", old, "took", took, "err", err.Error())
		return
	}
	h.log(slog.LevelInfo, "stampfs: rescanned", "reason", reason, "old", old, "stamp", h.Stamp(), "files", len(h.cur.Load().files), "took", took)
}
