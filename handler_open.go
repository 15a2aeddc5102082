package stampfs

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"
)

// reuseRoot returns an os.Root for h.dir: old's while h.dir still names the
// directory it holds, so that a Refresh does not leave one more descriptor
// to the garbage collector; a new one once the directory was replaced.
func (h *Handler) reuseRoot(old *state) (*os.Root, error) {
	if old != nil && old.root != nil {
		held, err := old.root.Stat(".")
		if err == nil {
			now, err := os.Stat(h.dir)
			if err == nil && os.SameFile(held, now) {
				return old.root, nil
			}
		}
	}
	return os.OpenRoot(h.dir)
}

// statFile is a file that the open functions below return with its FileInfo.
type statFile interface {
	io.ReadCloser
	Stat() (fs.FileInfo, error)
}

// withInfo returns the file an open call gave and its FileInfo, closing the
// file when Stat fails.
func withInfo(f statFile, err error) (io.ReadCloser, fs.FileInfo, error) {
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// openInRoot opens name through root, which refuses to leave the directory,
// without following a link as the last element and without blocking on a
// FIFO or device (whose FileInfo the caller then refuses).
func openInRoot(root *os.Root, name string) (io.ReadCloser, fs.FileInfo, error) {
	return withInfo(root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|noFollowFlags, 0))
}

// openAfero opens name under dir on fsys, refusing any symbolic link on the
// way, and anything but a regular file at the end (a FIFO would block the
// open), where fsys can tell.
func openAfero(fsys afero.Fs, dir, name string) (io.ReadCloser, fs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		p := dir
		segs := strings.Split(name, "/")
		for i, seg := range segs {
			p = filepath.Join(p, seg)
			fi, lstatCalled, err := l.LstatIfPossible(p)
			if err != nil {
				return nil, nil, err
			}
			if lstatCalled && fi.Mode()&fs.ModeSymlink != 0 || i == len(segs)-1 && !fi.Mode().IsRegular() {
				return nil, nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
		}
	}
	return withInfo(fsys.Open(filepath.Join(dir, filepath.FromSlash(name))))
}

// openFS opens name on fsys, refusing any symbolic link on the way where
// fsys can tell.
func openFS(fsys fs.FS, name string) (io.ReadCloser, fs.FileInfo, error) {
	if _, ok := fsys.(fs.ReadLinkFS); ok {
		p := ""
		for _, seg := range strings.Split(name, "/") {
			p = path.Join(p, seg)
			fi, err := fs.Lstat(fsys, p)
			if err != nil {
				return nil, nil, err
			}
			if fi.Mode()&fs.ModeSymlink != 0 || p == name && !fi.Mode().IsRegular() {
				return nil, nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
		}
	}
	return withInfo(fsys.Open(name))
}
