package vfs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/afero"
)

// AferoFS returns an io/fs view of fsys. Its value implements [fs.StatFS],
// [fs.ReadDirFS], [fs.ReadFileFS] and [fs.ReadLinkFS], its files implement
// [io.Seeker], [io.ReaderAt] and [fs.ReadDirFile], and it passes
// [testing/fstest.TestFS] over [MemFS], [afero.MemMapFs] and [afero.OsFs],
// which afero.NewIOFS does not: ReadAt reports io.EOF on a short read even
// when the afero file does not, and directory entries come sorted by name.
//
// A name is valid when [fs.ValidPath] accepts it, it holds no backslash and
// [filepath.Localize] accepts it (so no NUL byte, and no reserved name on
// Windows); any other name fails with [fs.ErrInvalid]. A valid name is
// handed to fsys as the relative name it spells: "." is fsys's root,
// "css/a.css" is fsys's css/a.css. [MemFS] resolves every name from its root;
// an [afero.MemMapFs] tells "/a" and "a" apart, so create its files under
// relative names; root an [afero.OsFs] in a directory with
// afero.NewBasePathFs(afero.NewOsFs(), dir) or a wrapper of your own, as
// AferoFS(afero.NewOsFs()) itself sees the working directory. Errors are
// [*fs.PathError] values naming the caller's name, never fsys's, and wrap
// fsys's error, so errors.Is(err, fs.ErrNotExist) works.
//
// Symbolic links are followed as fsys follows them: like [os.DirFS], AferoFS
// over the OS file system is no barrier against a link that points out of
// the tree. ReadLink and Lstat use fsys's [afero.LinkReader] and
// [afero.Lstater] methods, and ReadLink of a name that exists but is no link
// fails with [fs.ErrInvalid] on every system. When fsys cannot read links
// (it has no ReadlinkIfPossible, or that returns [afero.ErrNoReadlink]), it
// is taken to hold none: Lstat is then Stat, and ReadLink of any existing
// name fails with [fs.ErrInvalid].
//
// The methods of one file are serialized, which keeps ReadAt correct next to
// Read even on afero files that implement it by moving the read offset.
// AferoFS adds no locking to fsys itself: it is as safe for concurrent use as
// fsys is.
func AferoFS(fsys afero.Fs) fs.FS {
	return &aferoFS{fsys: fsys}
}

type aferoFS struct {
	fsys afero.Fs
}

var (
	_ fs.StatFS     = (*aferoFS)(nil)
	_ fs.ReadDirFS  = (*aferoFS)(nil)
	_ fs.ReadFileFS = (*aferoFS)(nil)
	_ fs.ReadLinkFS = (*aferoFS)(nil)

	_ fs.ReadDirFile = (*aferoFile)(nil)
	_ io.Seeker      = (*aferoFile)(nil)
	_ io.ReaderAt    = (*aferoFile)(nil)
)

