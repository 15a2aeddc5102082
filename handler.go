package stampfs

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"
)

// ErrUnknownAsset is returned (wrapped) for a name that is not a counted file
// of the current snapshot.
var ErrUnknownAsset = errors.New("stampfs: unknown asset")

// Mode says how the stamped path exists for servers other than the Handler.
// The Handler itself serves the same URLs in every mode.
type Mode string

// The modes New knows. The zero Mode means ModeAuto.
const (
	// ModeAuto probes once whether symbolic links work in the directory and
	// uses ModeSymlink if they do, ModeVirtual otherwise.
	ModeAuto Mode = "auto"
	// ModeSymlink makes <dir>/<stamp> a symbolic link into the stamp's
	// version on New and on every Refresh, so that a front web server
	// (nginx, Apache, a shared host) can serve the stamped paths straight
	// from disk.
	ModeSymlink Mode = "symlink"
	// ModeVirtual makes no link: the stamped paths exist only in the Handler
	// (and in front servers configured by stampfs nginx or apache, which
	// read the store). Versions are published and pruned all the same.
	ModeVirtual Mode = "virtual"
)

// StalePolicy says what the Handler answers for a counted file requested under
// a stamp that is neither the current one nor a retained version's (nor,
// without a store, one this Handler served the same bytes under before).
type StalePolicy string

// The stale policies. The zero StalePolicy means StaleServe. None of them ever
// sends an immutable Cache-Control or a 301.
const (
	// StaleServe answers 200 with the current bytes and Cache-Control: no-cache.
	StaleServe StalePolicy = "serve"
	// StaleNotFound answers 404 with Cache-Control: no-store.
	StaleNotFound StalePolicy = "notfound"
	// StaleRedirect answers 302 to the file's current URL with Cache-Control: no-store.
	StaleRedirect StalePolicy = "redirect"
)

// Default limits of the in-memory copy of small files (see Options).
const (
	// DefaultMemoryLimit is the default Options.MemoryLimit: 32 MiB held
	// in memory in all.
	DefaultMemoryLimit = 32 << 20
	// DefaultMemoryFileLimit is the default Options.MemoryFileLimit: the
	// largest file held in memory, 64 KiB.
	DefaultMemoryFileLimit = 64 << 10
)

// Options configures a Handler. A nil *Options means the zero value, and every
// zero field means its default.
type Options struct {
	// Prefix is the URL path the Handler is mounted at; it must start and
	// end with "/". Default "/static/".
	Prefix string
	// Base is an optional origin that URL puts before the path, such as
	// "https://cdn.example.com". It must start with "http://", "https://"
	// or "//"; a trailing "/" is dropped.
	Base string
	// Mode is ModeAuto, ModeSymlink or ModeVirtual. Default ModeAuto.
	// NewFS supports only ModeAuto and ModeVirtual.
	Mode Mode
	// Stale is the policy for counted files requested under an unknown or
	// stale stamp. Default StaleServe.
	Stale StalePolicy
	// Scan configures the scanner. The Handler always records every file's
	// SHA-256 (ScanOptions.Hash), whatever the strategy. A nil Scan.Logger
	// means Logger. Scan.Progress is told of every scan and publish the
	// Handler makes, at New and at each Refresh, each ending in a call with
	// Done set.
	Scan ScanOptions
	// Keep and Grace tune the pruning of old versions and their links, as
	// Linker.Keep and Linker.Grace do: the Keep most recently activated
	// others and any activated within Grace survive. Zero means DefaultKeep
	// and DefaultGrace (2 and one hour); a negative value means none (keep
	// no old version by count; no grace period).
	Keep  int
	Grace time.Duration
	// MemoryLimit bounds the bytes of small files the Handler holds in
	// memory per snapshot; MemoryFileLimit is the largest file it holds.
	// Zero means DefaultMemoryLimit and DefaultMemoryFileLimit; a negative
	// value in either means no file is held. Held files are read and their
	// SHA-256 checked when the snapshot is built; other files are opened
	// per request. During Refresh the old and the new copies coexist.
	MemoryLimit     int64
	MemoryFileLimit int64
	// Store is the directory of the version store on the Handler's file
	// system, as Linker.Store; empty means DefaultStore inside the
	// directory. New publishes every snapshot there and serves each stamp
	// from its version. Where the store cannot be written (a read-only
	// directory or file system) the Handler serves the live tree instead,
	// as NewFS always does (see ServeHTTP).
	Store string
	// Current, when set, takes the current stamp and table from a published
	// manifest (the current.json that stampfs publish writes, or any
	// version-1 Manifest) instead of scanning and publishing the
	// directory: New and every Refresh call it, so that an app server
	// renders the stamp a bucket holds. URL and FuncMap name its files
	// (with Base, under the CDN's origin) and Integrity gives its values.
	// ServeHTTP serves the stamp from the store's version when the store
	// holds it, and answers 404 for its files otherwise (the CDN serves
	// them). Only New takes it.
	Current func() (*Manifest, error)
	// Logger receives the stamp, the mode and every link made or removed.
	// Nil is silent.
	Logger *slog.Logger
}

