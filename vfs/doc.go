// Package vfs holds the virtual file systems stampfs runs on.
//
//   - [Prefix] shows an fs.FS under one extra path segment, the stamp: the
//     mode for hosts without symbolic links.
//   - [MemFS] is an in-memory afero.Fs with symbolic links that behaves like
//     Linux, so that everything stampfs does on disk can be tested in memory.
//   - [AferoFS] turns an afero.Fs into an fs.FS.
//   - [FaultFS] wraps an afero.Fs and injects errors, for tests.
//
// # MemFS and Linux
//
// MemFS is checked against the operating system by running the same random
// operation sequences on both and comparing every result and the resulting
// tree (see memfs_diff_test.go and FuzzMemFSvsOS). It differs from a Linux
// file system on purpose in these ways:
//
//   - Names are cleaned lexically before lookup, as filepath.Join would clean
//     them, so "link/.." is the directory holding link, not the parent of
//     its target. ".." inside a link's target is physical, as on Linux. A
//     trailing slash in a name is dropped; "" is fs.ErrNotExist.
//   - There are no permission checks, owners or umask: every operation runs
//     as if by root, Chown only checks that the name exists, and modes are
//     stored exactly as given.
//   - There are no hard links, devices, FIFOs or sockets; FileInfo.Sys is
//     nil and a directory's size is 0.
//   - Times: reads never change the access time, a file's mtime moves on
//     every non-empty write and truncation, a directory's when an entry is
//     added, removed or renamed; there is no change time. All times come from
//     the clock set with SetClock.
//   - Readdir returns entries sorted by name and lists the names a
//     directory held when the listing started (or restarted by Seek).
//   - The root cannot be removed or renamed (syscall.EBUSY), and files are
//     limited to 4 GiB (syscall.EFBIG).
package vfs
