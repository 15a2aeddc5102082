package stampfs

import (
	"log/slog"
	"sync"
	"time"
)

// versionCache holds the serving tables of the store's other versions that
// requests have asked for, so that a stamped URL of an earlier deploy (or of
// another process sharing the directory) is answered with that version's
// own bytes, immutable, as fast as the current stamp's. Versions never
// change, so a table stays valid until Refresh prunes; it is dropped then
// and rebuilt on demand. A stamp the store does not hold is remembered for
// missTTL, so that requests for made-up stamps cost no disk access each.
type versionCache struct {
	mu sync.Mutex
	m  map[string]versionSlot
}

type versionSlot struct {
	st      *state // nil: no such version
	checked time.Time
}

const (
	missTTL          = time.Second
	maxCachedVersion = 16
)

func (c *versionCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// versionState returns the serving table of the store's version of stamp,
// or nil when the store holds none (or holds one whose bytes do not match
// its index, which is logged and never served).
func (h *Handler) versionState(stamp string) *state {
	c := &h.versions
	c.mu.Lock()
	defer c.mu.Unlock()
	if slot, ok := c.m[stamp]; ok && (slot.st != nil || time.Since(slot.checked) < missTTL) {
		return slot.st
	}
	if len(c.m) >= maxCachedVersion {
		c.m = nil
	}
	if c.m == nil {
		c.m = make(map[string]versionSlot)
	}
	var st *state
	v, err := h.linker.Version(stamp)
	if err == nil {
		snap := &Snapshot{stamp: v.Stamp, strategy: v.Strategy, files: v.Files}
		st, err = h.table(snap, v, nil, nil)
		if err != nil {
			h.log(slog.LevelWarn, "stampfs: not serving a version that does not match its index", "version", v.dir, "err", err.Error())
		}
	}
	c.m[stamp] = versionSlot{st: st, checked: time.Now()}
	return st
}
