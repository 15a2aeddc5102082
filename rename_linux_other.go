//go:build linux && !amd64 && !arm64

package stampfs

// sysRenameat2 is unknown here: renameat2 answers ENOSYS, and the plain
// rename is used.
const sysRenameat2 = ^uintptr(0)
