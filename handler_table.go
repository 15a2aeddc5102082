package stampfs

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/vfs"
)

// errChanged says that a file's bytes differ from those the scan hashed.
var errChanged = errors.New("stampfs: file changed since the scan; Refresh to pick it up")

// maxPastSnapshots is how many earlier stamps a Handler remembers.
const maxPastSnapshots = 4

// Content-Encoding values of precompressed siblings, shared like the header
// values of the request path (handler_serve.go).
var (
	encBr   = []string{"br"}[:1:1]
	encGzip = []string{"gzip"}[:1:1]
)

// entry is one served representation: a counted file, or a precompressed
// sibling of one.
type entry struct {
	name     string // table key
	sha      [32]byte
	size     int64
	data     []byte // the bytes, when held in memory
	ctype    []string
	etag     []string
	clen     []string
	enc      []string // Content-Encoding of a sibling; nil for a file itself
	br       *entry   // precompressed siblings
	gz       *entry
	location []string      // Prefix + stamp + "/" + escaped name
	shadowed bool          // <stamp>/<name> is itself a counted file
	url      string        // Base + location[0]
	stat     liveStat      // what the scan recorded; zero fields are not compared
	learn    bool          // a stored file: its inode is learnt at the first open, in ino
	ino      atomic.Uint64 // when learn

	sriOnce sync.Once
	sri     string
	sriErr  error
}

func (e *entry) vary() bool { return e.br != nil || e.gz != nil }

// matches reports whether fi, from the file opened to serve e, is still
// the file the scan (or the version's index) recorded: a regular file of
// e's size with the recorded device, inode and change time, as far as the
// file system and the record tell them.
func (e *entry) matches(fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() || fi.Size() != e.size {
		return false
	}
	got := statOfInfo(fi)
	if got == (liveStat{}) {
		return true // a file system that tells no identity
	}
	if e.learn {
		if e.ino.CompareAndSwap(0, got.ino) {
			return true
		}
		return e.ino.Load() == got.ino
	}
	return (e.stat.ino == 0 || got.ino == e.stat.ino) &&
		(e.stat.dev == 0 || got.dev == e.stat.dev) &&
		(e.stat.ctime == 0 || got.ctime == e.stat.ctime)
}

// pick returns the representation of e that r's Accept-Encoding prefers.
func (e *entry) pick(r *http.Request) *entry {
	if !e.vary() {
		return e
	}
	return negotiate(r.Header["Accept-Encoding"], e)
}

// route is what a path after the prefix resolves to in one lookup.
type route struct {
	e       *entry
	stamped bool // under the current stamp
}

// pastStamp remembers which bytes an earlier snapshot served under its stamp.
type pastStamp struct {
	stamp string
	sha   map[string][32]byte
}

// state is one immutable snapshot as the Handler serves it.
type state struct {
	stamp  string
	files  map[string]*entry // served names
	routes map[string]route  // name and stamp/name
	past   []pastStamp       // newest first
	held   int64             // bytes held in memory
	open   func(name string) (io.ReadCloser, fs.FileInfo, error)
	root   *os.Root // the directory, on the OS file system
	// version is the store's version the files are served from; nil when
	// they come from the live tree (NewFS, or a store that cannot be
	// written).
	version *Version
}

func (st *state) lookup(name string) *entry {
	if e := st.files[name]; e != nil {
		return e
	}
	if strings.HasPrefix(name, "/") {
		return st.files[name[1:]]
	}
	return nil
}

// servedBefore reports whether stamp is a past stamp of this Handler under
// which rep (a file or a sibling) had the same bytes.
func (st *state) servedBefore(stamp string, rep *entry) bool {
	for _, p := range st.past {
		if p.stamp == stamp {
			old, ok := p.sha[rep.name]
			return ok && old == rep.sha
		}
	}
	return false
}

// build scans (publishing the version when there is a store) and returns a
// new state whose history extends old's.
func (h *Handler) build(old *state) (*state, error) {
	snap, v, remote, err := h.source()
	if err != nil {
		return nil, err
	}
	st, err := h.table(snap, v, remote, old)
	if err != nil {
		return nil, err
	}
	if old != nil {
		st.past = old.past
		if old.stamp != st.stamp {
			sums := make(map[string][32]byte, len(old.files))
			for name, e := range old.files {
				sums[name] = e.sha
				if e.br != nil {
					sums[e.br.name] = e.br.sha
				}
				if e.gz != nil {
					sums[e.gz.name] = e.gz.sha
				}
			}
			st.past = append([]pastStamp{{stamp: old.stamp, sha: sums}}, old.past...)
		}
		kept := st.past[:0:0]
		for _, p := range st.past {
			if p.stamp != st.stamp && len(kept) < maxPastSnapshots {
				kept = append(kept, p)
			}
		}
		st.past = kept
	}
	return st, nil
}

