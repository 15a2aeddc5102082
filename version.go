package stampfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/vfs"
)

// ErrStampTaken is returned (wrapped) by Publish for a stamp that a version
// in the store already has with other bytes: a stamp's bytes never change.
var ErrStampTaken = errors.New("stampfs: stamp already published with other bytes")

// DefaultStore is the name of the version store inside the directory when
// Linker.Store is empty. Its leading dot keeps it out of every stamp and
// every served path.
const DefaultStore = ".stampfs"

// Names inside the store and inside each version. All start with a dot, so
// no stamp and no counted file can take them.
const (
	indexName  = ".stampfs-index" // a version's header and table, as changes to its base; the hash cache
	baseName   = ".stampfs-base"  // a table of files, shared by hard links between versions
	lockName   = ".lock"          // serializes the short steps that must not interleave
	stagingPre = ".tmp-"          // a version being built, or being removed
)

// stagingMinAge is the least age at which Prune removes a staging directory
// left behind by a crashed Publish, whatever Grace says: copying a large
// tree can take minutes, and removing a live one would fail that Publish.
const stagingMinAge = time.Hour

// racyWindow is how close to the previous publish's scan a file's mtime may
// be before the hash cache no longer trusts it (git's "racily clean" rule):
// a file written in the same timestamp tick as that scan may have changed
// again without its mtime moving. Two seconds covers the coarsest file
// systems (FAT); nanosecond file systems lose nothing but a re-read.
const racyWindow = 2 * time.Second

// Version is one stamp's immutable copy of its bytes in the store: every
// counted file of the directory at the moment the stamp was made. Versions
// come from Linker.Publish and Linker.Versions; a Version value is a
// read-only description and safe for concurrent use.
type Version struct {
	Stamp     string    // the version's stamp, its directory's name in the store
	Strategy  Strategy  // the strategy that made the stamp
	Created   time.Time // when it was published
	Activated time.Time // when it was last published or activated; retention counts from here
	Files     []File    // every counted file, sorted bytewise by Name; ModTime is the live file's at publish

	fsys    afero.Fs
	dir     string // the version's directory on fsys
	scanned time.Time
	rows    []indexRow    // Files[i]'s in rows[i]
	base    *indexBase    // the table the version's index records changes to
	changes *indexChanges // for a version read lazily, its changes to base, until decoded
}

// indexRow is what a version's index records of one file beyond File: the
// live file's identity when it was published (the hash cache) and the
// stored file's inode.
type indexRow struct {
	live   liveStat
	stored uint64 // inode of the stored file, 0 where the Fs has none
}

// Size returns the number of bytes of the version's files.
func (v *Version) Size() int64 {
	var n int64
	for _, f := range v.Files {
		n += f.Size
	}
	return n
}

// Dir returns the version's directory on the Linker's file system: the files
// are at Dir()/<name>.
func (v *Version) Dir() string { return v.dir }

// FS returns the version's files as an fs.FS rooted at its directory. Only
// the counted files of the version can be opened through it, and only
// while the version is retained.
func (v *Version) FS() fs.FS {
	return versionFS{fsys: vfs.AferoFS(afero.NewBasePathFs(v.fsys, v.dir)), v: v}
}

// Manifest returns the version's Manifest with the given URL prefix and
// origin. It reads the stored bytes of every served file for its integrity
// value (a SHA-384, which the store does not keep: it would cost 48 bytes
// per file and version), and checks them against the version's SHA-256: a
// stored file that no longer matches is an error wrapping the package's
// "changed" error, and a name JSON cannot hold one wrapping fs.ErrInvalid.
func (v *Version) Manifest(opts *ManifestOptions) (*Manifest, error) {
	return buildManifest(v.Stamp, v.Strategy, v.Files, opts, func(served []File) ([]string, error) {
		sris := make([]string, len(served))
		fsys := v.FS()
		err := parallel(len(served), max(2, runtime.GOMAXPROCS(0)), func() func(int) error {
			buf := make([]byte, 64<<10)
			return func(i int) (err error) {
				sris[i], err = fileIntegrity(fsys, served[i], buf)
				return err
			}
		})
		return sris, err
	})
}

// lookup returns the index of the file name in v.Files, or -1.
func (v *Version) lookup(name string) int { return indexOf(v.Files, name) }

// versionFS is Version.FS: the store's files, limited to the version's table.
type versionFS struct {
	fsys fs.FS
	v    *Version
}

