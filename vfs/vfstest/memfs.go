package vfstest

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// Limits MemFS shares with Linux.
const (
	maxSymlinkHops = 40   // MAXSYMLINKS: more links in one lookup is ELOOP
	maxNameLen     = 255  // NAME_MAX: a longer path element is ENAMETOOLONG
	maxPathLen     = 4096 // PATH_MAX, counting the terminating NUL

	// maxFileSize bounds a file's size so that a stray offset fails with
	// syscall.EFBIG instead of exhausting memory; it fits an int everywhere.
	maxFileSize = math.MaxInt32
)

// permBits are the mode bits Chmod, Mkdir and OpenFile keep, as on Linux.
const permBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// MemFS is an in-memory afero.Fs with symbolic links that behaves like a
// Linux file system for the operations stampfs and its tests use. It also
// implements afero.Symlinker.
//
// Every name is resolved from the root "/" after lexical cleaning, so "a",
// "/a", "./a" and "b/../a" all name the same file, and a trailing slash is
// ignored. Symbolic links met while resolving are followed as Linux follows
// them: a relative target is resolved from the link's own directory, an
// absolute one from the root, and ".." inside a target goes to the parent of
// the directory reached so far (physically). Because the name itself is
// cleaned first, a ".." in a name removes the preceding element even when
// that element is a link, as filepath.Join would before an os call. More
// than 40 links in one lookup fail with syscall.ELOOP.
//
// Errors are *fs.PathError, or *os.LinkError for Rename and
// SymlinkIfPossible, wrapping the syscall.Errno Linux returns in the same
// situation, so errors.Is(err, fs.ErrNotExist) and the like behave as they do
// on afero.OsFs.
//
// A MemFS is safe for concurrent use by multiple goroutines; one mutex guards
// the whole tree and every open file. The zero value is an empty file system
// holding only the root directory, ready to use.
type MemFS struct {
	mu    sync.Mutex
	root  *inode
	clock func() time.Time
}

// Interfaces MemFS and its files implement.
var (
	_ afero.Fs        = (*MemFS)(nil)
	_ afero.Symlinker = (*MemFS)(nil)
	_ afero.File      = (*memFile)(nil)
)

// inode is a file, directory or symbolic link. A directory has exactly one
// parent, so the chain of directories a lookup walks is its physical path.
type inode struct {
	mode    fs.FileMode // type bits and permBits
	mtime   time.Time
	atime   time.Time
	data    []byte            // regular file
	target  string            // symbolic link
	entries map[string]*inode // directory
}

func (n *inode) isDir() bool  { return n.mode.IsDir() }
func (n *inode) isLink() bool { return n.mode&fs.ModeSymlink != 0 }

func (n *inode) size() int64 {
	switch {
	case n.isLink():
		return int64(len(n.target))
	case n.isDir():
		return 0
	}
	return int64(len(n.data))
}

// NewMemFS returns an empty MemFS holding only the root directory, whose clock
// is time.Now.
func NewMemFS() *MemFS {
	return &MemFS{}
}

// SetClock makes m read the time from now when it stamps modification and
// access times. A nil now restores time.Now. Tests use it to move time. m
// calls now with its lock held, so now must not use m.
func (m *MemFS) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock = now
}

// lock locks m and makes sure the root exists.
func (m *MemFS) lock() {
	m.mu.Lock()
	if m.root == nil {
		t := m.now()
		m.root = &inode{mode: fs.ModeDir | 0o755, mtime: t, atime: t, entries: map[string]*inode{}}
	}
}

// now reads the clock, without a monotonic reading; m.mu must be held.
func (m *MemFS) now() time.Time {
	if m.clock != nil {
		return m.clock().Round(0)
	}
	return time.Now().Round(0)
}

// touch sets n's modification time to now; m.mu must be held.
func (m *MemFS) touch(n *inode) {
	n.mtime = m.now()
}

// resolved is the outcome of a lookup. When name is empty the path ended in a
// directory reached by "/", "." or ".." and node is that directory; dirs
// then holds its ancestors. Otherwise dirs is the physical chain of
// directories from the root to the one holding name, and node is the entry
// called name there, or nil when there is none.
type resolved struct {
	dirs []*inode
	name string
	node *inode
}

func (r resolved) parent() *inode { return r.dirs[len(r.dirs)-1] }