// Handler serves the counted files of a directory under
// <Prefix><stamp>/<name> with a one-year immutable cache, following the
// policy that ServeHTTP spells out. A Handler must be made by New or NewFS:
// a zero Handler has no snapshot, and its methods panic. It is safe for
// concurrent use, including Refresh during requests.
//
// It reads r.URL.Path, which must start with Prefix: mount it at the prefix
// (mux.Handle("/static/", h)) without http.StripPrefix. It never changes the
// request.
type Handler struct {
	prefix              string
	base                string
	mode                Mode
	stale               StalePolicy
	scan                ScanOptions
	fileLimit, memLimit int64
	keep                int
	grace               time.Duration
	logger              *slog.Logger

	fsys afero.Fs // New
	dir  string
	osfs bool
	iofs fs.FS // NewFS

	current func() (*Manifest, error)
	linker  *Linker // New
	links   bool    // symlink mode: make stamp links
	noStore bool    // the store cannot be written: serve the live tree
	store   string

	mu       sync.Mutex // serializes Refresh
	cur      atomic.Pointer[state]
	misroute sync.Once    // warns once of a request outside the prefix
	versions versionCache // tables of other stamps' versions, for requests under them
}

// New scans dir on fsys, publishes its files as the version of their stamp
// in the version store (see Linker.Publish and Options.Store), and returns a
// Handler that serves them from that version. On the OS file system (fsys is
// *afero.OsFs) files are opened through os.Root, so nothing outside the
// version is ever read. In symlink mode (or auto mode where a probe link
// works) it makes the stamp link <dir>/<stamp> into the version. In every
// mode each Refresh prunes old versions (and their links), as Linker.Prune
// does with Options.Keep and Options.Grace.
//
// New returns the scanner's errors, ErrSymlinkUnsupported (wrapped) when
// opts.Mode is ModeSymlink and links cannot be made, an error wrapping
// fs.ErrInvalid for a bad option, and an error for a file that changed while
// it was read.
func New(fsys afero.Fs, dir string, opts *Options) (*Handler, error) {
	h, err := newHandler(opts)
	if err != nil {
		return nil, err
	}
	if fsys == nil {
		return nil, fmt.Errorf("stampfs: New: nil file system: %w", fs.ErrInvalid)
	}
	h.fsys, h.dir = fsys, dir
	_, h.osfs = fsys.(*afero.OsFs)
	if err := h.chooseMode(); err != nil {
		return nil, err
	}
	if err := h.Refresh(); err != nil {
		return nil, err
	}
	return h, nil
}

// NewFS scans fsys (rooted at ".") and returns a Handler for it. It always
// runs in virtual mode: opts.Mode must be empty, ModeAuto or ModeVirtual.
// It has no version store, so it serves fsys's current bytes, immutable
// only under the current stamp (and earlier stamps whose bytes it served
// unchanged).
//
// An embed.FS holds its directory under its own name: for
// //go:embed static, pass fs.Sub(embedded, "static") so that names are
// "css/site.css", not "static/css/site.css". It has no modification times
// and no .git directory, so use the Content (default) or Fixed strategy:
// Mtime fails and Git finds no repository.
func NewFS(fsys fs.FS, opts *Options) (*Handler, error) {
	h, err := newHandler(opts)
	if err != nil {
		return nil, err
	}
	if h.mode == ModeSymlink {
		return nil, fmt.Errorf("stampfs: NewFS cannot make links: %w", ErrSymlinkUnsupported)
	}
	h.mode = ModeVirtual
	h.iofs = fsys
	if err := h.Refresh(); err != nil {
		return nil, err
	}
	return h, nil
}

