// Package stampfs gives a static directory a stamp and serves its files under
// /static/<stamp>/… with a one-year immutable cache; any change to the files
// changes the stamp, and so every URL.
//
// # Usage
//
// [New] scans a directory and returns an http.Handler for it; mount it at its
// prefix and link assets through [Handler.URL] or the template functions:
//
//	h, err := stampfs.New(afero.NewOsFs(), "static", nil)
//	mux.Handle("/static/", h) // not through http.StripPrefix: h strips the prefix itself
//	tmpl := template.New("page").Funcs(h.FuncMap())
//	// <link rel=stylesheet href="{{static "css/site.css"}}" integrity="{{integrity "css/site.css"}}" crossorigin=anonymous>
//
// [NewFS] does the same for any fs.FS, such as an embed.FS (content stamps,
// virtual mode). URL returns /static/<stamp>/css/site.css (or Options.Base
// plus that) and an error wrapping [ErrUnknownAsset] for a name the Handler
// does not serve (not a counted file, or a precompressed a.css.gz that is
// served only for a.css). Files up to 64 KiB, 32 MiB in all, are answered
// from memory; larger ones are streamed, through os.Root on the OS file
// system.
//
// Deploy scripts and non-Go apps use the pieces on their own: [Scan] computes
// a stamp and the table of files, and a [Linker] makes the stamp link that
// nginx or Apache serves. The command stampfs wraps both.
//
// # Stamps
//
// A stamp is one path segment: 1 to 64 characters of [0-9A-Za-z._-] that does
// not start with a dot (see vfs.ValidSegment). [Scan] computes it with one of
// four strategies:
//
//   - [Content] (the default): the first 12 lowercase hex digits of the
//     SHA-256 of the lines sha256sum prints for every counted file, in
//     bytewise order of the "./name" paths ("a.c" before "a/b"). The same
//     bytes under the same names give the same stamp on every machine and
//     file system. An empty directory's stamp is "e3b0c44298fc".
//   - [Mtime]: the newest modification time of the counted files in whole
//     Unix seconds ("0" for none). Fresh checkouts, Nix, Bazel and embed.FS
//     make such times meaningless, so Scan warns through the caller's logger
//     when they look made up, and it is never the default.
//   - [Git]: the first 12 hex digits of the commit HEAD names, read from the
//     repository's files (HEAD, loose refs, packed-refs, a worktree's gitdir
//     and commondir) without running git.
//   - [Fixed]: a version string the caller supplies, such as a build flag.
//
// Counted files are the regular files below the directory. Not counted, and
// never served: any path with a segment that starts with "." (".git",
// ".env", "css/.a.css.swp"), symbolic links, which are never followed (so a
// stamp link static/<stamp> -> . changes no stamp and makes no loop),
// devices, pipes and sockets, and directories' own times. The [Snapshot]
// lists every counted file with its size, mtime and, when the strategy reads
// content or [ScanOptions].Hash is set, its SHA-256; the handler serves from
// that table and nothing else.
//
// # Symlinks
//
// Every stamp owns a version: an immutable copy of the bytes it was computed
// from, in the store (DIR/.stampfs/<stamp>/ by default), published by
// [Linker.Publish] in one rename and never written again; unchanged files are
// hard links between versions. In symlink mode the stamped path is a real
// symbolic link <dir>/<stamp> into its version (".stampfs/<stamp>", relative,
// so it survives bind mounts and containers), and a front web server serves
// <dir>/<stamp>/css/a.css with exactly that stamp's bytes, whatever the live
// tree holds now. [Linker.Activate] creates a uniquely named hidden link and
// renames it over <dir>/<stamp>, so the name never goes missing;
// [Linker.Prune] removes old versions with their links. A link is
// stampfs's to remove only in the form Activate makes, or in the form older
// deploys made ("." or an absolute path naming <dir>, with no ".." element)
// under a name such deploys produced (all digits, or 12 lowercase hex);
// nothing else is ever removed or replaced, apart from the hidden temporary
// entries (".stampfs-tmp-…", ".tmp-…") that a crashed run leaves behind. The
// scanner neither follows nor counts symbolic links, and the handler never
// serves them, so a stamp link cannot loop or leak.
//
// Any number of goroutines and processes may publish, activate and prune the
// same directory at once: the steps that must not interleave take a lock
// file in the store for a moment, and a link or version another process
// removed first is not an error.
//
// Platform differences:
//   - On Linux, the BSDs and macOS, rename(2) replaces a link atomically.
//   - Windows needs Developer Mode or administrator rights to make links.
//     There, and on read-only file systems, on hosts that forbid links and on
//     afero file systems without them, [Linker.Probe] and [Linker.Activate]
//     return an error wrapping [ErrSymlinkUnsupported]; serve the stamp
//     virtually instead ([ModeVirtual], or vfs.Prefix). Symlink mode is not
//     tested on Windows.
//   - afero.BasePathFs turns the relative target "." into an absolute host
//     path; the Linker notices and reports ErrSymlinkUnsupported.
//
// # Path names
//
// A file's name, in a Snapshot, in a URL and in every stampfs function, is a
// slash-separated path relative to the scanned directory, with no leading
// slash and no "." or ".." elements: "css/site.css", never "/css/site.css" or
// "./css/site.css". Names are compared bytewise, without case folding,
// Unicode normalisation or cleaning, so "CSS/site.css" and "css//site.css"
// name nothing. They may hold spaces and any UTF-8; tables and content
// stamps sort them bytewise, as LC_ALL=C sort does. A file is served at
// <prefix><stamp>/<name>. The directory given to Scan is in the Fs's own
// syntax (a host path on afero.OsFs), and errors name files by
// filepath.Join(dir, name).
//
// # Concurrency
//
// A [Handler] is safe for concurrent use. [Handler.Refresh] rescans the
// directory and swaps the new snapshot in atomically: each request, URL and
// Integrity call sees the old snapshot or the new one, never a mix. Refresh
// calls run one at a time; on error the old snapshot stays in use. In symlink
// mode the new stamp link exists before the swap, and old links are pruned
// after it. Call Refresh on a signal after a deploy (see the SIGHUP example),
// or in development let [Handler.Watch] call it once files stop changing. A
// [Snapshot] is immutable. For tests, vfstest.NewMemFS (package
// github.com/stampfs/stampfs/vfs/vfstest) gives an in-memory afero.Fs with
// real symbolic links that behaves like Linux.
package stampfs
