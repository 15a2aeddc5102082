package stampfs

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	indexName    = ".stampfs-index" // a version's table and hash cache
	manifestName = ".manifest.json" // a version's Manifest, for readers other than stampfs
	lockName     = ".lock"          // serializes the short steps that must not interleave
	stagingPre   = ".tmp-"          // a version being built, or being removed
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
	Stamp     string
	Strategy  Strategy
	Created   time.Time // when it was published
	Activated time.Time // when it was last published or activated; retention counts from here
	Files     []File    // every counted file, sorted bytewise by Name; ModTime is the live file's at publish

	fsys    afero.Fs
	dir     string // the version's directory on fsys
	scanned time.Time
	rows    []indexRow // Files[i]'s in rows[i]
}

// indexRow is what a version's index records of one file beyond File: the
// live file's identity when it was published (the hash cache), the stored
// file's inode, and the file's integrity value.
type indexRow struct {
	live   liveStat
	stored uint64 // inode of the stored file, 0 where the Fs has none
	sri    string // "sha384-…"
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
// origin. It reads nothing: the integrity values were computed at publish.
func (v *Version) Manifest(opts *ManifestOptions) (*Manifest, error) {
	return buildManifest(v.Stamp, v.Strategy, v.Files, opts, func(i int, _ File) (string, error) {
		return v.rows[i].sri, nil
	})
}

// lookup returns the index of the file name in v.Files, or -1.
func (v *Version) lookup(name string) int {
	i, ok := slices.BinarySearchFunc(v.Files, name, func(f File, name string) int { return strings.Compare(f.Name, name) })
	if !ok {
		return -1
	}
	return i
}

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
// that version as the newest (for retention and as the hash cache). A Fixed
// or Git stamp already held with other bytes is an error wrapping
// ErrStampTaken, and the store is left as it was.
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
	snap, err := scan(l.fsys, l.dir, &stratOpts, true)
	if err != nil {
		return nil, err
	}
	m.total(snap.files)
	store := l.storeDir()
	if err := l.fsys.MkdirAll(store, 0o755); err != nil {
		return nil, ensurePathError("mkdir", store, err)
	}

	cache := l.hashCache()
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
		// The staged copy is removed; the stored one stays as it is and
		// becomes the most recently activated.
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
		return nil, err
	}
	v.Activated = now
	return v, nil
}

// builder stages one version: the files of snap, placed under staging.
type builder struct {
	l       *Linker
	store   string
	snap    *Snapshot
	cache   *Version // the newest version, whose index is the hash cache; nil for none
	staging string   // "" once renamed into place or removed

	files []File // snap's table with the stored bytes' SHA-256
	rows  []indexRow
	m     *meter // counts the files placed

	copied, linked atomic.Int64
}

// stage places every file of the snapshot in a new staging directory.
func (b *builder) stage() error {
	b.staging = filepath.Join(b.store, stagingPre+randomHex())
	if err := b.l.fsys.Mkdir(b.staging, 0o755); err != nil {
		b.staging = ""
		return ensurePathError("mkdir", filepath.Join(b.store, stagingPre+"…"), err)
	}
	b.files = slices.Clone(b.snap.files)
	b.rows = make([]indexRow, len(b.files))
	made := map[string]bool{}
	for _, f := range b.files {
		for d := pathDir(f.Name); d != "" && !made[d]; d = pathDir(d) {
			made[d] = true
		}
	}
	dirs := make([]string, 0, len(made))
	for d := range made {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs) // parents first
	for _, d := range dirs {
		p := filepath.Join(b.staging, filepath.FromSlash(d))
		if err := b.l.fsys.Mkdir(p, 0o755); err != nil {
			return ensurePathError("mkdir", p, err)
		}
	}

	var cached map[string]int
	if b.cache != nil {
		cached = make(map[string]int, len(b.cache.Files))
		for i, f := range b.cache.Files {
			cached[f.Name] = i
		}
	}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		errAt = len(b.files)
		first error
		wg    sync.WaitGroup
	)
	work := func() {
		buf := make([]byte, 64<<10)
		for {
			i := int(next.Add(1) - 1)
			if i >= len(b.files) {
				return
			}
			if err := b.place(i, cached, buf); err != nil {
				mu.Lock()
				if i < errAt {
					errAt, first = i, err
				}
				mu.Unlock()
				next.Store(int64(len(b.files))) // stop the others
				return
			}
		}
	}
	for range max(4, runtime.GOMAXPROCS(0)) {
		wg.Go(work)
	}
	wg.Wait()
	if first != nil {
		return first
	}
	b.dedup()
	return nil
}

