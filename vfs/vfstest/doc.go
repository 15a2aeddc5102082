// Package vfstest holds file systems for testing code that runs on an
// afero.Fs, as testing/fstest does for io/fs:
//
//   - [MemFS] is an in-memory afero.Fs with symbolic links that behaves like
//     Linux, so that everything stampfs does on disk can be tested in memory.
//   - [FaultFS] wraps an afero.Fs and fails chosen operations.
//
// # Faults
//
// A [FaultFS] counts every call by operation and name and fails the ones its
// rules choose (the Nth matching call, or every one) with the error a [Rule]
// gives, shaped as the os package shapes it (*fs.PathError, or *os.LinkError
// for Rename and Symlink), so errors.Is works. A failed call never reaches
// the file system below, so crash tests can fail each step of an operation in
// turn and check what is left on disk.
//
// # MemFS and Linux
//
// MemFS is checked against the operating system: its tests run the same
// operations, a fixed script and random sequences, on a MemFS and on
// afero.OsFs, and require the same result, the same error class and the same
// tree after every step. Run the fuzz target for more:
//
//	go test -run '^$' -fuzz FuzzMemFSvsOS ./vfs/vfstest
//
// It differs from Linux on purpose in these ways:
//
//   - Names are cleaned lexically before lookup, as filepath.Join cleans
//     them before an os call, so "link/.." is the directory holding link,
//     not the parent of its target, and a trailing slash is dropped: Lstat
//     of "link/" describes the link. ".." inside a link's target is
//     physical, as on Linux. The empty name does not exist.
//     FileInfo.Name is the last element of the cleaned name.
//   - There are no permission checks, owners or umask: every operation
//     succeeds as it would for root, Chown only checks that the name exists,
//     and modes are kept exactly as given.
//   - There are no hard links, devices, FIFOs or sockets; FileInfo.Sys is
//     nil and a directory's size is 0. Files hold less than 2 GiB
//     (syscall.EFBIG).
//   - Times: reads never change the access time; a file's modification time
//     moves on every non-empty write and truncation, a directory's when an
//     entry is added, removed or renamed; there is no change time. All times
//     come from the clock set with [MemFS.SetClock].
//   - Readdir lists entries sorted by name, as they were when the listing
//     started (or restarted by Seek).
//   - OpenFile ignores flags other than the access mode, O_CREATE, O_EXCL,
//     O_TRUNC and O_APPEND.
//
// Where the os package adds its own rules, MemFS follows them: Rename refuses
// to replace a directory, even an empty one, with fs.ErrExist, as os.Rename
// does before it calls rename(2), but renames a directory onto another
// spelling of its own name ("d" onto "./d" or "d/") as a no-op, as rename(2)
// does (and "d" onto "d/." too, which Linux refuses with EBUSY); RemoveAll of a missing name succeeds; an
// empty Read, ReadAt or WriteAt succeeds on any open handle, since os.File
// makes no system call for it.
package vfstest
