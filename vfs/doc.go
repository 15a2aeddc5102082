// Package vfs holds the virtual file systems stampfs runs on: a prefix view of
// an fs.FS, a symlink-capable in-memory afero.Fs, an afero.Fs to fs.FS bridge
// and a fault-injecting wrapper for tests.
package vfs
