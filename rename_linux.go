package stampfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"unsafe"
)

func init() { replaceLinkOS = replaceLinkLinux }

// Flags of renameat2(2).
const (
	renameNoReplace = 1 << 0
	renameExchange  = 1 << 1
)

// replaceLinkLinux is replaceLinkOS for Linux, with renameat2(2). On a file
// system without renameat2 (EINVAL, ENOSYS) it falls back to rename(2).
func replaceLinkLinux(tmp, name string, existed bool, isStampLink func(string) bool) error {
	if !existed {
		err := renameat2(tmp, name, renameNoReplace)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EEXIST):
			if !isStampLink(name) {
				return &fs.PathError{Op: "activate", Path: name, Err: errNotStampLink}
			}
			// Another Activate made the link first: replace it as below.
		case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOSYS):
			// No renameat2 on this file system: look once more, then rename.
			if _, err := os.Lstat(name); err == nil && !isStampLink(name) {
				return &fs.PathError{Op: "activate", Path: name, Err: errNotStampLink}
			}
			return renamePlain(tmp, name)
		default:
			return &os.LinkError{Op: "rename", Old: tmp, New: name, Err: err}
		}
	}
	err := renameat2(tmp, name, renameExchange)
	switch {
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOSYS):
		return renamePlain(tmp, name)
	case errors.Is(err, syscall.ENOENT):
		// The link went away since Activate looked (a Prune of an older
		// stampfs, or by hand): place the new one without replacing.
		return replaceLinkLinux(tmp, name, false, isStampLink)
	case err != nil:
		return &os.LinkError{Op: "rename", Old: tmp, New: name, Err: err}
	}
	// tmp now holds what was at name.
	if isStampLink(tmp) {
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "remove", Path: tmp, Err: err}
		}
		return nil
	}
	// Something else took the name since Activate looked: give it back.
	if err := renameat2(tmp, name, renameExchange); err != nil {
		// name went away meanwhile: put the foreign entry back without
		// replacing anything; failing that, leave it at tmp, never remove it.
		if err := renameat2(tmp, name, renameNoReplace); err != nil {
			return &fs.PathError{Op: "activate", Path: name, Err: fmt.Errorf("%w: what appeared at the name is kept at %s: %w", errKeptAside, tmp, err)}
		}
		return &fs.PathError{Op: "activate", Path: name, Err: errNotStampLink}
	}
	return &fs.PathError{Op: "activate", Path: name, Err: errNotStampLink}
}

func renamePlain(tmp, name string) error { return os.Rename(tmp, name) }

// renameat2 is renameat2(2) relative to the working directory.
func renameat2(from, to string, flags uint) error {
	p1, err := syscall.BytePtrFromString(from)
	if err != nil {
		return err
	}
	p2, err := syscall.BytePtrFromString(to)
	if err != nil {
		return err
	}
	atFDCWD := -100
	for {
		_, _, e := syscall.Syscall6(sysRenameat2, uintptr(atFDCWD), uintptr(unsafe.Pointer(p1)), uintptr(atFDCWD), uintptr(unsafe.Pointer(p2)), uintptr(flags), 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}
