//go:build !unix

package stampfs

// noFollowFlags: elsewhere there are none to add; stillRegular checks the
// file before it is opened.
const noFollowFlags = 0

// lock takes the store's lock. Without flock(2) it serializes only this
// process's Linkers; the steps it guards are single renames, which the
// system still makes atomic between processes.
func (l *Linker) lock() (unlock func(), err error) {
	return l.processLock(), nil
}