// source returns the snapshot to serve: the version Publish makes of the
// directory, a scan of the live tree where there is no store to write, or
// what Options.Current names (remote, when its bytes are not here).
func (h *Handler) source() (snap *Snapshot, v *Version, remote *Manifest, err error) {
	if h.iofs != nil {
		snap, err := Scan(afero.FromIOFS{FS: h.iofs}, ".", &h.scan)
		return snap, nil, nil, err
	}
	if h.current != nil {
		return h.fromManifest()
	}
	if !h.noStore {
		v, err := h.linker.Publish(&h.scan)
		switch {
		case err == nil:
			return &Snapshot{stamp: v.Stamp, strategy: v.Strategy, files: v.Files}, v, nil, nil
		case (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) && h.linker.inStore(err):
			// The store cannot be written (a live file that cannot be read
			// is an error like any other, and the next Refresh tries again).
			h.noStore = true
			h.log(slog.LevelWarn, "stampfs: the version store cannot be written; serving the live tree, immutable only under the current stamp", "store", h.linker.storeDir(), "err", err.Error())
		default:
			return nil, nil, nil, err
		}
	}
	snap, err = scan(h.fsys, h.dir, &h.scan, true)
	return snap, nil, nil, err
}

// fromManifest returns the snapshot Options.Current names: the store's
// version of its stamp when the store holds one with the same files, and
// otherwise the manifest's table alone, whose bytes are not here.
func (h *Handler) fromManifest() (*Snapshot, *Version, *Manifest, error) {
	m, err := h.current()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("stampfs: Options.Current: %w", err)
	}
	if m == nil || m.Version != ManifestVersion || !vfs.ValidSegment(m.Stamp) {
		return nil, nil, nil, fmt.Errorf("stampfs: Options.Current: not a version-1 manifest with a valid stamp: %w", fs.ErrInvalid)
	}
	files := make([]File, 0, len(m.Files))
	for name, mf := range m.Files {
		f := File{Name: name, Size: mf.Size}
		if n, err := hex.Decode(f.SHA256[:], []byte(mf.SHA256)); err != nil || n != sha256.Size {
			return nil, nil, nil, fmt.Errorf("stampfs: Options.Current: %s: bad sha256: %w", name, fs.ErrInvalid)
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	if v, err := h.linker.Version(m.Stamp); err == nil {
		for _, f := range files {
			if i := v.lookup(f.Name); i < 0 || v.Files[i].SHA256 != f.SHA256 {
				return nil, nil, nil, &fs.PathError{Op: "current", Path: v.dir, Err: fmt.Errorf("%w: the store's version differs from the manifest at %s", ErrStampTaken, f.Name)}
			}
		}
		return &Snapshot{stamp: v.Stamp, strategy: v.Strategy, files: v.Files}, v, nil, nil
	}
	return &Snapshot{stamp: m.Stamp, strategy: m.Strategy, files: files}, nil, m, nil
}

// table builds the serving table of snap, whose bytes are v's when v is not
// nil, nowhere here when remote is not nil, and the live tree's otherwise. It
// holds small files in memory.
func (h *Handler) table(snap *Snapshot, v *Version, remote *Manifest, old *state) (*state, error) {
	st := &state{stamp: snap.Stamp(), version: v}
	switch {
	case remote != nil:
		// The bytes are not here: the CDN serves them.
		st.open = func(name string) (io.ReadCloser, fs.FileInfo, error) {
			return nil, nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
	case h.iofs != nil:
		fsys := h.iofs
		st.open = func(name string) (io.ReadCloser, fs.FileInfo, error) { return openFS(fsys, name) }
	case h.osfs:
		var root *os.Root
		var err error
		switch {
		case v != nil && old != nil && old.version != nil && old.version.dir == v.dir && old.root != nil:
			root = old.root // the same version: its directory never changes
		case v != nil:
			root, err = os.OpenRoot(v.dir)
		default:
			root, err = h.reuseRoot(old)
		}
		if err != nil {
			return nil, err
		}
		st.root = root
		st.open = func(name string) (io.ReadCloser, fs.FileInfo, error) { return openInRoot(root, name) }
	default:
		fsys, dir := h.fsys, h.dir
		if v != nil {
			dir = v.dir
		}
		st.open = func(name string) (io.ReadCloser, fs.FileInfo, error) { return openAfero(fsys, dir, name) }
	}
	files := snap.files // every SHA256 set: newHandler sets ScanOptions.Hash
	all := make(map[string]*entry, len(files))
	order := make([]*entry, 0, len(files)) // by name
	for i := range files {
		f := &files[i]
		if strings.Contains(f.Name, `\`) {
			// A separator on some systems and proxies, and so refused in
			// every request path.
			h.log(slog.LevelWarn, "stampfs: not serving a file whose name holds a backslash", "file", f.Name)
			continue
		}
		e := &entry{name: f.Name, sha: f.SHA256, size: f.Size}
		switch {
		case v != nil:
			// A stored file's identity is learnt at its first open (its
			// inode changes when a store is copied or restored, and links
			// to it come and go and change its ctime); its size and type are
			// checked at every open, its bytes when it is held in memory.
			e.learn = true
		case snap.stats != nil:
			e.stat = snap.stats[i]
		}
		e.ctype = []string{contentType(f.Name)}[:1:1]
		all[f.Name] = e
		order = append(order, e)
	}
	// Precompressed siblings are representations of their base file, served
	// only through it; servedFiles decides which, as for the manifest.
	_, encodings := servedFiles(files)
	siblings := make(map[string]bool)
	for name, encs := range encodings {
		base := all[name]
		for _, enc := range encs {
			if enc == "br" {
				base.br = all[name+".br"]
				base.br.enc, base.br.ctype = encBr, base.ctype
				siblings[base.br.name] = true
			} else {
				base.gz = all[name+".gz"]
				base.gz.enc, base.gz.ctype = encGzip, base.ctype
				siblings[base.gz.name] = true
			}
		}
	}
	for name, e := range all {
		for _, ext := range [...]string{".br", ".gz"} {
			if base, ok := all[strings.TrimSuffix(name, ext)]; ok && base != e && base.sha == e.sha {
				h.log(slog.LevelWarn, "stampfs: ignoring precompressed file identical to its base", "file", name)
			}
		}
	}
	budget := h.memLimit
	if remote != nil {
		budget = -1
		for _, e := range order {
			sri := remote.Files[e.name].Integrity
			e.sriOnce.Do(func() { e.sri = sri })
		}
	}
	for _, e := range order {
		if e.size <= h.fileLimit && e.size <= budget {
			if err := st.hold(e); err != nil {
				return nil, err
			}
			budget -= e.size
		}
		e.etag = []string{`"` + hex.EncodeToString(e.sha[:]) + `"`}[:1:1]
		e.clen = []string{strconv.FormatInt(e.size, 10)}[:1:1]
	}
	st.files = make(map[string]*entry, len(all)-len(siblings))
	for name, e := range all {
		if !siblings[name] {
			st.files[name] = e
			path := h.prefix + st.stamp + "/" + (&url.URL{Path: name}).EscapedPath()
			e.url = h.base + path
			e.location = []string{path}[:1:1]
		}
	}
	st.routes = make(map[string]route, 2*len(st.files))
	for name, e := range st.files {
		st.routes[name] = route{e: e}
	}
	for name, e := range st.files {
		key := st.stamp + "/" + name
		if _, taken := st.routes[key]; taken {
			h.log(slog.LevelWarn, "stampfs: a counted file shadows a stamped path; URL refuses it", "file", name, "shadowed by", key)
			e.shadowed = true
			continue
		}
		st.routes[key] = route{e: e, stamped: true}
	}
	return st, nil
}

// hold reads e into memory and checks its SHA-256 against the scan's.
func (st *state) hold(e *entry) error {
	rc, _, err := st.open(e.name)
	if err != nil {
		return err
	}
	defer rc.Close()
	data := make([]byte, e.size, e.size+1)
	if _, err := io.ReadFull(rc, data); err != nil {
		return &fs.PathError{Op: "read", Path: e.name, Err: errChanged}
	}
	if n, _ := rc.Read(data[e.size : e.size+1]); n != 0 {
		return &fs.PathError{Op: "read", Path: e.name, Err: errChanged}
	}
	if sha256.Sum256(data) != e.sha {
		return &fs.PathError{Op: "read", Path: e.name, Err: errChanged}
	}
	e.data = data[:e.size:e.size]
	st.held += e.size
	return nil
}

// integrity computes the SRI value of e, checking a streamed file's bytes
// against the scan.
func (st *state) integrity(e *entry) (string, error) {
	if e.data != nil {
		return sri384(sha512.Sum384(e.data)).String(), nil
	}
	rc, _, err := st.open(e.name)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	sha, sri, _, err := sums(rc, nil)
	if err != nil {
		return "", err
	}
	if sha != e.sha {
		return "", &fs.PathError{Op: "integrity", Path: e.name, Err: errChanged}
	}
	return sri.String(), nil
}