// How resolve treats the last element of a name.
const (
	noFollow = iota // a link there is the result
	follow          // a link there is followed
	create          // followed, for O_CREATE: a trailing slash is EISDIR
)

// slashElem stands for the trailing slash of a link target, which requires
// what precedes it to be a directory.
const slashElem = "/"

// resolve looks name up; m.mu must be held. The returned error is a bare
// syscall.Errno for the caller to wrap.
func (m *MemFS) resolve(name string, last int) (resolved, error) {
	if err := checkName(name); err != nil {
		return resolved{}, err
	}
	clean := path.Clean("/" + name)
	var todo []string // elements still to walk, last element first
	if clean != "/" {
		todo = pushElems(todo, clean[1:])
	}
	stack := []*inode{m.root}
	hops := 0
	nameless := func() resolved {
		return resolved{dirs: stack[:len(stack)-1], node: stack[len(stack)-1]}
	}
	for len(todo) > 0 {
		elem := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		isLast := len(todo) == 0
		switch elem {
		case "", ".", slashElem:
			if isLast {
				return nameless(), nil
			}
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			if isLast {
				return nameless(), nil
			}
			continue
		}
		if len(elem) > maxNameLen {
			return resolved{}, syscall.ENAMETOOLONG
		}
		if last == create && len(todo) == 1 && todo[0] == slashElem {
			return resolved{}, syscall.EISDIR // open(2) refuses O_CREAT of "name/"
		}
		child := stack[len(stack)-1].entries[elem]
		if child == nil {
			if isLast {
				return resolved{dirs: stack, name: elem}, nil
			}
			return resolved{}, syscall.ENOENT
		}
		if child.isLink() && (last != noFollow || !isLast) {
			hops++
			if hops > maxSymlinkHops {
				return resolved{}, syscall.ELOOP
			}
			if strings.HasPrefix(child.target, "/") {
				stack = stack[:1]
			}
			todo = pushElems(todo, child.target)
			if len(todo) == 0 { // the target is "/"
				return nameless(), nil
			}
			continue
		}
		if isLast {
			return resolved{dirs: stack, name: elem, node: child}, nil
		}
		if !child.isDir() {
			return resolved{}, syscall.ENOTDIR
		}
		stack = append(stack[:len(stack):len(stack)], child)
	}
	return nameless(), nil
}

// pushElems pushes the slash-separated elements of p onto todo so that the
// first element is popped first. A trailing slash becomes slashElem.
func pushElems(todo []string, p string) []string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return todo
	}
	if trimmed := strings.TrimRight(p, "/"); trimmed != p {
		p = trimmed
		todo = append(todo, slashElem)
	}
	elems := strings.Split(p, "/")
	for i := len(elems) - 1; i >= 0; i-- {
		todo = append(todo, elems[i])
	}
	return todo
}

// checkName rejects what Linux rejects before any lookup.
func checkName(name string) error {
	switch {
	case name == "":
		return syscall.ENOENT
	case strings.IndexByte(name, 0) >= 0:
		return syscall.EINVAL
	case len(name) >= maxPathLen:
		return syscall.ENAMETOOLONG
	}
	return nil
}

// Name returns "MemFS".
func (m *MemFS) Name() string { return "MemFS" }

// Create creates or truncates the named file, as OpenFile with
// O_RDWR|O_CREATE|O_TRUNC and mode 0666.
func (m *MemFS) Create(name string) (afero.File, error) {
	return m.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Open opens the named file or directory for reading, following links.
func (m *MemFS) Open(name string) (afero.File, error) {
	return m.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens the named file with the given os.O_* flags. O_CREATE makes
// a regular file with perm (no umask applies) in an existing directory,
// following a dangling link to create its target; with O_EXCL an existing
// name of any kind fails with fs.ErrExist. O_TRUNC empties a regular file,
// O_APPEND makes every write go to the end. Other flags are ignored. A
// directory opens only for reading.
func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	m.lock()
	defer m.mu.Unlock()
	excl := flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0
	last := create
	switch {
	case flag&os.O_CREATE == 0:
		last = follow
	case excl:
		last = noFollow
	}
	r, err := m.resolve(name, last)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	n := r.node
	switch {
	case n == nil && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	case n == nil:
		t := m.now()
		n = &inode{mode: perm & permBits, mtime: t, atime: t}
		r.parent().entries[r.name] = n
		m.touch(r.parent())
	case excl:
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EEXIST}
	case n.isDir():
		if acc != os.O_RDONLY || flag&(os.O_CREATE|os.O_TRUNC) != 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
		}
	case flag&os.O_TRUNC != 0:
		n.data = nil
		m.touch(n)
	}
	return &memFile{
		fs:       m,
		name:     name,
		base:     baseName(name),
		node:     n,
		readable: acc == os.O_RDONLY || acc == os.O_RDWR,
		writable: acc == os.O_WRONLY || acc == os.O_RDWR,
		append:   flag&os.O_APPEND != 0,
	}, nil
}

