package vfstest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// ErrInjected is the error a [Rule] with a nil Err injects.
var ErrInjected = errors.New("vfstest: injected fault")

// Op names one operation of an [afero.Fs], an [afero.Symlinker] or an
// [afero.File] that a [FaultFS] can fail.
type Op int

// The operations a [FaultFS] counts and can fail. The Fs and Symlinker
// methods come first, then the methods of the files it opens.
const (
	OpCreate    Op = iota + 1 // Fs.Create
	OpMkdir                   // Fs.Mkdir
	OpMkdirAll                // Fs.MkdirAll
	OpOpen                    // Fs.Open
	OpOpenFile                // Fs.OpenFile
	OpRemove                  // Fs.Remove
	OpRemoveAll               // Fs.RemoveAll
	OpRename                  // Fs.Rename; its Rule.Path matches the old or the new name
	OpStat                    // Fs.Stat
	OpChmod                   // Fs.Chmod
	OpChown                   // Fs.Chown
	OpChtimes                 // Fs.Chtimes
	OpLstat                   // Symlinker.LstatIfPossible
	OpSymlink                 // Symlinker.SymlinkIfPossible; its Rule.Path matches the new link's name
	OpReadlink                // Symlinker.ReadlinkIfPossible
	OpRead                    // File.Read and File.ReadAt
	OpWrite                   // File.Write, File.WriteAt and File.WriteString
	OpSeek                    // File.Seek
	OpReadDir                 // File.Readdir and File.Readdirnames
	OpFileStat                // File.Stat
	OpSync                    // File.Sync
	OpTruncate                // File.Truncate
	OpClose                   // File.Close
	opLimit
)

var opNames = [...]string{
	OpCreate:    "Create",
	OpMkdir:     "Mkdir",
	OpMkdirAll:  "MkdirAll",
	OpOpen:      "Open",
	OpOpenFile:  "OpenFile",
	OpRemove:    "Remove",
	OpRemoveAll: "RemoveAll",
	OpRename:    "Rename",
	OpStat:      "Stat",
	OpChmod:     "Chmod",
	OpChown:     "Chown",
	OpChtimes:   "Chtimes",
	OpLstat:     "Lstat",
	OpSymlink:   "Symlink",
	OpReadlink:  "Readlink",
	OpRead:      "Read",
	OpWrite:     "Write",
	OpSeek:      "Seek",
	OpReadDir:   "ReadDir",
	OpFileStat:  "File.Stat",
	OpSync:      "Sync",
	OpTruncate:  "Truncate",
	OpClose:     "Close",
}

// errOps holds the Op field the os package would put into the error.
var errOps = [...]string{
	OpCreate:    "open",
	OpMkdir:     "mkdir",
	OpMkdirAll:  "mkdir",
	OpOpen:      "open",
	OpOpenFile:  "open",
	OpRemove:    "remove",
	OpRemoveAll: "unlinkat",
	OpRename:    "rename",
	OpStat:      "stat",
	OpChmod:     "chmod",
	OpChown:     "chown",
	OpChtimes:   "chtimes",
	OpLstat:     "lstat",
	OpSymlink:   "symlink",
	OpReadlink:  "readlink",
	OpRead:      "read",
	OpWrite:     "write",
	OpSeek:      "seek",
	OpReadDir:   "readdirent",
	OpFileStat:  "stat",
	OpSync:      "sync",
	OpTruncate:  "truncate",
	OpClose:     "close",
}

