package vfs

import (
	"io"
	"io/fs"
	"strings"
)

// Prefix returns an [fs.FS] that shows the tree of fsys under one extra path
// segment: its root holds exactly one directory, segment, which is the root
// of fsys, so segment/css/a.css opens fsys's css/a.css. This is how stampfs
// serves static/<stamp>/… without a symlink.
//
// Names are checked first: one that [fs.ValidPath] rejects, or that holds a
// backslash or a NUL byte, fails with [fs.ErrInvalid]; a valid name not
// under segment fails with [fs.ErrNotExist]. Every error is an
// [*fs.PathError] naming the caller's path. The result implements
// [fs.StatFS], [fs.ReadDirFS], [fs.ReadFileFS], [fs.ReadLinkFS] and
// [fs.SubFS] whatever fsys implements, and passes [testing/fstest.TestFS]
// when fsys does. Sub(segment) returns fsys itself. The root and segment
// report the FileInfo of fsys's root, renamed.
//
// Prefix adds no state: it is as safe for concurrent use as fsys, and, like
// [fs.Sub], no barrier against symbolic links that fsys follows.
//
// segment must satisfy [ValidSegment]; otherwise Prefix returns an
// [*fs.PathError] wrapping [fs.ErrInvalid].
func Prefix(fsys fs.FS, segment string) (fs.FS, error) {
	if !ValidSegment(segment) || fsys == nil {
		return nil, &fs.PathError{Op: "prefix", Path: segment, Err: fs.ErrInvalid}
	}
	return &prefixFS{fsys: fsys, seg: segment}, nil
}

var (
	_ fs.StatFS     = (*prefixFS)(nil)
	_ fs.ReadDirFS  = (*prefixFS)(nil)
	_ fs.ReadFileFS = (*prefixFS)(nil)
	_ fs.ReadLinkFS = (*prefixFS)(nil)
	_ fs.SubFS      = (*prefixFS)(nil)

	_ fs.ReadDirFile = (*prefixRoot)(nil)
	_ fs.ReadDirFile = (*segmentDir)(nil)
)

type prefixFS struct {
	fsys fs.FS
	seg  string
}