// place puts file i into the staging directory: a link to the cache
// version's copy when the hash cache vouches for it, a copy otherwise.
func (b *builder) place(i int, cached map[string]int, buf []byte) error {
	f := &b.files[i]
	st := b.snap.stats[i]
	dst := filepath.Join(b.staging, filepath.FromSlash(f.Name))
	if c, ok := cached[f.Name]; ok && b.cacheVouches(b.cache, c, f, st) {
		src := filepath.Join(b.cache.dir, filepath.FromSlash(f.Name))
		if ino, err := b.l.hardLink(src, dst, f.Size); err == nil {
			f.SHA256 = b.cache.Files[c].SHA256
			b.rows[i] = indexRow{live: st, stored: ino, sri: b.cache.rows[c].sri}
			b.linked.Add(1)
			b.m.add(1, f.Size)
			return nil
		}
	}
	src := filepath.Join(b.l.dir, filepath.FromSlash(f.Name))
	for try := 0; ; try++ {
		res, err := b.l.copyFile(src, dst, buf)
		if err == nil {
			f.Size, f.ModTime, f.SHA256 = res.size, res.mtime, res.sha
			b.rows[i] = indexRow{live: res.live, stored: res.ino, sri: res.sri}
			b.copied.Add(1)
			b.m.add(1, res.size)
			return nil
		}
		if !errors.Is(err, errChanged) || try == 2 {
			return err
		}
		b.l.log("file changed while it was copied; copying again", slog.String("file", src))
	}
}

// cacheVouches reports whether the cache version's row c still describes
// the live file f with stat st: same size, mtime, device, inode and change
// time, and not modified within racyWindow of the cache version's scan.
func (b *builder) cacheVouches(cache *Version, c int, f *File, st liveStat) bool {
	cf, row := cache.Files[c], cache.rows[c]
	if cf.Size != f.Size || !cf.ModTime.Equal(f.ModTime) || row.live != st || row.sri == "" {
		return false
	}
	return f.ModTime.Before(cache.scanned.Add(-racyWindow))
}

// dedup replaces a copied file whose bytes a retained version already holds
// by a link to that version's copy, so a rollback or a renamed file costs no
// disk. It is best effort: on any failure the copy stays.
func (b *builder) dedup() {
	if b.copied.Load() == 0 {
		return
	}
	if _, ok := b.l.fsys.(*afero.OsFs); !ok {
		return // hard links need the OS file system
	}
	versions, err := b.l.Versions()
	if err != nil {
		return
	}
	held := make(map[[32]byte]string)
	for _, v := range versions {
		for j, f := range v.Files {
			if v.rows[j].stored != 0 {
				held[f.SHA256] = filepath.Join(v.dir, filepath.FromSlash(f.Name))
			}
		}
	}
	for i := range b.files {
		f := &b.files[i]
		src, ok := held[f.SHA256]
		if !ok || b.rows[i].stored == 0 {
			continue
		}
		dst := filepath.Join(b.staging, filepath.FromSlash(f.Name))
		if fi, err := os.Lstat(dst); err != nil || fi.Sys() == nil || statOfInfo(fi).ino != b.rows[i].stored {
			continue // already a link from the cache version
		}
		tmp := dst + ".stampfs-dedup"
		ino, err := b.l.hardLink(src, tmp, f.Size)
		if err != nil {
			continue
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			continue
		}
		b.rows[i].stored = ino
	}
}