// String returns the name of the method op stands for, such as "Rename" or
// "Read".
func (op Op) String() string {
	if op > 0 && op < opLimit {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// A Rule tells a [FaultFS] which calls to fail and how.
type Rule struct {
	// Op is the operation to fail.
	Op Op
	// Path is the name the call must concern, compared after
	// filepath.Clean; "" matches any name. A file's methods concern the
	// name the file was opened with.
	Path string
	// Nth is the 1-based number of the matching call to fail, counted from
	// the moment the rule is injected, calls other rules failed included;
	// 0 fails every matching call.
	Nth int
	// Err is the error the failed call wraps; nil means ErrInjected.
	Err error
}

// FaultFS is an [afero.Fs] and [afero.Symlinker] that forwards every call to
// a base file system, counts calls by operation and name, and fails the calls
// its rules choose. A failed call does not reach the base, so it changes
// nothing, with one exception: a failed File.Close still closes the base
// file, as a failed close(2) does. The error has the shape the os package
// gives it, wrapping the rule's error so that errors.Is finds it: an
// [*os.LinkError] naming both names for Rename and Symlink, an
// [*fs.PathError] naming the path for everything else.
//
// Symlinker calls go to the base when it has the method; otherwise Lstat
// falls back to Stat, and Symlink and Readlink fail with [afero.ErrNoSymlink]
// and [afero.ErrNoReadlink] as afero's own wrappers do.
//
// A FaultFS is safe for concurrent use when its base is. It must be made
// with [NewFaultFS].
type FaultFS struct {
	base afero.Fs

	mu    sync.Mutex
	rules []*ruleState
	calls map[callKey]int
}

type ruleState struct {
	Rule
	seen int
}

type callKey struct {
	op   Op
	path string
}

var (
	_ afero.Fs        = (*FaultFS)(nil)
	_ afero.Symlinker = (*FaultFS)(nil)
	_ afero.File      = (*faultFile)(nil)
)

// NewFaultFS returns a FaultFS over base with no rules.
func NewFaultFS(base afero.Fs) *FaultFS {
	return &FaultFS{base: base, calls: make(map[callKey]int)}
}

// Inject adds r to the rules. When several rules match one call, the one
// injected first decides its error.
func (f *FaultFS) Inject(r Rule) {
	if r.Path != "" {
		r.Path = filepath.Clean(r.Path)
	}
	if r.Err == nil {
		r.Err = ErrInjected
	}
	f.mu.Lock()
	f.rules = append(f.rules, &ruleState{Rule: r})
	f.mu.Unlock()
}

// Reset removes every rule and sets every count back to zero.
func (f *FaultFS) Reset() {
	f.mu.Lock()
	f.rules = nil
	clear(f.calls)
	f.mu.Unlock()
}

// Calls reports how many op calls concerning path were made since NewFaultFS
// or the last Reset, failed ones included; path "" counts every op call. A
// Rename concerns both of its names.
func (f *FaultFS) Calls(op Op, path string) int {
	if path != "" {
		path = filepath.Clean(path)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[callKey{op, path}]
}

// check counts a call of op concerning names and returns the rule's error
// when a rule fails it.
func (f *FaultFS) check(op Op, names ...string) error {
	for i, name := range names {
		names[i] = filepath.Clean(name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[callKey{op, ""}]++
	for i, name := range names {
		if i > 0 && name == names[0] {
			break // rename onto itself counts once
		}
		f.calls[callKey{op, name}]++
	}
	var fail error
	for _, r := range f.rules {
		if r.Op != op || !matches(r.Path, names) {
			continue
		}
		r.seen++
		if fail == nil && (r.Nth == 0 || r.seen == r.Nth) {
			fail = r.Err
		}
	}
	return fail
}

func matches(path string, names []string) bool {
	if path == "" {
		return true
	}
	for _, name := range names {
		if name == path {
			return true
		}
	}
	return false
}

func pathErr(op Op, name string, err error) error {
	return &fs.PathError{Op: errOps[op], Path: name, Err: err}
}

// Name returns "FaultFS".
func (f *FaultFS) Name() string { return "FaultFS" }

// Create forwards to the base unless a rule fails OpCreate.
func (f *FaultFS) Create(name string) (afero.File, error) {
	if err := f.check(OpCreate, name); err != nil {
		return nil, pathErr(OpCreate, name, err)
	}
	file, err := f.base.Create(name)
	return f.wrap(name, file, err)
}

// Mkdir forwards to the base unless a rule fails OpMkdir.
func (f *FaultFS) Mkdir(name string, perm os.FileMode) error {
	if err := f.check(OpMkdir, name); err != nil {
		return pathErr(OpMkdir, name, err)
	}
	return f.base.Mkdir(name, perm)
}

// MkdirAll forwards to the base unless a rule fails OpMkdirAll.
func (f *FaultFS) MkdirAll(path string, perm os.FileMode) error {
	if err := f.check(OpMkdirAll, path); err != nil {
		return pathErr(OpMkdirAll, path, err)
	}
	return f.base.MkdirAll(path, perm)
}

// Open forwards to the base unless a rule fails OpOpen.
func (f *FaultFS) Open(name string) (afero.File, error) {
	if err := f.check(OpOpen, name); err != nil {
		return nil, pathErr(OpOpen, name, err)
	}
	file, err := f.base.Open(name)
	return f.wrap(name, file, err)
}

// OpenFile forwards to the base unless a rule fails OpOpenFile.
func (f *FaultFS) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if err := f.check(OpOpenFile, name); err != nil {
		return nil, pathErr(OpOpenFile, name, err)
	}
	file, err := f.base.OpenFile(name, flag, perm)
	return f.wrap(name, file, err)
}

// Remove forwards to the base unless a rule fails OpRemove.
func (f *FaultFS) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return pathErr(OpRemove, name, err)
	}
	return f.base.Remove(name)
}

// RemoveAll forwards to the base unless a rule fails OpRemoveAll.
func (f *FaultFS) RemoveAll(path string) error {
	if err := f.check(OpRemoveAll, path); err != nil {
		return pathErr(OpRemoveAll, path, err)
	}
	return f.base.RemoveAll(path)
}

// Rename forwards to the base unless a rule fails OpRename for oldname or
// newname.
func (f *FaultFS) Rename(oldname, newname string) error {
	if err := f.check(OpRename, oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return f.base.Rename(oldname, newname)
}

// Stat forwards to the base unless a rule fails OpStat.
func (f *FaultFS) Stat(name string) (os.FileInfo, error) {
	if err := f.check(OpStat, name); err != nil {
		return nil, pathErr(OpStat, name, err)
	}
	return f.base.Stat(name)
}

// Chmod forwards to the base unless a rule fails OpChmod.
func (f *FaultFS) Chmod(name string, mode os.FileMode) error {
	if err := f.check(OpChmod, name); err != nil {
		return pathErr(OpChmod, name, err)
	}
	return f.base.Chmod(name, mode)
}

// Chown forwards to the base unless a rule fails OpChown.
func (f *FaultFS) Chown(name string, uid, gid int) error {
	if err := f.check(OpChown, name); err != nil {
		return pathErr(OpChown, name, err)
	}
	return f.base.Chown(name, uid, gid)
}

// Chtimes forwards to the base unless a rule fails OpChtimes.
func (f *FaultFS) Chtimes(name string, atime, mtime time.Time) error {
	if err := f.check(OpChtimes, name); err != nil {
		return pathErr(OpChtimes, name, err)
	}
	return f.base.Chtimes(name, atime, mtime)
}

// LstatIfPossible forwards to the base's LstatIfPossible, or to its Stat
// when it has none, unless a rule fails OpLstat.
func (f *FaultFS) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if err := f.check(OpLstat, name); err != nil {
		return nil, false, pathErr(OpLstat, name, err)
	}
	if l, ok := f.base.(afero.Lstater); ok {
		return l.LstatIfPossible(name)
	}
	info, err := f.base.Stat(name)
	return info, false, err
}

// SymlinkIfPossible forwards to the base unless a rule fails OpSymlink for
// newname. A base without SymlinkIfPossible yields an [*os.LinkError]
// wrapping [afero.ErrNoSymlink].
func (f *FaultFS) SymlinkIfPossible(oldname, newname string) error {
	if err := f.check(OpSymlink, newname); err != nil {
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: err}
	}
	if l, ok := f.base.(afero.Linker); ok {
		return l.SymlinkIfPossible(oldname, newname)
	}
	return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: afero.ErrNoSymlink}
}