func newHandler(opts *Options) (*Handler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	h := &Handler{
		prefix:    o.Prefix,
		base:      strings.TrimSuffix(o.Base, "/"),
		mode:      o.Mode,
		stale:     o.Stale,
		scan:      o.Scan,
		fileLimit: o.MemoryFileLimit,
		memLimit:  o.MemoryLimit,
		logger:    o.Logger,
		keep:      o.Keep,
		grace:     o.Grace,
		store:     o.Store,
		current:   o.Current,
	}
	var err error
	if h.prefix, h.base, err = checkPrefixBase(o.Prefix, o.Base); err != nil {
		return nil, err
	}
	switch h.mode {
	case "":
		h.mode = ModeAuto
	case ModeAuto, ModeSymlink, ModeVirtual:
	default:
		return nil, fmt.Errorf("stampfs: unknown Mode %q (want auto, symlink or virtual): %w", o.Mode, fs.ErrInvalid)
	}
	switch h.stale {
	case "":
		h.stale = StaleServe
	case StaleServe, StaleNotFound, StaleRedirect:
	default:
		return nil, fmt.Errorf("stampfs: unknown Stale policy %q (want serve, notfound or redirect): %w", o.Stale, fs.ErrInvalid)
	}
	if h.fileLimit == 0 {
		h.fileLimit = DefaultMemoryFileLimit
	}
	if h.memLimit == 0 {
		h.memLimit = DefaultMemoryLimit
	}
	if h.memLimit < 0 {
		h.memLimit = 0
	}
	h.scan.Hash = true
	if h.scan.Logger == nil {
		h.scan.Logger = h.logger
	}
	return h, nil
}

// chooseMode prepares the version store and resolves ModeAuto by probing
// once whether links work.
func (h *Handler) chooseMode() error {
	l := NewLinker(h.fsys, h.dir)
	l.Keep, l.Grace = h.keep, h.grace // the same zero and negative values
	l.Logger = h.logger
	l.Store = h.store
	h.linker = l
	if h.mode == ModeVirtual {
		return nil
	}
	if err := l.Probe(); err != nil {
		if h.mode == ModeSymlink {
			return err
		}
		h.log(slog.LevelInfo, "stampfs: symlinks unavailable, using virtual mode", "dir", h.dir, "reason", err.Error())
		h.mode = ModeVirtual
		return nil
	}
	h.mode = ModeSymlink
	h.links = true
	return nil
}

// Stamp returns the current stamp.
func (h *Handler) Stamp() string { return h.cur.Load().stamp }

// Mode returns the mode in use: ModeSymlink or ModeVirtual, never ModeAuto.
func (h *Handler) Mode() Mode { return h.mode }

// URL returns the URL of the counted file name (slash-separated, relative to
// the directory; one leading "/" is allowed) under the current stamp:
// Base + Prefix + stamp + "/" + name, with name escaped as a URL path. It
// returns an error wrapping ErrUnknownAsset and fs.ErrNotExist for a name that
// is not served, and an error for a name whose stamped path is itself a
// counted file (a directory named like the stamp, as fixed stamps allow).
// URL does not allocate.
func (h *Handler) URL(name string) (string, error) {
	e := h.cur.Load().lookup(name)
	if e == nil {
		return "", unknownAsset("url", name)
	}
	if e.shadowed {
		return "", &fs.PathError{Op: "url", Path: name, Err: errShadowed}
	}
	return e.url, nil
}

// Integrity returns the Subresource Integrity value of the counted file name,
// "sha384-" followed by the base64 SHA-384 of its bytes, for the integrity
// attribute of <script> and <link>. It returns an error wrapping
// ErrUnknownAsset for a name that is not served, and a read error (or one
// saying the file changed since the scan) for a file not held in memory. The
// value, or the error, is computed once per file and snapshot: a failure
// stays until the next Refresh.
func (h *Handler) Integrity(name string) (string, error) {
	st := h.cur.Load()
	e := st.lookup(name)
	if e == nil {
		return "", unknownAsset("integrity", name)
	}
	e.sriOnce.Do(func() { e.sri, e.sriErr = st.integrity(e) })
	return e.sri, e.sriErr
}

// FuncMap returns template functions for html/template (convert it to
// text/template.FuncMap for text/template):
//
//	static NAME     the URL of NAME, as URL
//	integrity NAME  the SRI value of NAME, as Integrity
//
// A name that is not served makes template execution fail with an error
// naming it.
func (h *Handler) FuncMap() template.FuncMap {
	return template.FuncMap{"static": h.URL, "integrity": h.Integrity}
}

