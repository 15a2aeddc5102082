// Package vfs holds the virtual file systems stampfs runs on:
//
//   - [Prefix] shows an fs.FS under one extra path segment, the stamp; it is
//     the mode for hosts without symbolic links.
//   - [AferoFS] turns an afero.Fs into an fs.FS that passes
//     testing/fstest.TestFS.
//
// # Names
//
// [Prefix] and [AferoFS] accept only names that fs.ValidPath accepts and that
// hold no backslash or NUL byte; any other name fails with fs.ErrInvalid, and
// a name under no segment of a Prefix with fs.ErrNotExist. Errors are
// *fs.PathError values naming the caller's path, never a host path. Neither
// is a barrier against symbolic links that the file system below follows:
// serve the OS through os.Root where that matters.
//
// # Testing
//
// Package [github.com/stampfs/stampfs/vfs/vfstest] holds the file systems
// for tests: MemFS, an in-memory afero.Fs with symbolic links that behaves
// like Linux, and FaultFS, which fails chosen operations of another one.
package vfs