// inner maps the caller's name to the name in fsys, or reports root for
// ".", the directory that holds only the segment and that fsys knows
// nothing of.
func (p *prefixFS) inner(op, name string) (inner string, root bool, err error) {
	if !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00") {
		return "", false, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	switch {
	case name == ".":
		return "", true, nil
	case name == p.seg:
		return ".", false, nil
	case len(name) > len(p.seg)+1 && name[len(p.seg)] == '/' && name[:len(p.seg)] == p.seg:
		return name[len(p.seg)+1:], false, nil
	}
	return "", false, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

// outer maps a name in fsys back to the caller's name.
func (p *prefixFS) outer(inner string) string {
	if inner == "." {
		return p.seg
	}
	return p.seg + "/" + inner
}

// fixErr makes a *fs.PathError from fsys name the caller's path: a valid
// name in fsys gets the segment in front, anything else becomes name. The
// error fsys returned is not changed.
func (p *prefixFS) fixErr(name string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		path := name
		if fs.ValidPath(pe.Path) {
			path = p.outer(pe.Path)
		}
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return err
}

// rootInfo returns the FileInfo of fsys's root under name.
func (p *prefixFS) rootInfo(op, name string) (fs.FileInfo, error) {
	info, err := fs.Stat(p.fsys, ".")
	if err != nil {
		return nil, pathError(op, name, err)
	}
	return withName(info, name), nil
}

func (p *prefixFS) Open(name string) (fs.File, error) {
	inner, root, err := p.inner("open", name)
	if err != nil {
		return nil, err
	}
	if root {
		info, err := p.rootInfo("open", ".")
		if err != nil {
			return nil, err
		}
		return &prefixRoot{fsys: p, info: info}, nil
	}
	f, err := p.fsys.Open(inner)
	if err != nil {
		return nil, p.fixErr(name, err)
	}
	if inner == "." {
		return &segmentDir{File: f, prefix: p}, nil
	}
	return f, nil
}

func (p *prefixFS) Stat(name string) (fs.FileInfo, error) {
	inner, root, err := p.inner("stat", name)
	if err != nil {
		return nil, err
	}
	if root || inner == "." {
		return p.rootInfo("stat", name)
	}
	info, err := fs.Stat(p.fsys, inner)
	return info, p.fixErr(name, err)
}

func (p *prefixFS) Lstat(name string) (fs.FileInfo, error) {
	inner, root, err := p.inner("lstat", name)
	if err != nil {
		return nil, err
	}
	if root {
		return p.rootInfo("lstat", name)
	}
	info, err := fs.Lstat(p.fsys, inner)
	if err != nil {
		return nil, p.fixErr(name, err)
	}
	if inner == "." {
		return withName(info, name), nil
	}
	return info, nil
}

func (p *prefixFS) ReadLink(name string) (string, error) {
	inner, root, err := p.inner("readlink", name)
	if err != nil {
		return "", err
	}
	if root {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := fs.ReadLink(p.fsys, inner)
	return target, p.fixErr(name, err)
}

func (p *prefixFS) ReadDir(name string) ([]fs.DirEntry, error) {
	inner, root, err := p.inner("readdir", name)
	if err != nil {
		return nil, err
	}
	if root {
		info, err := p.rootInfo("readdir", ".")
		if err != nil {
			return nil, err
		}
		return []fs.DirEntry{p.segEntry(info)}, nil
	}
	entries, err := fs.ReadDir(p.fsys, inner)
	return entries, p.fixErr(name, err)
}

func (p *prefixFS) ReadFile(name string) ([]byte, error) {
	inner, root, err := p.inner("read", name)
	if err != nil {
		return nil, err
	}
	if root {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	data, err := fs.ReadFile(p.fsys, inner)
	return data, p.fixErr(name, err)
}

// Sub returns the tree under dir: p itself for ".", fsys for the segment,
// and fs.Sub of fsys below it.
func (p *prefixFS) Sub(dir string) (fs.FS, error) {
	inner, root, err := p.inner("sub", dir)
	if err != nil {
		return nil, err
	}
	if root {
		return p, nil
	}
	sub, err := fs.Sub(p.fsys, inner)
	return sub, p.fixErr(dir, err)
}

// segEntry returns the root's one entry: the segment, described by the
// FileInfo of fsys's root.
func (p *prefixFS) segEntry(rootInfo fs.FileInfo) fs.DirEntry {
	return fs.FileInfoToDirEntry(withName(rootInfo, p.seg))
}

// prefixRoot is the root directory of a Prefix, which lists the segment.
type prefixRoot struct {
	fsys *prefixFS
	info fs.FileInfo // fsys's root, named "."
	read bool        // the one entry was returned
}

func (r *prefixRoot) Stat() (fs.FileInfo, error) { return r.info, nil }

func (r *prefixRoot) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}
}

func (r *prefixRoot) Close() error { return nil }

func (r *prefixRoot) ReadDir(n int) ([]fs.DirEntry, error) {
	if r.read {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	r.read = true
	return []fs.DirEntry{r.fsys.segEntry(r.info)}, nil
}

// segmentDir is fsys's root opened as the segment: its Stat has the
// segment's name and its errors name the caller's path.
type segmentDir struct {
	fs.File
	prefix *prefixFS
}

func (d *segmentDir) Stat() (fs.FileInfo, error) {
	info, err := d.File.Stat()
	if err != nil {
		return nil, pathError("stat", d.prefix.seg, err)
	}
	return withName(info, d.prefix.seg), nil
}

func (d *segmentDir) ReadDir(n int) ([]fs.DirEntry, error) {
	dir, ok := d.File.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: d.prefix.seg, Err: fs.ErrInvalid}
	}
	entries, err := dir.ReadDir(n)
	if err != nil && err != io.EOF {
		err = pathError("readdir", d.prefix.seg, err)
	}
	return entries, err
}
