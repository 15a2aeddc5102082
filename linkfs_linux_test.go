package stampfs_test

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// lchtimes sets the modification time of the link name itself, not of what
// it points to (utimensat with AT_SYMLINK_NOFOLLOW).
func lchtimes(name string, mtime time.Time) error {
	const atSymlinkNoFollow = 0x100
	atFDCWD := -100
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(mtime.UnixNano()), syscall.NsecToTimespec(mtime.UnixNano())}
	_, _, errno := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(&ts[0])), atSymlinkNoFollow, 0, 0)
	if errno != 0 {
		return &os.PathError{Op: "lutimes", Path: name, Err: errno}
	}
	return nil
}