// writeMeta writes v's index and manifest into the staging directory.
func (b *builder) writeMeta(v *Version) error {
	var buf bytes.Buffer
	writeIndex(&buf, v)
	if err := b.writeFile(indexName, buf.Bytes()); err != nil {
		return err
	}
	m, err := v.Manifest(nil)
	if err != nil {
		return err
	}
	data, err := m.MarshalIndent()
	if err != nil {
		return err
	}
	return b.writeFile(manifestName, data)
}

func (b *builder) writeFile(name string, data []byte) error {
	p := filepath.Join(b.staging, name)
	if err := afero.WriteFile(b.l.fsys, p, data, 0o444); err != nil {
		return ensurePathError("write", p, err)
	}
	return nil
}

// cleanup removes the staging directory unless it was renamed into place.
func (b *builder) cleanup() {
	if b.staging != "" {
		if err := b.l.fsys.RemoveAll(b.staging); err != nil {
			b.l.log("cannot remove a staging directory; a later Prune will", slog.String("dir", b.staging), slog.String("err", err.Error()))
		}
	}
}

// copied is what copyFile learned of one file.
type copied struct {
	size  int64
	mtime time.Time
	live  liveStat
	sha   [32]byte
	sri   string
	ino   uint64 // of the copy
}

// copyFile copies the live file src to the new file dst and hashes the copy.
// It returns an error wrapping errChanged when src is no longer a regular
// file or changed while it was copied, after removing dst.
func (l *Linker) copyFile(src, dst string, buf []byte) (res copied, err error) {
	if err := l.stillRegular(src); err != nil {
		return res, err
	}
	in, err := l.fsys.OpenFile(src, l.readFlags(), 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
			return res, &fs.PathError{Op: "open", Path: src, Err: errChanged}
		}
		return res, ensurePathError("open", src, err)
	}
	defer in.Close()
	before, err := in.Stat()
	if err != nil {
		return res, ensurePathError("stat", src, err)
	}
	if !before.Mode().IsRegular() {
		return res, &fs.PathError{Op: "open", Path: src, Err: errChanged}
	}
	os.Remove(dst) // a retry's leftover; the staging directory is ours
	out, err := l.fsys.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return res, ensurePathError("create", dst, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = ensurePathError("close", dst, cerr)
		}
		if err != nil {
			l.fsys.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return res, copyErr(src, dst, err)
	}
	after, err := in.Stat()
	if err != nil {
		return res, ensurePathError("stat", src, err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || statOfInfo(after) != statOfInfo(before) {
		return res, &fs.PathError{Op: "copy", Path: src, Err: errChanged}
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return res, ensurePathError("seek", dst, err)
	}
	d256, d384 := sha256.New(), sha512.New384()
	n, err := io.CopyBuffer(io.MultiWriter(d256, d384), out, buf)
	if err != nil {
		return res, ensurePathError("read", dst, err)
	}
	if n != before.Size() {
		return res, &fs.PathError{Op: "copy", Path: src, Err: errChanged}
	}
	res.size, res.mtime, res.live = n, before.ModTime(), statOfInfo(before)
	copy(res.sha[:], d256.Sum(nil))
	res.sri = "sha384-" + base64.StdEncoding.EncodeToString(d384.Sum(nil))
	if fi, err := out.Stat(); err == nil {
		res.ino = statOfInfo(fi).ino
	}
	return res, nil
}

// copyErr names the side of a failed copy: a write error (a full disk)
// names the store's file, a read error the live one.
func copyErr(src, dst string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &fs.PathError{Op: "copy", Path: dst, Err: err}
}

// hardLink links the stored file src to dst and returns dst's inode. It
// refuses a src that is not a regular file of the given size (a store
// tampered with), and answers errors.ErrUnsupported off the OS file system.
func (l *Linker) hardLink(src, dst string, size int64) (uint64, error) {
	if _, ok := l.fsys.(*afero.OsFs); !ok {
		return 0, errors.ErrUnsupported
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() || fi.Size() != size {
		return 0, &fs.PathError{Op: "link", Path: src, Err: errTampered}
	}
	if err := os.Link(src, dst); err != nil {
		return 0, err
	}
	return statOfInfo(fi).ino, nil
}

// errTampered says that a stored file is not what its version's index
// recorded.
var errTampered = errors.New("stampfs: stored file differs from its version's index")

// Versions returns the versions in the store, most recently activated first.
// A directory in the store whose index is missing or unreadable is not a
// version and is left out, with a log line.
func (l *Linker) Versions() ([]*Version, error) {
	entries, err := l.listVersions()
	if err != nil {
		return nil, err
	}
	var out []*Version
	for _, e := range entries {
		v, err := l.readVersion(e.stamp)
		if err != nil {
			l.log("not a version", slog.String("dir", filepath.Join(l.storeDir(), e.stamp)), slog.String("err", err.Error()))
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// storeEntry is a directory of the store with a stamp-shaped name.
type storeEntry struct {
	stamp     string
	activated time.Time
}

// listVersions lists the store's stamp-shaped directories, most recently
// activated first. A missing store has none.
func (l *Linker) listVersions() ([]storeEntry, error) {
	store := l.storeDir()
	f, err := l.fsys.Open(store)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, ensurePathError("open", store, err)
	}
	infos, err := f.Readdir(-1)
	f.Close()
	if err != nil {
		return nil, ensurePathError("readdir", store, err)
	}
	var out []storeEntry
	for _, fi := range infos {
		if fi.IsDir() && vfs.ValidSegment(fi.Name()) {
			out = append(out, storeEntry{fi.Name(), fi.ModTime()})
		}
	}
	slices.SortFunc(out, func(a, b storeEntry) int {
		if c := b.activated.Compare(a.activated); c != 0 {
			return c
		}
		return strings.Compare(b.stamp, a.stamp)
	})
	return out, nil
}

// hashCache returns the most recently activated readable version, or nil.
func (l *Linker) hashCache() *Version {
	entries, err := l.listVersions()
	if err != nil {
		return nil
	}
	for _, e := range entries {
		v, err := l.readVersion(e.stamp)
		if err == nil {
			return v
		}
		l.log("ignoring a version's index as hash cache", slog.String("dir", filepath.Join(l.storeDir(), e.stamp)), slog.String("err", err.Error()))
	}
	return nil
}

// Version returns the store's version of stamp. It returns an error wrapping
// fs.ErrNotExist when the store holds none, and one wrapping fs.ErrInvalid
// for a directory there that is not a version stampfs made.
func (l *Linker) Version(stamp string) (*Version, error) {
	if !vfs.ValidSegment(stamp) {
		return nil, fmt.Errorf("%w: %q", ErrBadStamp, stamp)
	}
	return l.readVersion(stamp)
}

// readVersion reads the version of stamp from its index.
func (l *Linker) readVersion(stamp string) (*Version, error) {
	dir := filepath.Join(l.storeDir(), stamp)
	fi, err := l.fsys.Stat(dir)
	if err != nil {
		return nil, ensurePathError("stat", dir, err)
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "read version", Path: dir, Err: errNotVersion}
	}
	p := filepath.Join(dir, indexName)
	f, err := l.fsys.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "read version", Path: dir, Err: errNotVersion}
	}
	if err != nil {
		return nil, ensurePathError("open", p, err)
	}
	defer f.Close()
	v, err := readIndex(f)
	if err != nil {
		return nil, &fs.PathError{Op: "read index", Path: p, Err: err}
	}
	if v.Stamp != stamp {
		return nil, &fs.PathError{Op: "read index", Path: p, Err: fmt.Errorf("%w: it names stamp %q", errBadIndex, v.Stamp)}
	}
	v.fsys, v.dir, v.Activated = l.fsys, dir, fi.ModTime()
	return v, nil
}

// errNotVersion says that a directory of the store is not a version.
var errNotVersion = fmt.Errorf("stampfs: not a version (no %s): %w", indexName, fs.ErrInvalid)

// errBadIndex says that a version's index cannot be read.
var errBadIndex = fmt.Errorf("stampfs: malformed version index: %w", fs.ErrInvalid)

// sameFiles reports whether two tables hold the same names with the same
// bytes.
func sameFiles(a, b []File) bool {
	return slices.EqualFunc(a, b, func(x, y File) bool {
		return x.Name == y.Name && x.Size == y.Size && x.SHA256 == y.SHA256
	})
}

// The index of a version is a text file: a header, one line per file, and a
// trailer that proves it complete.
//
//	stampfs-index 1
//	stamp 3f2a9c1b7d0e
//	strategy content
//	created 1733090000123456789
//	scanned 1733090000000000000
//	f <sha256 hex> <size> <mtime ns> <dev> <ino> <ctime ns> <stored ino> <sri base64> <name, Go-quoted>
//	end <number of files>
const indexMagic = "stampfs-index 1"

func writeIndex(w *bytes.Buffer, v *Version) {
	fmt.Fprintf(w, "%s\nstamp %s\nstrategy %s\ncreated %d\nscanned %d\n", indexMagic, v.Stamp, v.Strategy, v.Created.UnixNano(), v.scanned.UnixNano())
	var line []byte
	for i, f := range v.Files {
		r := v.rows[i]
		line = append(line[:0], "f "...)
		line = hex.AppendEncode(line, f.SHA256[:])
		for _, n := range [...]int64{f.Size, f.ModTime.UnixNano(), int64(r.live.dev), int64(r.live.ino), r.live.ctime, int64(r.stored)} {
			line = append(line, ' ')
			line = strconv.AppendInt(line, n, 10)
		}
		line = append(line, ' ')
		line = append(line, strings.TrimPrefix(r.sri, "sha384-")...)
		line = append(line, ' ')
		line = strconv.AppendQuote(line, f.Name)
		line = append(line, '\n')
		w.Write(line)
	}
	fmt.Fprintf(w, "end %d\n", len(v.Files))
}

// readIndex parses an index. Anything but a complete, well-formed index of
// sorted valid names is an error wrapping errBadIndex.
func readIndex(r io.Reader) (*Version, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	bad := func(line int, why string) error { return fmt.Errorf("%w: line %d: %s", errBadIndex, line, why) }
	header := func(n int, key string) (string, error) {
		if !sc.Scan() {
			return "", bad(n, "truncated header")
		}
		v, ok := strings.CutPrefix(sc.Text(), key+" ")
		if !ok {
			return "", bad(n, "want "+key)
		}
		return v, nil
	}
	if !sc.Scan() || sc.Text() != indexMagic {
		return nil, bad(1, "not a stampfs index")
	}
	v := &Version{}
	var err error
	var created, scanned, strategy string
	if v.Stamp, err = header(2, "stamp"); err != nil {
		return nil, err
	}
	if strategy, err = header(3, "strategy"); err != nil {
		return nil, err
	}
	if created, err = header(4, "created"); err != nil {
		return nil, err
	}
	if scanned, err = header(5, "scanned"); err != nil {
		return nil, err
	}
	if !vfs.ValidSegment(v.Stamp) {
		return nil, bad(2, "bad stamp")
	}
	v.Strategy = Strategy(strategy)
	c, err1 := strconv.ParseInt(created, 10, 64)
	s, err2 := strconv.ParseInt(scanned, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, bad(4, "bad time")
	}
	v.Created, v.scanned = time.Unix(0, c), time.Unix(0, s)
	for n := 6; sc.Scan(); n++ {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "end "); ok {
			if count, err := strconv.Atoi(rest); err != nil || count != len(v.Files) {
				return nil, bad(n, "file count does not match")
			}
			if sc.Scan() {
				return nil, bad(n+1, "text after the end")
			}
			return v, nil
		}
		f, row, ok := parseIndexLine(line)
		if !ok {
			return nil, bad(n, "malformed file line")
		}
		if len(v.Files) > 0 && v.Files[len(v.Files)-1].Name >= f.Name {
			return nil, bad(n, "names out of order")
		}
		v.Files = append(v.Files, f)
		v.rows = append(v.rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, bad(0, "truncated: no end line")
}

func parseIndexLine(line string) (File, indexRow, bool) {
	var f File
	var row indexRow
	rest, ok := strings.CutPrefix(line, "f ")
	if !ok {
		return f, row, false
	}
	fields := strings.SplitN(rest, " ", 9)
	if len(fields) != 9 {
		return f, row, false
	}
	if n, err := hex.Decode(f.SHA256[:], []byte(fields[0])); err != nil || n != sha256.Size || len(fields[0]) != 2*sha256.Size {
		return f, row, false
	}
	var nums [6]int64
	for i := range nums {
		n, err := strconv.ParseInt(fields[1+i], 10, 64)
		if err != nil {
			return f, row, false
		}
		nums[i] = n
	}
	name, err := strconv.Unquote(fields[8])
	if err != nil || !fs.ValidPath(name) || name == "." || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
		return f, row, false
	}
	if sri, err := base64.StdEncoding.DecodeString(fields[7]); err != nil || len(sri) != sha512.Size384 {
		return f, row, false
	}
	f.Name, f.Size, f.ModTime = name, nums[0], time.Unix(0, nums[1])
	row.live = liveStat{dev: uint64(nums[2]), ino: uint64(nums[3]), ctime: nums[4]}
	row.stored = uint64(nums[5])
	row.sri = "sha384-" + fields[7]
	return f, row, f.Size >= 0
}

// pathDir is path.Dir for a slash name, with "" for a top-level name.
func pathDir(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}

// randomHex returns 16 random hex digits for a temporary name.
func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// readFlags are the flags a live file is opened with: on the OS file system
// without following a link (one swapped in since the scan fails with ELOOP)
// and without blocking (a FIFO swapped in cannot hang the copy).
func (l *Linker) readFlags() int {
	if _, ok := l.fsys.(*afero.OsFs); ok {
		return os.O_RDONLY | noFollowFlags
	}
	return os.O_RDONLY
}

// stillRegular checks, off the OS file system where opening cannot refuse
// links itself, that the live file src is still a regular file and not a
// link that would lead elsewhere.
func (l *Linker) stillRegular(src string) error {
	if _, ok := l.fsys.(*afero.OsFs); ok && noFollowFlags != 0 {
		return nil
	}
	lst, ok := l.fsys.(afero.Lstater)
	if !ok {
		return nil
	}
	fi, _, err := lst.LstatIfPossible(src)
	if errors.Is(err, fs.ErrNotExist) {
		return &fs.PathError{Op: "open", Path: src, Err: errChanged}
	}
	if err != nil {
		return ensurePathError("lstat", src, err)
	}
	if !fi.Mode().IsRegular() {
		return &fs.PathError{Op: "open", Path: src, Err: errChanged}
	}
	return nil
}

// processLocks holds one mutex per store for the Linkers of this process.
var processLocks sync.Map // storeKey → *sync.Mutex

type storeKey struct {
	fsys  any // the afero.Fs when comparable, else its type name
	store string
}

// processLock locks the store against the other Linkers of this process.
func (l *Linker) processLock() (unlock func()) {
	key := storeKey{fsys: fmt.Sprintf("%T", l.fsys), store: l.storeDir()}
	if reflect.TypeOf(l.fsys).Comparable() {
		key.fsys = l.fsys
	}
	m, _ := processLocks.LoadOrStore(key, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
