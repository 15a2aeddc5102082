//go:build linux

package stampfs

import (
	"io/fs"
	"syscall"
)

// statOf returns the liveStat of a stat(2) result.
func statOf(st *syscall.Stat_t) liveStat {
	sec, nsec := st.Ctim.Unix()
	return liveStat{dev: uint64(st.Dev), ino: st.Ino, ctime: sec*1e9 + nsec}
}

// statOfInfo returns the liveStat of a FileInfo from the OS, and zero for
// one from another file system.
func statOfInfo(fi fs.FileInfo) liveStat {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return statOf(st)
	}
	return liveStat{}
}
