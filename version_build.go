package stampfs

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// builder stages one version: the files of snap, placed under staging.
type builder struct {
	l       *Linker
	store   string
	snap    *Snapshot
	cache   *Version // the newest version, whose index is the hash cache; nil for none
	staging string   // "" once renamed into place or removed

	files  []File // snap's table with the stored bytes' SHA-256
	rows   []indexRow
	copies []bool // files[i] was copied from the live tree, not linked
	m      *meter // counts the files placed

	copied, linked atomic.Int64

	root *os.Root // the live directory, on the OS file system

	touchMu sync.Mutex
	touched time.Time // when touch last renewed the staging directory's mtime
}

// stage places every file of the snapshot in a new staging directory.
func (b *builder) stage() error {
	if _, ok := b.l.fsys.(*afero.OsFs); ok && noFollowFlags != 0 {
		root, err := os.OpenRoot(b.l.dir)
		if err != nil {
			return ensurePathError("open", b.l.dir, err)
		}
		defer root.Close()
		b.root = root
	}
	b.staging = filepath.Join(b.store, stagingPre+randomHex())
	if err := b.l.fsys.Mkdir(b.staging, 0o755); err != nil {
		b.staging = ""
		return ensurePathError("mkdir", filepath.Join(b.store, stagingPre+"…"), err)
	}
	b.files = slices.Clone(b.snap.files)
	b.rows = make([]indexRow, len(b.files))
	b.copies = make([]bool, len(b.files))
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
	// The workers take whole directories, so that no two fill one
	// directory at once: with neighbouring files handed out one by one,
	// publishing a 1% change of a 100,000-file tree took 1.58 s against
	// 0.96-1.35 s this way (bench/versions/profile).
	chunks := dirChunks(b.files, 256)
	err := parallel(len(chunks)-1, max(4, runtime.GOMAXPROCS(0)), func() func(int) error {
		buf := make([]byte, 64<<10)
		return func(c int) error {
			b.touch()
			for i := chunks[c]; i < chunks[c+1]; i++ {
				if err := b.place(i, cached, buf); err != nil {
					return err
				}
			}
			return nil
		}
	})
	if err != nil {
		return err
	}
	b.dedup()
	return nil
}

// dirChunks cuts the table files into runs of files of one directory, of
// at most max files, and returns where each starts, and len(files) last.
func dirChunks(files []File, max int) []int {
	starts := []int{0}
	for i := 1; i < len(files); i++ {
		if i-starts[len(starts)-1] >= max || pathDir(files[i].Name) != pathDir(files[i-1].Name) {
			starts = append(starts, i)
		}
	}
	if len(files) == 0 {
		return starts
	}
	return append(starts, len(files))
}

// touch keeps the staging directory's mtime fresh while a long publish
// runs, so that Prune, which removes staging directories by age (those of
// crashed runs), never takes it for a leftover.
func (b *builder) touch() {
	b.touchMu.Lock()
	defer b.touchMu.Unlock()
	if now := time.Now(); now.Sub(b.touched) > time.Minute {
		b.touched = now
		_ = b.l.fsys.Chtimes(b.staging, now, now) // best effort: Prune waits an hour
	}
}