// ReadlinkIfPossible forwards to the base unless a rule fails OpReadlink. A
// base without ReadlinkIfPossible yields an [*fs.PathError] wrapping
// [afero.ErrNoReadlink].
func (f *FaultFS) ReadlinkIfPossible(name string) (string, error) {
	if err := f.check(OpReadlink, name); err != nil {
		return "", pathErr(OpReadlink, name, err)
	}
	if r, ok := f.base.(afero.LinkReader); ok {
		return r.ReadlinkIfPossible(name)
	}
	return "", pathErr(OpReadlink, name, afero.ErrNoReadlink)
}

func (f *FaultFS) wrap(name string, file afero.File, err error) (afero.File, error) {
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fsys: f, name: name}, nil
}

// faultFile counts and fails the methods of a file a FaultFS opened. Its
// name is the one the file was opened with, which is what rules match.
type faultFile struct {
	afero.File
	fsys *FaultFS
	name string
}

func (f *faultFile) fail(op Op) error {
	if err := f.fsys.check(op, f.name); err != nil {
		return pathErr(op, f.name, err)
	}
	return nil
}

func (f *faultFile) Read(p []byte) (int, error) {
	if err := f.fail(OpRead); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fail(OpRead); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fail(OpWrite); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fail(OpWrite); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) WriteString(s string) (int, error) {
	if err := f.fail(OpWrite); err != nil {
		return 0, err
	}
	return f.File.WriteString(s)
}

func (f *faultFile) Seek(offset int64, whence int) (int64, error) {
	if err := f.fail(OpSeek); err != nil {
		return 0, err
	}
	return f.File.Seek(offset, whence)
}

func (f *faultFile) Readdir(n int) ([]os.FileInfo, error) {
	if err := f.fail(OpReadDir); err != nil {
		return nil, err
	}
	return f.File.Readdir(n)
}

func (f *faultFile) Readdirnames(n int) ([]string, error) {
	if err := f.fail(OpReadDir); err != nil {
		return nil, err
	}
	return f.File.Readdirnames(n)
}

func (f *faultFile) Stat() (os.FileInfo, error) {
	if err := f.fail(OpFileStat); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *faultFile) Sync() error {
	if err := f.fail(OpSync); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.fail(OpTruncate); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *faultFile) Close() error {
	fault := f.fail(OpClose)
	err := f.File.Close()
	if fault != nil {
		return fault
	}
	return err
}
