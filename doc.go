// Package stampfs gives a static directory a stamp and serves its files under
// /static/<stamp>/… with a one-year immutable cache, changing the stamp
// whenever the files change.
//
// (Sections Usage, Stamps, Symlinks, Path names and Concurrency follow as the
// pieces land.)
package stampfs