// place puts file i into the staging directory: a link to the cache
// version's copy when the hash cache vouches for it, a copy otherwise.
func (b *builder) place(i int, cached map[string]int, buf []byte) error {
	f := &b.files[i]
	st := b.snap.stats[i]
	dst := filepath.Join(b.staging, filepath.FromSlash(f.Name))
	if c, ok := cached[f.Name]; ok && cacheVouches(b.cache, c, f, st) {
		src := filepath.Join(b.cache.dir, filepath.FromSlash(f.Name))
		if ino, err := b.l.hardLink(src, dst, f.Size); err == nil {
			f.SHA256 = b.cache.Files[c].SHA256
			b.rows[i] = indexRow{live: st, stored: ino}
			b.linked.Add(1)
			b.m.add(1, f.Size)
			return nil
		}
	}
	src := filepath.Join(b.l.dir, filepath.FromSlash(f.Name))
	for try := 0; ; try++ {
		res, err := b.l.copyFile(b.root, f.Name, src, dst, buf)
		if err == nil {
			f.Size, f.ModTime, f.SHA256 = res.size, res.mtime, res.sha
			b.rows[i] = indexRow{live: res.live, stored: res.ino}
			b.copies[i] = true
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
func cacheVouches(cache *Version, c int, f *File, st liveStat) bool {
	cf, row := cache.Files[c], cache.rows[c]
	if cf.Size != f.Size || !cf.ModTime.Equal(f.ModTime) || row.live != st {
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
	wanted := make(map[[32]byte]string) // the copies' SHA-256 → a stored file with those bytes
	for i := range b.files {
		if b.copies[i] {
			wanted[b.files[i].SHA256] = ""
		}
	}
	bases := baseCache{}
	var versions []*Version
	if b.cache != nil {
		versions = append(versions, b.cache) // read already, and its base with it
		bases[b.cache.base.id] = b.cache.base
	}
	others, err := b.l.versions(bases, func(stamp string) bool { return b.cache == nil || stamp != b.cache.Stamp }, true)
	if err != nil {
		return
	}
	for _, v := range append(versions, others...) {
		if err := v.findHeld(wanted); err != nil {
			b.l.log("not sharing bytes with a version whose table cannot be read", slog.String("version", v.dir), slog.String("err", err.Error()))
		}
	}
	for i := range b.files {
		f := &b.files[i]
		src := wanted[f.SHA256]
		if !b.copies[i] || src == "" {
			continue // linked from the cache version already, or nothing to share
		}
		dst := filepath.Join(b.staging, filepath.FromSlash(f.Name))
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

// writeMeta writes v's table into the staging directory: as changes to the
// cache version's base, linked from it, when they are few, else as a base
// of its own. Sharing a base is what keeps a store of many versions of a
// large tree near the size of one copy.
func (b *builder) writeMeta(v *Version) error {
	var index bytes.Buffer
	if c := b.cache; c != nil {
		v.base = c.base
		if n, err := writeIndex(&index, v); err == nil && n <= len(v.Files)/4 && b.shareBase(c) == nil {
			return b.writeFile(indexName, index.Bytes())
		}
		index.Reset()
		if err := b.l.fsys.Remove(filepath.Join(b.staging, baseName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return ensurePathError("remove", filepath.Join(b.staging, baseName), err) // a copy shareBase left half-written
		}
	}
	var buf bytes.Buffer
	base, err := writeBase(&buf, v.Files, v.rows)
	if err != nil {
		return err
	}
	if err := b.writeFile(baseName, buf.Bytes()); err != nil {
		return err
	}
	v.base = base
	if _, err := writeIndex(&index, v); err != nil {
		return err
	}
	return b.writeFile(indexName, index.Bytes())
}

// shareBase puts the base of version c into the staging directory: a hard
// link to c's, if that is still the file c's table was read from, or where
// links fail a copy written from the table read.
func (b *builder) shareBase(c *Version) error {
	src, dst := filepath.Join(c.dir, baseName), filepath.Join(b.staging, baseName)
	ino, err := b.l.hardLink(src, dst, c.base.size)
	if err == nil {
		// The link made must be the file c's table was read from: c may
		// have been pruned, and its stamp published anew, meanwhile.
		if fi, lerr := os.Lstat(dst); lerr == nil && ino == c.base.file.ino && statOfInfo(fi).ino == ino {
			return nil
		}
		if err := b.l.fsys.Remove(dst); err != nil {
			return ensurePathError("remove", dst, err) // and writeMeta writes no base over it
		}
		return &fs.PathError{Op: "link", Path: src, Err: errTampered}
	}
	var buf bytes.Buffer
	encodeBase(&buf, c.base)
	return b.writeFile(baseName, buf.Bytes())
}

// writeFile writes a new file of the staging directory. It never opens one
// that exists: that could be a base linked from another version.
func (b *builder) writeFile(name string, data []byte) (err error) {
	p := filepath.Join(b.staging, name)
	f, err := b.l.fsys.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return ensurePathError("create", p, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = ensurePathError("close", p, cerr)
		}
	}()
	if _, err := f.Write(data); err != nil {
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
	ino   uint64 // of the copy
}

// copyFile copies the live file src to the new file dst and hashes the copy.
// It returns an error wrapping errChanged when src is no longer a regular
// file or changed while it was copied, after removing dst.
func (l *Linker) copyFile(root *os.Root, name, src, dst string, buf []byte) (res copied, err error) {
	if err := l.stillRegular(src); err != nil {
		return res, err
	}
	var in afero.File
	if root != nil {
		// Through the directory's root: a directory on the way swapped for
		// a link since the scan cannot lead out of it.
		in, err = root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|noFollowFlags, 0)
	} else {
		in, err = l.fsys.OpenFile(src, l.readFlags(), 0)
	}
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
	l.fsys.Remove(dst) // a retry's leftover; the staging directory is ours
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
	d := sha256.New()
	n, err := io.CopyBuffer(d, out, buf)
	if err != nil {
		return res, ensurePathError("read", dst, err)
	}
	if n != before.Size() {
		return res, &fs.PathError{Op: "copy", Path: src, Err: errChanged}
	}
	res.size, res.mtime, res.live = n, before.ModTime(), statOfInfo(before)
	d.Sum(res.sha[:0])
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

// pathDir is path.Dir for a slash name, with "" for a top-level name.
func pathDir(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}

// randomHex returns 16 random hex digits for a temporary name.
func randomHex() string { return hex.EncodeToString(randomBytes(8)) }

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return b
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