// localName checks name and returns the name fsys knows it by.
func localName(op, name string) (string, error) {
	if !fs.ValidPath(name) || strings.Contains(name, `\`) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	local, err := filepath.Localize(name)
	if err != nil {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return local, nil
}

// pathError returns err as an *fs.PathError naming name: one fsys returned
// keeps its Op and inner error, anything else is wrapped under op. The
// error fsys returned is never changed, as fsys may share it.
func pathError(op, name string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// namedInfo gives a FileInfo the base name of the caller's path, so that the
// root is "." whatever fsys calls it.
type namedInfo struct {
	fs.FileInfo
	name string
}

func (i namedInfo) Name() string { return i.name }

func withName(info fs.FileInfo, name string) fs.FileInfo {
	base := path.Base(name)
	if info.Name() == base {
		return info
	}
	return namedInfo{FileInfo: info, name: base}
}

func (a *aferoFS) Open(name string) (fs.File, error) {
	local, err := localName("open", name)
	if err != nil {
		return nil, err
	}
	f, err := a.fsys.Open(local)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	return &aferoFile{file: f, name: name}, nil
}

func (a *aferoFS) Stat(name string) (fs.FileInfo, error) {
	local, err := localName("stat", name)
	if err != nil {
		return nil, err
	}
	info, err := a.fsys.Stat(local)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	return withName(info, name), nil
}

func (a *aferoFS) Lstat(name string) (fs.FileInfo, error) {
	local, err := localName("lstat", name)
	if err != nil {
		return nil, err
	}
	var info fs.FileInfo
	if l, ok := a.fsys.(afero.Lstater); ok {
		info, _, err = l.LstatIfPossible(local)
	} else {
		info, err = a.fsys.Stat(local)
	}
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	return withName(info, name), nil
}

func (a *aferoFS) ReadLink(name string) (string, error) {
	local, err := localName("readlink", name)
	if err != nil {
		return "", err
	}
	if r, ok := a.fsys.(afero.LinkReader); ok {
		target, err := r.ReadlinkIfPossible(local)
		if err == nil {
			return target, nil
		}
		if !errors.Is(err, afero.ErrNoReadlink) {
			// Tell "not a link" apart from other failures the same way on
			// every system: os.Readlink says EINVAL, which is not
			// fs.ErrInvalid, and other file systems say other things.
			if info, lerr := a.Lstat(name); lerr == nil && info.Mode().Type() != fs.ModeSymlink {
				return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
			}
			return "", pathError("readlink", name, err)
		}
	}
	// fsys holds no links: name is either missing or not a link.
	if _, err := a.fsys.Stat(local); err != nil {
		return "", pathError("readlink", name, err)
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
}

func (a *aferoFS) ReadDir(name string) ([]fs.DirEntry, error) {
	local, err := localName("readdir", name)
	if err != nil {
		return nil, err
	}
	f, err := a.fsys.Open(local)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	defer f.Close()
	return readDir(f, name)
}

func (a *aferoFS) ReadFile(name string) ([]byte, error) {
	local, err := localName("read", name)
	if err != nil {
		return nil, err
	}
	f, err := a.fsys.Open(local)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	defer f.Close()
	var size int
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && int64(int(info.Size())) == info.Size() {
		size = int(info.Size())
	}
	data := make([]byte, 0, size+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, pathError("read", name, err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// readDir reads every entry of f, sorted by name.
func readDir(f afero.File, name string) ([]fs.DirEntry, error) {
	infos, err := f.Readdir(-1)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	entries := make([]fs.DirEntry, len(infos))
	for i, info := range infos {
		entries[i] = fs.FileInfoToDirEntry(info)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// aferoFile is a file opened through AferoFS. name is the caller's name.
type aferoFile struct {
	name string

	mu      sync.Mutex
	file    afero.File
	entries []fs.DirEntry // read on the first ReadDir, sorted
	listed  bool          // entries holds the whole directory
}

// fileError returns err with the caller's name, letting io.EOF through.
// It turns io.ErrUnexpectedEOF into io.EOF: mem.File reports a read past
// the end so, where os.File reports io.EOF.
func (f *aferoFile) fileError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if err == io.ErrUnexpectedEOF {
		return io.EOF
	}
	return pathError(op, f.name, err)
}

func (f *aferoFile) Stat() (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, err := f.file.Stat()
	if err != nil {
		return nil, f.fileError("stat", err)
	}
	return withName(info, f.name), nil
}

func (f *aferoFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.file.Read(p)
	return n, f.fileError("read", err)
}

// ReadAt reads len(p) bytes at off, or fewer with a non-nil error: io.EOF
// at the end of the file, even from an afero file that reports a short
// read as success.
func (f *aferoFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: f.name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(p) {
		m, err := f.file.ReadAt(p[n:], off+int64(n))
		n += m
		if err != nil {
			return n, f.fileError("read", err)
		}
		if m == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}

func (f *aferoFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pos, err := f.file.Seek(offset, whence)
	return pos, f.fileError("seek", err)
}

// ReadDir reads the directory as fs.ReadDirFile specifies: with n > 0 at
// most n entries, and io.EOF once none are left; with n <= 0 all the rest,
// and a nil error even when none are left.
func (f *aferoFile) ReadDir(n int) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.listed {
		entries, err := readDir(f.file, f.name)
		if err != nil {
			return nil, err
		}
		f.entries, f.listed = entries, true
	}
	if n <= 0 || n > len(f.entries) {
		if n > 0 && len(f.entries) == 0 {
			return nil, io.EOF
		}
		n = len(f.entries)
	}
	list := f.entries[:n:n]
	f.entries = f.entries[n:]
	return list, nil
}

func (f *aferoFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fileError("close", f.file.Close())
}