// Refresh rescans the directory and swaps the new snapshot in atomically:
// every request sees either the old snapshot or the new one, never a mix.
// With a store it publishes the snapshot's version first, and prunes old
// versions after the swap; in symlink mode it makes the new stamp link
// before the swap. On error the old snapshot stays in use. Concurrent calls
// run one at a time.
func (h *Handler) Refresh() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.cur.Load()
	st, err := h.build(old)
	if err != nil {
		return err
	}
	own := st.version != nil && h.current == nil // a version this Handler published
	if own && h.links {
		if err := h.linker.Activate(st.stamp); err != nil {
			return err
		}
	}
	h.cur.Store(st)
	if old == nil || old.stamp != st.stamp {
		h.log(slog.LevelInfo, "stampfs: serving", "stamp", st.stamp, "mode", string(h.mode), "store", st.version != nil, "files", len(st.files), "memory", st.held)
	}
	if own {
		// The linker logs every version and link it keeps or removes.
		if _, err := h.linker.Prune(st.stamp); err != nil {
			h.log(slog.LevelWarn, "stampfs: pruning old versions", "err", err.Error())
		}
		h.versions.refresh(old, h.versionExists)
	}
	return nil
}

// ServeHTTP answers a request for r.URL.Path = Prefix + rest. Only files of
// the snapshot's table are served: rest is a key into it, never a path handed
// to the file system.
//
//   - rest = <current stamp>/<name>, name a counted file: 200 (206, 304, 416
//     for Range and conditional requests), Cache-Control "public,
//     max-age=31536000, immutable".
//   - rest = <stamp>/<name>, stamp a version the store holds (published by
//     this Handler, an earlier process or another one sharing the
//     directory) with name among its files: that version's own bytes (or
//     its sibling's the client accepts), immutable. Without a store (NewFS,
//     a directory that cannot be written): stamp one that this Handler
//     served before (its last four) and the bytes it would send unchanged
//     since.
//   - rest = <other stamp>/<name>: the StalePolicy. StaleServe: 200 with the
//     current bytes and "no-cache"; StaleNotFound: the 404 below;
//     StaleRedirect: 302 to name's current path, "no-store", no body (or,
//     when that path names another counted file, StaleServe's answer).
//   - rest = <name>: 200 with "no-cache". The first segment of rest is read
//     as a stamp only when rest itself is not a counted file.
//   - anything else (not counted, a path with a segment starting with ".",
//     a directory, an encoded "/", a "\" however spelled, traversal): 404
//     with "Cache-Control: no-store", "Content-Type: text/plain; charset=utf-8"
//     and the body "404 page not found\n".
//   - a method other than GET and HEAD: 405 with "Allow: GET, HEAD".
//
// A 200 carries Content-Type (explicit for .js, .mjs, .css, .svg, .wasm,
// .json and .map, then by extension, else application/octet-stream),
// Content-Length, Accept-Ranges: bytes, X-Content-Type-Options: nosniff and a
// strong ETag: the file's SHA-256 in lowercase hex, in quotes. There is no
// Last-Modified: the ETag decides If-None-Match (304) and If-Range. An
// If-Match list that does not hold "*" or the ETag (compared strongly) gets
// 412 with "Cache-Control: no-store", "Content-Length: 0" and no body; a
// list is read up to its first malformed element, as http.ServeContent
// reads it, so a malformed If-Match fails and a malformed If-None-Match
// matches nothing. A file of an fs.FS that can neither seek nor ReadAt is
// sent whole, without Accept-Ranges.
//
// A counted file NAME.br or NAME.gz beside a counted NAME is a precompressed
// sibling: it is sent for NAME, with Content-Encoding br or gzip and its own
// ETag, when Accept-Encoding allows it (the highest q-value wins, q=0 refuses,
// br before gzip before identity at equal q), and it is not served under its
// own name (nor given by URL). Every response for a NAME with siblings has
// Vary: Accept-Encoding. A .gz or .br file without such a NAME is an ordinary
// file.
//
// A counted file whose name holds a backslash is not served (nor given by
// URL): some systems and proxies read "\" as a separator.
//
// Files up to MemoryFileLimit are answered from memory; larger ones are
// opened per request (through os.Root on the OS file system) and answered 404
// if they are no longer the regular file of the scanned size.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.dispatch(w, r)
}

func (h *Handler) log(level slog.Level, msg string, args ...any) {
	if h.logger != nil {
		h.logger.Log(context.Background(), level, msg, args...)
	}
}

func unknownAsset(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: errUnknownAsset}
}

// errUnknownAsset matches both ErrUnknownAsset and fs.ErrNotExist.
var errUnknownAsset = fmt.Errorf("%w (%w)", ErrUnknownAsset, fs.ErrNotExist)

// errShadowed says that a file's stamped path names another counted file.
var errShadowed = errors.New("stampfs: the stamped path names another counted file (a directory is named like the stamp)")
