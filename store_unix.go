//go:build unix

package stampfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/afero"
)

// noFollowFlags are the open flags that refuse a link as the last element
// (ELOOP) and never block on a FIFO or device.
const noFollowFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC

// lock takes the store's lock, which serializes the short steps that must
// not interleave between processes: renaming a version into place, making or
// renewing a stamp link, and pruning. On the OS file system it is flock(2)
// on the store's lock file; elsewhere a lock shared by this process.
func (l *Linker) lock() (unlock func(), err error) {
	unlockProcess := l.processLock()
	if _, ok := l.fsys.(*afero.OsFs); !ok {
		return unlockProcess, nil
	}
	p := filepath.Join(l.storeDir(), lockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// No store yet: no version to guard, and links into it are not
		// made before Publish has created it.
		return unlockProcess, nil
	}
	if err != nil {
		unlockProcess()
		return nil, ensurePathError("open", p, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		unlockProcess()
		return nil, &os.PathError{Op: "flock", Path: p, Err: err}
	}
	return func() {
		f.Close() // releases the flock
		unlockProcess()
	}, nil
}