// baseName is the name a FileInfo reports for name, as os.Stat does.
func baseName(name string) string {
	return path.Base(path.Clean("/" + name))
}

// Mkdir creates the directory name with perm (no umask applies) in an
// existing directory. An existing name of any kind, even a dangling link,
// fails with fs.ErrExist.
func (m *MemFS) Mkdir(name string, perm os.FileMode) error {
	m.lock()
	defer m.mu.Unlock()
	if err := m.mkdir(name, perm); err != nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: err}
	}
	return nil
}

func (m *MemFS) mkdir(name string, perm os.FileMode) error {
	r, err := m.resolve(name, noFollow)
	switch {
	case err != nil:
		return err
	case r.node != nil:
		return syscall.EEXIST
	}
	t := m.now()
	r.parent().entries[r.name] = &inode{mode: fs.ModeDir | perm&permBits, mtime: t, atime: t, entries: map[string]*inode{}}
	m.touch(r.parent())
	return nil
}

// MkdirAll creates the directory name and any missing parents with perm,
// following links as os.MkdirAll does. An existing directory is not an
// error; an existing non-directory in the way is syscall.ENOTDIR.
func (m *MemFS) MkdirAll(name string, perm os.FileMode) error {
	m.lock()
	defer m.mu.Unlock()
	if err := checkName(name); err != nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: err}
	}
	clean := path.Clean("/" + name)
	for i := 1; i <= len(clean); i++ {
		if i < len(clean) && clean[i] != '/' {
			continue
		}
		p := clean[:i]
		if p == "/" {
			continue
		}
		// Errors name the prefix that failed, as os.MkdirAll does, relative
		// when name was.
		errPath := p
		if !strings.HasPrefix(name, "/") {
			errPath = p[1:]
		}
		r, err := m.resolve(p, follow)
		if err == nil && r.node != nil {
			if r.node.isDir() {
				continue
			}
			return &fs.PathError{Op: "mkdir", Path: errPath, Err: syscall.ENOTDIR}
		}
		if err := m.mkdir(p, perm); err != nil {
			return &fs.PathError{Op: "mkdir", Path: errPath, Err: err}
		}
	}
	return nil
}

// Remove removes the named file, link (not its target) or empty directory.
// A non-empty directory fails with syscall.ENOTEMPTY, the root with
// syscall.EBUSY.
func (m *MemFS) Remove(name string) error {
	m.lock()
	defer m.mu.Unlock()
	r, err := m.resolve(name, noFollow)
	switch {
	case err != nil:
	case r.name == "":
		err = syscall.EBUSY
	case r.node == nil:
		err = syscall.ENOENT
	case r.node.isDir() && len(r.node.entries) > 0:
		err = syscall.ENOTEMPTY
	}
	if err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	delete(r.parent().entries, r.name)
	m.touch(r.parent())
	return nil
}

// RemoveAll removes name and, if it is a directory, everything in it, without
// following links. A missing name is not an error. For the root it removes
// everything in it and then fails with syscall.EBUSY, as Linux would.
func (m *MemFS) RemoveAll(name string) error {
	if name == "" {
		return nil // as os.RemoveAll
	}
	m.lock()
	defer m.mu.Unlock()
	r, err := m.resolve(name, noFollow)
	switch {
	case errors.Is(err, syscall.ENOENT):
		return nil
	case err != nil:
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	case r.name == "":
		if len(r.node.entries) > 0 {
			clear(r.node.entries)
			m.touch(r.node)
		}
		return &fs.PathError{Op: "remove", Path: name, Err: syscall.EBUSY}
	case r.node == nil:
		return nil
	}
	delete(r.parent().entries, r.name)
	m.touch(r.parent())
	return nil
}

