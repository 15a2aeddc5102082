package stampfs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stampfs/stampfs/vfs"
)

// Versions returns the versions in the store, most recently activated first.
// A directory in the store whose index or base is missing or unreadable is
// not a version and is left out, with a log line.
func (l *Linker) Versions() ([]*Version, error) { return l.versions(nil, nil, false) }

// versions is Versions, reading each base the versions share once (bases
// may hold some already read), and only the stamps want wants (all for
// nil), leaving their tables to decode when lazy.
func (l *Linker) versions(bases baseCache, want func(stamp string) bool, lazy bool) ([]*Version, error) {
	entries, err := l.listVersions()
	if err != nil {
		return nil, err
	}
	if bases == nil {
		bases = baseCache{}
	}
	var out []*Version
	for _, e := range entries {
		if want != nil && !want(e.stamp) {
			continue
		}
		v, err := l.readVersionWith(e.stamp, bases, lazy)
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

// listVersions lists the store's versions: its stamp-shaped directories that
// hold an index, most recently activated first. A directory without one was
// not made by Publish (versions appear whole, by one rename) and is neither
// listed nor ever removed. A missing store has none.
func (l *Linker) listVersions() ([]storeEntry, error) {
	store := l.storeDir()
	infos, err := l.readStore()
	if err != nil {
		return nil, err
	}
	var out []storeEntry
	for _, fi := range infos {
		if !fi.IsDir() || !vfs.ValidSegment(fi.Name()) {
			continue
		}
		if _, err := l.fsys.Stat(filepath.Join(store, fi.Name(), indexName)); err != nil {
			continue
		}
		out = append(out, storeEntry{fi.Name(), fi.ModTime()})
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
		v, err := l.readVersionWith(e.stamp, nil, true) // Publish compares the scan with it first
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

// readVersion reads the version of stamp from its index and base.
func (l *Linker) readVersion(stamp string) (*Version, error) {
	return l.readVersionWith(stamp, nil, false)
}

// baseCache holds bases already read, by id, so that the versions sharing
// one are read with one parse of it.
type baseCache map[[16]byte]*indexBase

// baseFile is what identifies the file a base was read from: a cached base
// stands for a version's only while that version's file is the same.
type baseFile struct {
	ino   uint64
	size  int64
	mtime int64
}

// readVersionWith is readVersion with a cache of bases (nil for none),
// leaving the table to decode when lazy.
func (l *Linker) readVersionWith(stamp string, bases baseCache, lazy bool) (*Version, error) {
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
	basePath := filepath.Join(dir, baseName)
	v, err := readIndex(f, func(id [16]byte) (*indexBase, error) {
		fi, err := l.fsys.Stat(basePath)
		if errors.Is(err, fs.ErrNotExist) {
			if _, derr := l.fsys.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
				return nil, ensurePathError("stat", dir, derr) // pruned while it was read
			}
			// A version with an index but no base is damaged, not missing.
			return nil, &fs.PathError{Op: "read base", Path: basePath, Err: errNoBase}
		}
		if err != nil {
			return nil, err
		}
		file := baseFile{statOfInfo(fi).ino, fi.Size(), fi.ModTime().UnixNano()}
		if b := bases[id]; b != nil && b.file == file {
			return b, nil
		}
		bf, err := l.fsys.Open(basePath)
		if err != nil {
			return nil, err
		}
		defer bf.Close()
		b, err := readBase(bf, fi.Size())
		if err != nil {
			return nil, &fs.PathError{Op: "read base", Path: basePath, Err: err}
		}
		b.file = file
		if bases != nil {
			bases[b.id] = b
		}
		return b, nil
	}, lazy)
	if err != nil {
		return nil, ensurePathError("read index", p, err)
	}
	if v.Stamp != stamp {
		return nil, &fs.PathError{Op: "read index", Path: p, Err: fmt.Errorf("%w: it names stamp %q", errBadIndex, v.Stamp)}
	}
	v.fsys, v.dir, v.Activated = l.fsys, dir, fi.ModTime()
	return v, nil
}

// errNotVersion says that a directory of the store is not a version.
var errNotVersion = fmt.Errorf("stampfs: not a version (no %s): %w", indexName, fs.ErrInvalid)

// errBadIndex says that a version's index or base cannot be read.
var errBadIndex = fmt.Errorf("stampfs: malformed version table: %w", fs.ErrInvalid)

// errNoBase says that a version's index names a base its directory lacks.
var errNoBase = fmt.Errorf("%w: the version's index has no base beside it", errBadIndex)

// sameFiles reports whether two tables hold the same names with the same
// bytes.
func sameFiles(a, b []File) bool {
	return slices.EqualFunc(a, b, func(x, y File) bool {
		return x.Name == y.Name && x.Size == y.Size && x.SHA256 == y.SHA256
	})
}

// processLocks holds one mutex per store for the Linkers of this process.
var processLocks sync.Map // storeKey → *sync.Mutex

type storeKey struct {
	fsys  any // the afero.Fs when comparable, else its type name
	store string
}

// processLock locks the store against the other Linkers of this process.
func (l *Linker) processLock() (unlock func()) {
	key := storeKey{fsys: fmt.Sprintf("%T", l.fsys), store: filepath.Clean(l.storeDir())}
	if reflect.TypeOf(l.fsys).Kind() == reflect.Pointer {
		key.fsys = l.fsys // a pointer is always a valid map key; other values may not hash
	}
	m, _ := processLocks.LoadOrStore(key, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// inStore reports whether err names a path in the store (or the store
// itself), as opposed to one in the live tree.
func (l *Linker) inStore(err error) bool {
	var paths []string
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) {
		paths = append(paths, pe.Path)
	}
	if errors.As(err, &le) {
		paths = append(paths, le.Old, le.New)
	}
	store := filepath.Clean(l.storeDir())
	for _, p := range paths {
		p = filepath.Clean(p)
		if p == store || strings.HasPrefix(p, store+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// readStore lists the entries of the store; a missing store has none.
func (l *Linker) readStore() ([]fs.FileInfo, error) {
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
	return infos, nil
}
