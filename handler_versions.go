package stampfs

import (
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// versionCache holds the serving tables of the store's other versions that
// requests have asked for, so that a stamped URL of an earlier deploy (or of
// another process sharing the directory) is answered with that version's
// own bytes, immutable, as fast as the current stamp's. Versions never
// change, so a table stays valid while its version is retained; Refresh
// keeps those still in the store and adds the state it replaced. A stamp
// the store does not hold is remembered for missTTL, so that requests for
// made-up stamps cost no disk access each; they never evict a table.
type versionCache struct {
	hits  atomic.Pointer[map[string]*versionSlot] // copied on write: read without a lock
	epoch atomic.Int64                            // counts stores, for eviction by last use

	mu     sync.Mutex // serializes writers, and guards misses
	misses map[string]time.Time

	build sync.Mutex // one table is built at a time, outside mu
}

type versionSlot struct {
	st   *state
	used atomic.Int64 // the epoch of its last request
}

const (
	missTTL           = time.Second
	maxCachedVersions = 8
	maxCachedMisses   = 1024
)

// lookup returns the cached table of stamp, and whether the cache knows
// the stamp, as a table or as a recent miss.
func (c *versionCache) lookup(stamp string) (st *state, known bool) {
	if m := c.hits.Load(); m != nil {
		if slot, ok := (*m)[stamp]; ok {
			slot.used.Store(c.epoch.Load())
			return slot.st, true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.misses[stamp]
	return nil, ok && time.Since(at) < missTTL
}

// store records the table of stamp, or a miss when st is nil.
func (c *versionCache) store(stamp string, st *state) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == nil {
		if len(c.misses) >= maxCachedMisses || c.misses == nil {
			c.misses = make(map[string]time.Time)
		}
		c.misses[stamp] = time.Now()
		return
	}
	next := make(map[string]*versionSlot, maxCachedVersions)
	if m := c.hits.Load(); m != nil {
		for s, slot := range *m {
			next[s] = slot
		}
	}
	if len(next) >= maxCachedVersions {
		var oldest string
		var at int64
		for s, slot := range next {
			if u := slot.used.Load(); oldest == "" || u < at {
				oldest, at = s, u
			}
		}
		delete(next, oldest)
	}
	slot := &versionSlot{st: st}
	slot.used.Store(c.epoch.Add(1))
	next[stamp] = slot
	c.hits.Store(&next)
	delete(c.misses, stamp)
}

// refresh keeps the tables whose versions the store still holds, adds
// replaced (the state a Refresh swapped out, when it served a version) and
// forgets the misses: a new publish may have made them versions.
func (c *versionCache) refresh(replaced *state, exists func(dir string) bool) {
	c.mu.Lock()
	next := make(map[string]*versionSlot, maxCachedVersions)
	if m := c.hits.Load(); m != nil {
		for stamp, slot := range *m {
			if exists(slot.st.version.dir) {
				next[stamp] = slot
			}
		}
	}
	c.hits.Store(&next)
	c.misses = nil
	c.mu.Unlock()
	if replaced != nil && replaced.version != nil {
		c.store(replaced.stamp, replaced)
	}
}

// versionState returns the serving table of the store's version of stamp,
// or nil when the store holds none (or holds one whose bytes do not match
// its index, which is logged and never served).
func (h *Handler) versionState(stamp string) *state {
	c := &h.versions
	if st, known := c.lookup(stamp); known {
		return st
	}
	c.build.Lock()
	defer c.build.Unlock()
	if st, known := c.lookup(stamp); known {
		return st // built meanwhile
	}
	var st *state
	v, err := h.linker.Version(stamp)
	if err == nil {
		snap := &Snapshot{stamp: v.Stamp, strategy: v.Strategy, files: v.Files}
		st, err = h.table(snap, v, nil, nil)
		if err != nil {
			h.log(slog.LevelWarn, "stampfs: not serving a version that does not match its index", "version", v.dir, "err", err.Error())
			st = nil
		}
	}
	c.store(stamp, st)
	return st
}

// versionExists reports whether the store still holds the version in dir.
func (h *Handler) versionExists(dir string) bool {
	_, err := h.fsys.Stat(filepath.Join(dir, indexName))
	return err == nil
}