// Rename moves oldname to newname as os.Rename does on Linux. A file or link
// atomically replaces a file or link; a link in either name's last element is
// not followed. Like os.Rename, it refuses to replace a directory, even an
// empty one, with fs.ErrExist (syscall.EEXIST), unless newname is another
// spelling of oldname ("/d" and "/./d" or "/d/"): then, as on Linux, nothing
// moves and Rename succeeds. A directory cannot replace a
// non-directory (syscall.ENOTDIR) or move into itself (syscall.EINVAL); the
// root cannot move (syscall.EBUSY). Errors are *os.LinkError.
func (m *MemFS) Rename(oldname, newname string) error {
	m.lock()
	defer m.mu.Unlock()
	if err := m.rename(oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (m *MemFS) rename(oldname, newname string) error {
	from, errFrom := m.resolve(oldname, noFollow)
	to, errTo := m.resolve(newname, noFollow)
	// os.Rename refuses to replace a directory before it calls rename(2),
	// unless the names are two spellings of the directory itself ("d" and
	// "./d" or "d/"), which rename(2) leaves where it is.
	if errTo == nil && to.node != nil && to.node.isDir() {
		switch {
		case errFrom != nil:
			return errFrom
		case from.node == nil:
			return syscall.ENOENT
		case from.node != to.node || oldname == newname:
			return syscall.EEXIST
		}
	}
	switch {
	case errFrom != nil:
		return errFrom
	case errTo != nil:
		return errTo
	case from.name == "" || to.name == "":
		return syscall.EBUSY
	case from.node == nil:
		return syscall.ENOENT
	case slices.Contains(to.dirs, from.node):
		return syscall.EINVAL // the source is an ancestor of the target
	case to.node != nil && slices.Contains(from.dirs, to.node):
		return syscall.ENOTEMPTY // the target is an ancestor of the source
	case to.node == from.node:
		return nil
	case to.node != nil && from.node.isDir() && !to.node.isDir():
		return syscall.ENOTDIR
	case to.node != nil && !from.node.isDir() && to.node.isDir():
		return syscall.EISDIR
	case to.node != nil && to.node.isDir() && len(to.node.entries) > 0:
		return syscall.ENOTEMPTY
	}
	delete(from.parent().entries, from.name)
	to.parent().entries[to.name] = from.node
	m.touch(from.parent())
	m.touch(to.parent())
	return nil
}

// Stat returns a FileInfo describing name, following links.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	return m.stat("stat", name, true)
}

// LstatIfPossible returns a FileInfo describing name without following a link
// in its last element, and true: MemFS always can.
func (m *MemFS) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := m.stat("lstat", name, false)
	return fi, true, err
}

func (m *MemFS) stat(op, name string, followLast bool) (os.FileInfo, error) {
	m.lock()
	defer m.mu.Unlock()
	last := noFollow
	if followLast {
		last = follow
	}
	n, err := m.lookup(name, last)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return newFileInfo(baseName(name), n), nil
}

// lookup resolves name to an existing inode; m.mu must be held.
func (m *MemFS) lookup(name string, last int) (*inode, error) {
	r, err := m.resolve(name, last)
	if err != nil {
		return nil, err
	}
	if r.node == nil {
		return nil, syscall.ENOENT
	}
	return r.node, nil
}

// SymlinkIfPossible creates newname as a symbolic link to oldname. The target
// is stored as given, never cleaned or made absolute, and need not exist. An
// existing newname fails with fs.ErrExist, an empty target with
// fs.ErrNotExist, as on Linux. Errors are *os.LinkError.
func (m *MemFS) SymlinkIfPossible(oldname, newname string) error {
	m.lock()
	defer m.mu.Unlock()
	if err := m.symlink(oldname, newname); err != nil {
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (m *MemFS) symlink(target, name string) error {
	switch {
	case target == "":
		return syscall.ENOENT
	case strings.IndexByte(target, 0) >= 0:
		return syscall.EINVAL
	case len(target) >= maxPathLen:
		return syscall.ENAMETOOLONG
	}
	r, err := m.resolve(name, noFollow)
	switch {
	case err != nil:
		return err
	case r.name == "" || r.node != nil:
		return syscall.EEXIST
	}
	t := m.now()
	r.parent().entries[r.name] = &inode{mode: fs.ModeSymlink | 0o777, mtime: t, atime: t, target: target}
	m.touch(r.parent())
	return nil
}

// ReadlinkIfPossible returns the target of the symbolic link name exactly as
// it was made. A name that is not a link fails with syscall.EINVAL.
func (m *MemFS) ReadlinkIfPossible(name string) (string, error) {
	m.lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name, noFollow)
	if err == nil && !n.isLink() {
		err = syscall.EINVAL
	}
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return n.target, nil
}

// Chmod sets the permission, setuid, setgid and sticky bits of name,
// following links; the type bits are kept.
func (m *MemFS) Chmod(name string, mode os.FileMode) error {
	m.lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name, follow)
	if err != nil {
		return &fs.PathError{Op: "chmod", Path: name, Err: err}
	}
	n.mode = n.mode&fs.ModeType | mode&permBits
	return nil
}