func (f versionFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name != "." && f.v.lookup(name) < 0 && !f.isDir(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.fsys.Open(name)
}

// isDir reports whether name is a directory of the version's table.
func (f versionFS) isDir(name string) bool {
	prefix := name + "/"
	i, _ := slices.BinarySearchFunc(f.v.Files, prefix, func(f File, p string) int { return strings.Compare(f.Name, p) })
	return i < len(f.v.Files) && strings.HasPrefix(f.v.Files[i].Name, prefix)
}

// storeDir returns the store's directory on l.fsys.
func (l *Linker) storeDir() string {
	if l.Store != "" {
		return l.Store
	}
	return filepath.Join(l.dir, DefaultStore)
}

// makeStore creates the store if it is missing. The default store is made
// inside the directory, never the directory with it: a directory moved away
// since the scan is an error, not an empty one made anew.
func (l *Linker) makeStore() error {
	store := l.storeDir()
	var err error
	if l.Store == "" {
		err = l.fsys.Mkdir(store, 0o755)
		if errors.Is(err, fs.ErrExist) {
			err = nil
		}
	} else {
		err = l.fsys.MkdirAll(store, 0o755)
	}
	if err != nil {
		return ensurePathError("mkdir", store, err)
	}
	return nil
}

// checkStore refuses a Store that would mix versions with other files: the
// directory itself or one above it, or a directory inside it that is
// counted and served (its path there must start with a dot, as the default
// ".stampfs" does).
func (l *Linker) checkStore() error {
	if l.Store == "" {
		return nil
	}
	dir, store := filepath.Clean(l.dir), filepath.Clean(l.Store)
	if _, ok := l.fsys.(*afero.OsFs); ok {
		if d, err := filepath.Abs(dir); err == nil {
			dir = d
		}
		if s, err := filepath.Abs(store); err == nil {
			store = s
		}
	}
	bad := func(why string) error {
		return fmt.Errorf("stampfs: Store %s %s: %w", l.Store, why, fs.ErrInvalid)
	}
	if store == dir {
		return bad("is the directory itself")
	}
	if rel, err := filepath.Rel(store, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return bad("holds the directory " + l.dir)
	}
	if rel, err := filepath.Rel(dir, store); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !strings.HasPrefix(rel, ".") {
		return bad("is inside the directory without a dot name, so its files would be counted and served")
	}
	return nil
}

// Publish scans the directory and stores its counted files as the version
// of their stamp, unless the store already holds that version, and returns
// it. The stamp comes from opts as Scan computes it, with one difference:
// the Content stamp is computed over the bytes actually stored, so that it
// names exactly them. A version is built in a hidden staging directory of
// the store and renamed into place, so other processes see it complete or
// not at all; it is never written again.
//
// Publish reads only what changed: a live file whose size, modification time,
// device, inode and change time are those the newest version recorded, and
// which was not modified within two seconds of that version's scan, keeps
// its recorded SHA-256 and shares that version's stored file through a hard
// link. Other files are copied (through the kernel's copy path on the OS file
// system, so reflink file systems share extents) and hashed as stored; a
// copy whose bytes a retained version already holds is replaced by a link to
// it. Where hard links fail, files are copied. A live file that changes
// while it is copied is copied again, up to three times. The live tree is
// never linked, changed or removed.
//
// Publishing again a stamp the store holds with the same files only marks
// that version as the newest (for retention and as the hash cache). A stamp
// already held with other bytes (a Fixed or Git stamp, or an Mtime stamp
// whose files changed within its second) is an error wrapping
// ErrStampTaken, and the store is left as it was. A Version in opts with a
// strategy other than Fixed is an error wrapping ErrBadStamp.
//
// ScanOptions.Progress is told of the files stored, copied or linked, with
// their sizes; the totals are known once the scan is over.
//
// Errors: the scanner's errors; a *fs.PathError naming the store path and
// the cause (fs.ErrPermission, a full disk's syscall.ENOSPC, ...) when the
// store cannot be written, in which case nothing is half-visible; one
// wrapping ErrStampTaken as above.
func (l *Linker) Publish(opts *ScanOptions) (*Version, error) {
	var o ScanOptions
	if opts != nil {
		o = *opts
	}
	m := startMeter(o.Progress)
	defer m.finish() // on every error; once the files are placed, the call below
	if err := l.checkStore(); err != nil {
		return nil, err
	}
	if o.Version != "" && o.Strategy != Fixed {
		return nil, fmt.Errorf("%w: ScanOptions.Version %q is for the Fixed strategy: %w", ErrBadStamp, o.Version, fs.ErrInvalid)
	}
	strategy := o.Strategy
	if strategy == "" {
		strategy = Content
	}
	scanned := time.Now() // file times are the real clock's, whatever l.Now says
	stratOpts := o
	stratOpts.Hash = false
	stratOpts.Progress = nil // m reports; the scan reads no content
	if strategy == Content {
		// The content stamp is computed below, from the stored bytes.
		stratOpts.Strategy, stratOpts.Version = Fixed, "x"
	}
	// The newest version's index, the hash cache, is read while the scan
	// waits on the file system.
	cached := make(chan *Version, 1)
	go func() { cached <- l.hashCache() }()
	snap, err := scan(l.fsys, l.dir, &stratOpts, true)
	cache := <-cached
	if err != nil {
		return nil, err
	}
	m.total(snap.files)
	store := l.storeDir()
	if err := l.makeStore(); err != nil {
		return nil, err
	}

	if v, err := l.republish(cache, snap, strategy, m); v != nil || err != nil {
		return v, err
	}
	if cache != nil {
		if err := cache.decode(); err != nil {
			l.log("ignoring a version's index as hash cache", slog.String("dir", cache.dir), slog.String("err", err.Error()))
			cache = nil
		}
	}
	b := &builder{l: l, store: store, snap: snap, cache: cache, m: m}
	defer b.cleanup()
	if err := b.stage(); err != nil {
		return nil, err
	}
	m.finish() // before the log lines below

	stamp := snap.stamp
	if strategy == Content {
		stamp = contentStamp(b.files)
	}
	v := &Version{
		Stamp:    stamp,
		Strategy: strategy,
		Created:  l.now(),
		Files:    b.files,
		fsys:     l.fsys,
		dir:      filepath.Join(store, stamp),
		scanned:  scanned,
		rows:     b.rows,
	}
	if err := b.writeMeta(v); err != nil {
		return nil, err
	}

	// A version's own mtime is its activation time: set before it becomes
	// visible, so that a new version never shows without one.
	now := l.now()
	if err := l.fsys.Chtimes(b.staging, now, now); err != nil {
		return nil, ensurePathError("chtimes", b.staging, err)
	}
	unlock, err := l.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	existing, err := l.readVersion(stamp)
	switch {
	case err == nil:
		if !sameFiles(existing.Files, v.Files) {
			return nil, &fs.PathError{Op: "publish", Path: existing.dir, Err: ErrStampTaken}
		}
		// The staged copy is removed; the stored bytes stay as they are and
		// become the most recently activated. Where the live files' identity
		// changed (a tree copied or restored), the index takes the new one,
		// so that the hash cache vouches for them next time.
		if err := l.refreshIndex(existing, b.rows, scanned); err != nil {
			return nil, err
		}
		if err := l.fsys.Chtimes(existing.dir, now, now); err != nil {
			return nil, ensurePathError("chtimes", existing.dir, err)
		}
		v = existing
	case errors.Is(err, fs.ErrNotExist):
		if err := l.fsys.Rename(b.staging, v.dir); err != nil {
			return nil, ensurePathError("rename", b.staging, err)
		}
		b.staging = ""
		l.log("version published", slog.String("version", v.dir), slog.Int("files", len(v.Files)),
			slog.Int64("copied", b.copied.Load()), slog.Int64("linked", b.linked.Load()))
	default:
		// Something at the version's name that is no version (made by
		// hand, or tampered with): never replaced.
		return nil, fmt.Errorf("%w (stampfs never replaces what it cannot read as its own: move %s away to publish this stamp)", err, filepath.Join(store, stamp))
	}
	v.Activated = now
	return v, nil
}

// republish is Publish's way for a tree that has not changed since the
// newest version: when the hash cache vouches for every scanned file, under
// the same names, and the stamp is that version's, nothing is read, copied
// or staged; the version only becomes the most recently activated. It
// returns nil, nil when the tree has changed.
func (l *Linker) republish(cache *Version, snap *Snapshot, strategy Strategy, m *meter) (*Version, error) {
	if cache == nil || cache.Strategy != strategy {
		return nil, nil
	}
	if strategy != Content && snap.stamp != cache.Stamp {
		return nil, nil // another Fixed or Git stamp: a version of its own, whatever its bytes
	}
	// The scan is compared with the cache's table as that is decoded, so an
	// unchanged tree costs no table made and no name allocated.
	rows, ok := cache.vouchesForAll(snap.files, snap.stats)
	if !ok {
		return nil, nil
	}
	// Same names, and bytes the index vouches for: a content stamp would be
	// the version's own, computed from exactly that table.
	files := snap.files
	var bytes int64
	for i := range files {
		bytes += files[i].Size
	}
	cache.Files, cache.rows, cache.changes = files, rows, nil
	m.add(int64(len(files)), bytes)
	m.finish()
	unlock, err := l.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := l.fsys.Stat(filepath.Join(cache.dir, indexName)); err != nil {
		return nil, nil // pruned meanwhile by another process: publish anew
	}
	now := l.now()
	if err := l.fsys.Chtimes(cache.dir, now, now); err != nil {
		return nil, ensurePathError("chtimes", cache.dir, err)
	}
	l.log("version unchanged", slog.String("version", cache.dir), slog.Int("files", len(files)))
	cache.Activated = now
	return cache, nil
}

// refreshIndex rewrites v's index with the live identities of rows (the
// same files, as sameFiles found) when they differ from those recorded, by
// a rename over it: the version's bytes are not touched.
func (l *Linker) refreshIndex(v *Version, rows []indexRow, scanned time.Time) error {
	same := true
	for i := range v.rows {
		if v.rows[i].live != rows[i].live {
			same = false
			v.rows[i].live = rows[i].live
		}
	}
	if same {
		return nil
	}
	v.scanned = scanned // when those identities were seen
	var buf bytes.Buffer
	if _, err := writeIndex(&buf, v); err != nil {
		return err
	}
	index := filepath.Join(v.dir, indexName)
	tmp := index + ".tmp-" + randomHex()
	if err := afero.WriteFile(l.fsys, tmp, buf.Bytes(), 0o444); err != nil {
		l.fsys.Remove(tmp)
		return ensurePathError("write", tmp, err)
	}
	if err := l.fsys.Rename(tmp, index); err != nil {
		l.fsys.Remove(tmp)
		return ensurePathError("rename", tmp, err)
	}
	return nil
}