// Chown checks that name exists, following links. MemFS keeps no owners, so
// it changes nothing.
func (m *MemFS) Chown(name string, uid, gid int) error {
	m.lock()
	defer m.mu.Unlock()
	if _, err := m.lookup(name, follow); err != nil {
		return &fs.PathError{Op: "chown", Path: name, Err: err}
	}
	return nil
}

// Chtimes sets the access and modification times of name, following links.
// A zero time.Time leaves that time unchanged, as with os.Chtimes.
func (m *MemFS) Chtimes(name string, atime, mtime time.Time) error {
	m.lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name, follow)
	if err != nil {
		return &fs.PathError{Op: "chtimes", Path: name, Err: err}
	}
	if !atime.IsZero() {
		n.atime = atime
	}
	if !mtime.IsZero() {
		n.mtime = mtime
	}
	return nil
}

// fileInfo is a snapshot of an inode, taken under the lock.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func newFileInfo(name string, n *inode) *fileInfo {
	return &fileInfo{name: name, size: n.size(), mode: n.mode, mtime: n.mtime}
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

// memFile is an open MemFS file or directory. Its state is guarded by the
// file system's mutex.
type memFile struct {
	fs       *MemFS
	name     string // as passed to OpenFile
	base     string // the name a FileInfo reports
	node     *inode
	readable bool
	writable bool
	append   bool
	closed   bool
	off      int64
	dirNames []string // remaining entries of a directory listing; nil before the first Readdir
}

// errWriteAtInAppendMode is what os.File.WriteAt returns in append mode.
var errWriteAtInAppendMode = errors.New("os: invalid use of WriteAt on file opened with O_APPEND")

// errNegativeOffset is what os.File returns for a negative ReadAt or WriteAt
// offset.
var errNegativeOffset = errors.New("negative offset")

// check reports whether op can run on f; f.fs.mu must be held.
func (f *memFile) check(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	return nil
}

func (f *memFile) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}

// Name returns the name the file was opened with.
func (f *memFile) Name() string { return f.name }

// Close closes the file; a second Close fails with fs.ErrClosed.
func (f *memFile) Close() error {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("close"); err != nil {
		return err
	}
	f.closed = true
	f.dirNames = nil
	return nil
}

// Sync does nothing but report a closed file.
func (f *memFile) Sync() error {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	return f.check("sync")
}

// Stat describes the open file, even after it was removed or renamed.
func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat"); err != nil {
		return nil, err
	}
	return newFileInfo(f.base, f.node), nil
}

// readCheck reports why f cannot be read; f.fs.mu must be held.
func (f *memFile) readCheck(op string) error {
	switch {
	case !f.readable:
		return f.pathErr(op, syscall.EBADF)
	case f.node.isDir():
		return f.pathErr(op, syscall.EISDIR)
	}
	return nil
}

func (f *memFile) Read(b []byte) (int, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil // as os.File, which then makes no system call
	}
	if err := f.readCheck("read"); err != nil {
		return 0, err
	}
	n, err := f.readAt(b, f.off)
	f.off += int64(n)
	return n, err
}

// ReadAt reads len(b) bytes at off and returns io.EOF whenever it reads
// fewer, as os.File does.
func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	switch {
	case off < 0:
		return 0, f.pathErr("readat", errNegativeOffset)
	case len(b) == 0:
		return 0, nil
	}
	if err := f.readCheck("read"); err != nil {
		return 0, err
	}
	n, err := f.readAt(b, off)
	if err == nil && n < len(b) {
		err = io.EOF
	}
	return n, err
}

// readAt copies from off; f.fs.mu must be held. Like read(2) it returns
// io.EOF only when it reads nothing into a non-empty b.
func (f *memFile) readAt(b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	return copy(b, f.node.data[off:]), nil
}

func (f *memFile) Seek(offset int64, whence int) (int64, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("seek"); err != nil {
		return 0, err
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		base = f.node.size()
	default:
		return 0, f.pathErr("seek", syscall.EINVAL)
	}
	if base+offset < 0 {
		return 0, f.pathErr("seek", syscall.EINVAL)
	}
	f.off = base + offset
	f.dirNames = nil // a seek restarts a directory listing
	return f.off, nil
}

func (f *memFile) Write(b []byte) (int, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.writable {
		return 0, f.pathErr("write", syscall.EBADF)
	}
	if f.append {
		f.off = int64(len(f.node.data))
	}
	n, err := f.writeAt(b, f.off)
	f.off += int64(n)
	return n, err
}

func (f *memFile) WriteAt(b []byte, off int64) (int, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	switch {
	case f.append:
		return 0, errWriteAtInAppendMode
	case off < 0:
		return 0, f.pathErr("writeat", errNegativeOffset)
	case len(b) == 0:
		return 0, nil
	case !f.writable:
		return 0, f.pathErr("write", syscall.EBADF)
	}
	return f.writeAt(b, off)
}

// writeAt writes b at off, filling any gap with zeros; f.fs.mu must be held.
func (f *memFile) writeAt(b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	end := off + int64(len(b))
	if off > maxFileSize || end > maxFileSize {
		return 0, f.pathErr("write", syscall.EFBIG)
	}
	if size := int64(len(f.node.data)); end > size {
		f.node.data = slices.Grow(f.node.data, int(end-size))[:end]
		if off > size {
			clear(f.node.data[size:off]) // the gap reads as zeros
		}
	}
	copy(f.node.data[off:], b)
	f.fs.touch(f.node)
	return len(b), nil
}

func (f *memFile) WriteString(s string) (int, error) {
	return f.Write([]byte(s))
}

// Truncate changes the size of the file; it fails with syscall.EINVAL on a
// handle not open for writing, as ftruncate(2) does.
func (f *memFile) Truncate(size int64) error {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate"); err != nil {
		return err
	}
	if !f.writable || size < 0 || f.node.isDir() {
		return f.pathErr("truncate", syscall.EINVAL)
	}
	if size > maxFileSize {
		return f.pathErr("truncate", syscall.EFBIG)
	}
	if size <= int64(len(f.node.data)) {
		clear(f.node.data[size:])
		f.node.data = f.node.data[:size]
	} else {
		old := len(f.node.data)
		f.node.data = slices.Grow(f.node.data, int(size)-old)[:size]
		clear(f.node.data[old:])
	}
	f.fs.touch(f.node)
	return nil
}

// Readdir lists the directory in name order, describing links themselves,
// as os.File.Readdir does: with count > 0 at most count entries and io.EOF
// at the end, otherwise all remaining entries.
func (f *memFile) Readdir(count int) ([]os.FileInfo, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("readdir"); err != nil {
		return nil, err
	}
	infos := []os.FileInfo{}
	err := f.readdir(count, func(name string, n *inode) {
		infos = append(infos, newFileInfo(name, n))
	})
	return infos, err
}

// Readdirnames is Readdir returning only names.
func (f *memFile) Readdirnames(count int) ([]string, error) {
	f.fs.lock()
	defer f.fs.mu.Unlock()
	if err := f.check("readdir"); err != nil {
		return nil, err
	}
	names := []string{}
	err := f.readdir(count, func(name string, _ *inode) {
		names = append(names, name)
	})
	return names, err
}

// readdir calls fn for up to count remaining entries (all when count <= 0);
// f.fs.mu must be held. The names are taken when a listing starts; entries
// removed since are skipped, entries added since are not seen.
func (f *memFile) readdir(count int, fn func(string, *inode)) error {
	if !f.node.isDir() {
		return f.pathErr("readdir", syscall.ENOTDIR)
	}
	if f.dirNames == nil {
		f.dirNames = slices.AppendSeq([]string{}, maps.Keys(f.node.entries))
		slices.Sort(f.dirNames)
	}
	seen := 0
	for len(f.dirNames) > 0 && (count <= 0 || seen < count) {
		name := f.dirNames[0]
		f.dirNames = f.dirNames[1:]
		if n := f.node.entries[name]; n != nil {
			fn(name, n)
			seen++
		}
	}
	if count > 0 && seen == 0 {
		return io.EOF
	}
	return nil
}
