package stampfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/internal/gitref"
	"github.com/stampfs/stampfs/vfs"
)

// Strategy names how Scan computes a stamp.
type Strategy string

// The strategies Scan knows. The zero Strategy means Content.
//
// Content: the first 12 lowercase hex digits of the SHA-256 of the lines
// "sha256sum ./NAME" prints for every counted file, in bytewise order of the
// names, with GNU coreutils' escaping of names that hold a backslash, newline
// or carriage return. It is the same on every machine and file system that
// holds the same bytes under the same names; an empty directory's is
// "e3b0c44298fc".
//
// Mtime: the newest modification time of the counted files in whole Unix
// seconds, in decimal; "0" for a directory without counted files. Scan warns
// through ScanOptions.Logger when the times look made up: all equal with two
// or more files, zero, 0 or 1 s after the epoch, or in the future.
//
// Git: the first 12 hex digits of the commit HEAD names in the git
// repository holding the directory, found as git finds it (dir/.git, then
// .git in each parent, as a directory or as a "gitdir: PATH" file) and read
// from HEAD, loose refs, packed-refs and a worktree's commondir, without
// running git. No repository, no HEAD, and an unborn branch or missing ref
// are errors wrapping fs.ErrNotExist; a malformed HEAD, ref, gitdir or
// commondir file wraps fs.ErrInvalid; a reftable repository wraps
// errors.ErrUnsupported.
//
// Fixed: ScanOptions.Version, which must be a valid stamp (see
// vfs.ValidSegment) or Scan returns an error wrapping ErrBadStamp.
const (
	Content Strategy = "content" // SHA-256 over every counted file (default)
	Mtime   Strategy = "mtime"   // newest mtime, in whole Unix seconds
	Git     Strategy = "git"     // the commit HEAD names, read from .git files
	Fixed   Strategy = "fixed"   // ScanOptions.Version, validated
)

// ErrBadStamp is returned (wrapped) for a string that is not a valid stamp.
var ErrBadStamp = errors.New("stampfs: bad stamp")

// ScanOptions configures Scan. A nil *ScanOptions means the zero value.
type ScanOptions struct {
	Strategy Strategy     // zero means Content
	Version  string       // the stamp for Fixed; with another strategy, an error
	Hash     bool         // record every file's SHA-256 even when the strategy does not need it
	Logger   *slog.Logger // nil is silent

	// Progress, when not nil, is told how the work goes: about every
	// 150 ms from a goroutine of the scan's own, then once more with
	// Progress.Done set when the work is over, successful or not, on the
	// goroutine that called Scan or Publish before it returns. The calls
	// never overlap. Progress must return quickly: the next report waits
	// for it, and the last one delays the return.
	Progress func(Progress)
}

// File is one counted file of a Snapshot.
type File struct {
	Name    string    // slash-separated path relative to the scanned directory
	Size    int64     // bytes
	ModTime time.Time // as the file system reports it
	SHA256  [32]byte  // zero unless the strategy reads content or ScanOptions.Hash is set
}

// Snapshot is the immutable result of Scan. Its methods are safe for
// concurrent use. A zero Snapshot has an empty stamp and no files; real ones
// come from Scan.
type Snapshot struct {
	stamp    string
	strategy Strategy
	files    []File     // sorted bytewise by Name
	stats    []liveStat // files[i]'s in stats[i], when scan was asked for them
}

// liveStat is what the file system tells of a counted file beyond its size
// and mtime: its identity and change time, zero where the Fs does not say.
// The version store's hash cache compares them, as git's index does.
type liveStat struct {
	dev, ino uint64
	ctime    int64 // nanoseconds since the epoch
}

// Scan walks dir on fsys and returns its snapshot: the stamp opts.Strategy
// computes and the table of counted files. A nil opts means the zero
// ScanOptions: the Content strategy.
//
// Counted files are the regular files below dir whose slash path relative to
// dir has no segment starting with "."; dir's own path may hold such
// segments. Symbolic links below dir are neither followed nor counted, so a
// stamp link dir/<stamp> -> . changes nothing and link cycles do not matter;
// dir itself may be a link. Directories' own times never count.
//
// Scan learns an entry's type from the Fs's Lstat when it implements
// afero.Lstater, and from its Readdir otherwise. afero.OsFs, MemMapFs,
// BasePathFs, ReadOnlyFs, CopyOnWriteFs and vfstest.MemFS have Lstat;
// afero.FromIOFS has not, but over os.DirFS or fstest.MapFS its Readdir
// reports links as links. On an Fs that has neither, links are taken for
// what they point to, and a directory cycle ends in an error wrapping
// syscall.ELOOP 255 directories down.
//
// The Content strategy, and ScanOptions.Hash with any strategy, read every
// counted file and record its SHA-256; File.Size is then the number of bytes
// hashed. On afero.OsFs, Scan may take a faster platform-specific walk that
// gives the same table and errors.
//
// Errors: an empty or missing dir wraps fs.ErrNotExist; a dir that is not a
// directory is an *fs.PathError wrapping syscall.ENOTDIR; a file or
// subdirectory that cannot be listed, opened or read is an *fs.PathError
// whose Path is filepath.Join(dir, filepath.FromSlash(name)), wrapping the
// cause (fs.ErrPermission for a permission denied). When several fail, the
// error is the first a depth-first walk in the Fs's directory order meets,
// each directory's entries lstat'ed before its subdirectories are entered;
// if the walk succeeds, the first file in name order that cannot be opened
// or read. An unknown Strategy or a bad Fixed Version wraps
// ErrBadStamp; the Git strategy's errors are listed at Git.
func Scan(fsys afero.Fs, dir string, opts *ScanOptions) (*Snapshot, error) {
	return scan(fsys, dir, opts, false)
}

// scan is Scan; with stat set, the snapshot also records every file's
// liveStat, for the version store's hash cache.
func scan(fsys afero.Fs, dir string, opts *ScanOptions, stat bool) (*Snapshot, error) {
	var o ScanOptions
	if opts != nil {
		o = *opts
	}
	m := startMeter(o.Progress)
	defer m.finish() // on every error; once the walk is over, the call below
	strategy := o.Strategy
	if strategy == "" {
		strategy = Content
	}
	switch strategy {
	case Content, Mtime, Git:
		if o.Version != "" {
			return nil, fmt.Errorf("%w: ScanOptions.Version %q is for the Fixed strategy, not %s: %w", ErrBadStamp, o.Version, strategy, fs.ErrInvalid)
		}
	case Fixed:
		if !vfs.ValidSegment(o.Version) {
			return nil, fmt.Errorf("%w: fixed version %q is not 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot", ErrBadStamp, o.Version)
		}
	default:
		return nil, fmt.Errorf("%w: unknown strategy %q (want content, mtime, git or fixed)", ErrBadStamp, string(strategy))
	}

	if dir == "" {
		// os.Stat("") fails, but MemMapFs reads "" as its root: refuse it
		// everywhere rather than scan whatever an Fs makes of it.
		return nil, fmt.Errorf("stampfs: scan: empty directory name: %w", fs.ErrNotExist)
	}

	hash := o.Hash || strategy == Content
	var files []File
	var stats []liveStat
	var err error
	if _, isOS := fsys.(*afero.OsFs); isOS && osWalk != nil {
		files, stats, err = osWalk(dir, hash, stat, m)
	} else {
		files, stats, err = walkPortable(fsys, dir, hash, stat, m)
	}
	if err == nil {
		m.total(files)
	}
	// Done before the stamp, whose warnings would otherwise land in the
	// middle of a progress line.
	m.finish()
	if err != nil {
		return nil, err
	}

	var stamp string
	switch strategy {
	case Content:
		stamp = contentStamp(files)
	case Mtime:
		stamp, err = mtimeStamp(files, o.Logger, dir)
		if err != nil {
			return nil, err
		}
	case Git:
		id, err := gitref.Head(fsys, dir)
		if err != nil {
			return nil, err
		}
		stamp = id[:12]
	case Fixed:
		stamp = o.Version
	}
	return &Snapshot{stamp: stamp, strategy: strategy, files: files, stats: stats}, nil
}

// Stamp returns the snapshot's stamp.
func (s *Snapshot) Stamp() string { return s.stamp }

// Strategy returns the strategy that produced the stamp.
func (s *Snapshot) Strategy() Strategy { return s.strategy }

// Files returns a copy of the snapshot's table of counted files, sorted
// bytewise by Name.
func (s *Snapshot) Files() []File { return slices.Clone(s.files) }

// Lookup returns the counted file whose Name is exactly name (a slash path
// relative to the scanned directory, as in File.Name) and whether there is one.
func (s *Snapshot) Lookup(name string) (File, bool) {
	i := indexOf(s.files, name)
	if i < 0 {
		return File{}, false
	}
	return s.files[i], true
}

// indexOf returns the index of the file name in a table sorted bytewise by
// Name, or -1.
func indexOf(files []File, name string) int {
	i, ok := slices.BinarySearchFunc(files, name, func(f File, name string) int { return strings.Compare(f.Name, name) })
	if !ok {
		return -1
	}
	return i
}

// osWalk, when set (stamp_linux.go sets it), lists the counted files of dir on
// the OS file system, sorted bytewise by Name, with SHA256 filled when hash is
// set; nil when there are none.
//
// It must agree with walkPortable exactly, on the table and on errors:
//   - dir missing: an error wrapping fs.ErrNotExist;
//   - dir not a directory: an *fs.PathError wrapping syscall.ENOTDIR, whose
//     message says "not a directory";
//   - a file or subdirectory that cannot be opened or read: an *fs.PathError
//     whose Path is filepath.Join(dir, filepath.FromSlash(name)), wrapping the
//     cause (EACCES, which matches fs.ErrPermission), and not a PathError in a
//     PathError;
//   - when several fail, the first in the order of walkPortable's walk wins,
//     then, when only hashing fails, the first in bytewise Name order.
//
// When hash is set, File.Size is the number of bytes hashed; otherwise it is
// the size Lstat reports. ModTime is the Lstat mtime in both cases.
//
// With stat set it also returns each file's liveStat, in the same order. It
// counts its progress on m: bytes as they are hashed and files once hashed,
// or files and their sizes as they are listed when hash is not set.
var osWalk func(dir string, hash, stat bool, m *meter) ([]File, []liveStat, error)

// maxDepth bounds how deep walkPortable descends, so that a directory cycle
// on an Fs that reports links as directories ends.
const maxDepth = 255

// walkPortable is the walk every afero.Fs can take; osWalk must agree with
// it exactly, also in what it counts on m.
func walkPortable(fsys afero.Fs, dir string, hash, stat bool, m *meter) ([]File, []liveStat, error) {
	info, err := fsys.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !info.IsDir() {
		return nil, nil, &fs.PathError{Op: "scan", Path: dir, Err: syscall.ENOTDIR}
	}
	w := newWalker(fsys, dir)
	if !hash {
		w.m = m // counts what it lists
	}
	if err := w.walk(w.prefix, 0); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(w.found, func(a, b fsPath) int { return strings.Compare(w.name(a), w.name(b)) })
	var files []File // nil when there are none, as osWalk returns
	if len(w.found) > 0 {
		files = make([]File, len(w.found))
	}
	var stats []liveStat
	if stat && len(w.found) > 0 {
		stats = make([]liveStat, len(w.found))
	}
	for i, p := range w.found {
		files[i] = File{Name: w.name(p), Size: p.size, ModTime: p.mtime}
		if stats != nil {
			stats[i] = statOfInfo(p.info)
		}
	}
	if hash {
		m.total(files) // the sizes Lstat gave; Scan sets them again from the bytes hashed
		if err := hashFiles(files, func(i int) (io.ReadCloser, error) { return w.open(w.found[i].path) }, w.errPath, m); err != nil {
			return nil, nil, err
		}
	}
	return files, stats, nil
}

// walker walks one directory tree. Each entry costs one string: its Fs path,
// prefix followed by its slash name, so that the name is a substring of it.
// Where the OS separator is not a slash, names are separate strings.
type walker struct {
	fsys    afero.Fs
	lstater afero.Lstater
	dir     string // as the caller gave it, for error paths
	prefix  string // filepath.Clean(dir) and a separator; "" for "."
	found   []fsPath
	m       *meter // counts the files found; nil when hashing counts them
}

// fsPath is a counted file found by the walk.
type fsPath struct {
	path  string // Fs path
	slash string // slash name, only where the separator is not a slash
	size  int64
	mtime time.Time
	info  fs.FileInfo // for its liveStat
}

func newWalker(fsys afero.Fs, dir string) *walker {
	w := &walker{fsys: fsys, dir: dir}
	w.lstater, _ = fsys.(afero.Lstater)
	switch clean := filepath.Clean(dir); {
	case clean == ".":
	case strings.HasSuffix(clean, string(filepath.Separator)): // the root
		w.prefix = clean
	default:
		w.prefix = clean + string(filepath.Separator)
	}
	return w
}

func (w *walker) name(p fsPath) string {
	if filepath.Separator != '/' {
		return p.slash
	}
	return p.path[len(w.prefix):]
}

// errPath returns the path an error names for the slash name: dir joined
// with name, as the caller would write it.
func (w *walker) errPath(name string) string {
	return filepath.Join(w.dir, filepath.FromSlash(name))
}

// slashName returns the slash name of the Fs path p below w.prefix.
func (w *walker) slashName(p string) string {
	return filepath.ToSlash(p[len(w.prefix):])
}

// walk records the counted files below the directory whose Fs path is dir
// (w.prefix for the top, which ends in a separator unless it is "").
func (w *walker) walk(dir string, depth int) error {
	if depth > maxDepth {
		return &fs.PathError{Op: "scan", Path: w.errPath(w.slashName(dir)), Err: syscall.ELOOP}
	}
	open := dir
	if depth == 0 {
		open = filepath.Clean(w.dir) // not w.prefix: fs.FS paths have no trailing slash
	}
	d, err := w.fsys.Open(open)
	if err != nil {
		return w.pathError("open", w.slashName(dir), err)
	}
	// With Lstat, list names and lstat each; without, trust Readdir's modes.
	var names []string
	var infos []fs.FileInfo
	if w.lstater != nil {
		names, err = d.Readdirnames(-1)
	} else {
		infos, err = d.Readdir(-1)
	}
	d.Close()
	if err != nil {
		return w.pathError("readdir", w.slashName(dir), err)
	}
	for _, info := range infos {
		names = append(names, info.Name())
	}
	sep := ""
	if depth > 0 {
		sep = string(filepath.Separator)
	}
	// Every entry is lstat'ed before any subdirectory is entered, the order
	// in which osWalk places its errors.
	var subdirs []string
	for i, base := range names {
		if strings.HasPrefix(base, ".") {
			continue
		}
		path := dir + sep + base
		var info fs.FileInfo
		if w.lstater != nil {
			info, _, err = w.lstater.LstatIfPossible(path)
			if err != nil {
				return w.pathError("lstat", w.slashName(path), err)
			}
		} else {
			info = infos[i]
		}
		switch mode := info.Mode(); {
		case mode.IsRegular():
			p := fsPath{path: path, size: info.Size(), mtime: info.ModTime(), info: info}
			if filepath.Separator != '/' {
				p.slash = w.slashName(path)
			}
			w.found = append(w.found, p)
			w.m.add(1, p.size)
		case mode.IsDir():
			subdirs = append(subdirs, path)
		}
	}
	for _, sub := range subdirs {
		if err := w.walk(sub, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) open(path string) (io.ReadCloser, error) {
	f, err := w.fsys.Open(path)
	if err != nil {
		return nil, w.pathError("open", w.slashName(path), err)
	}
	return f, nil
}

// pathError names the slash path name relative to w.dir in a PathError
// wrapping the cause of err (see the function pathError).
func (w *walker) pathError(op, name string, err error) error {
	return pathError(op, w.errPath(name), err)
}

// pathError returns a new *fs.PathError naming path, with the Op and cause
// of a PathError in err's chain (not that PathError's own path, which may
// name an Fs path the caller never gave), or op and err otherwise. The error
// it was given is not changed. vfs has its own for its callers' names.
func pathError(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		op, err = pe.Op, pe.Err
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// hashBuffers holds the read buffers of hashFiles' workers between scans.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// hashFiles fills SHA256 and Size of every file, reading them with open on a
// few goroutines, and counts the bytes and files hashed on m. The error
// returned is that of the first failing file in slice order, whatever the
// scheduling.
func hashFiles(files []File, open func(i int) (io.ReadCloser, error), errPath func(name string) string, m *meter) error {
	workers := min(runtime.GOMAXPROCS(0), 4, len(files)/4+1)
	var (
		mu   sync.Mutex
		bufs []*[]byte // back to the pool once the workers are done
	)
	defer func() {
		for _, bp := range bufs {
			hashBuffers.Put(bp)
		}
	}()
	return parallel(len(files), workers, func() func(int) error {
		bp := hashBuffers.Get().(*[]byte)
		mu.Lock()
		bufs = append(bufs, bp)
		mu.Unlock()
		buf, h := *bp, sha256.New()
		return func(i int) error { return hashFile(&files[i], i, open, errPath, h, buf, m) }
	})
}

type resetHash interface {
	io.Writer
	Reset()
	Sum([]byte) []byte
}

// hashFile reads the file f names through buf into h, and sets f.SHA256 and
// f.Size from what it read. It counts the bytes on m as they are read, and
// the file once it is read whole.
func hashFile(f *File, i int, open func(i int) (io.ReadCloser, error), errPath func(name string) string, h resetHash, buf []byte, m *meter) error {
	r, err := open(i)
	if err != nil {
		return err
	}
	defer r.Close()
	h.Reset()
	var size int64
	for {
		n, err := r.Read(buf)
		h.Write(buf[:n])
		size += int64(n)
		m.add(0, int64(n))
		if err == io.EOF {
			break
		}
		if err != nil {
			return pathError("read", errPath(f.Name), err)
		}
	}
	m.add(1, 0)
	f.Size = size
	h.Sum(f.SHA256[:0])
	return nil
}

// contentStamp is the first 12 hex digits of the SHA-256 of the lines
// sha256sum prints for files, which must be sorted bytewise by Name.
func contentStamp(files []File) string {
	h := sha256.New()
	var line []byte
	for i := range files {
		line = appendSumLine(line[:0], &files[i])
		h.Write(line)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))[:12]
}

// appendSumLine appends the line "sha256sum ./name" prints for f: the hex
// digest, two spaces, "./" and the name, with GNU coreutils' escaping when the
// name holds a backslash, newline or carriage return (a leading backslash,
// then \\, \n, \r in the name).
func appendSumLine(b []byte, f *File) []byte {
	escape := strings.ContainsAny(f.Name, "\\\n\r")
	if escape {
		b = append(b, '\\')
	}
	b = hex.AppendEncode(b, f.SHA256[:])
	b = append(b, "  ./"...)
	if !escape {
		b = append(b, f.Name...)
	} else {
		for i := 0; i < len(f.Name); i++ {
			switch c := f.Name[i]; c {
			case '\\':
				b = append(b, `\\`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			default:
				b = append(b, c)
			}
		}
	}
	return append(b, '\n')
}

// mtimeStamp is the newest ModTime of files in whole Unix seconds, "0" for
// no files. It warns through logger when the times look made up.
func mtimeStamp(files []File, logger *slog.Logger, dir string) (string, error) {
	if len(files) == 0 {
		warn(logger, "stampfs: mtime stamp of a directory without counted files is 0", "dir", dir)
		return "0", nil
	}
	newest := files[0]
	allEqual := true
	var suspect *File
	now := time.Now()
	for i := range files {
		f := &files[i]
		if f.ModTime.After(newest.ModTime) {
			newest = *f
		}
		if !f.ModTime.Equal(files[0].ModTime) {
			allEqual = false
		}
		if suspect == nil && (f.ModTime.IsZero() || f.ModTime.Unix() <= 1 || f.ModTime.After(now)) {
			suspect = f
		}
	}
	if newest.ModTime.Unix() <= 0 {
		return "", fmt.Errorf("%w: every counted file of %s has a zero or pre-1970 modification time (as in an embed.FS), which makes no mtime stamp; use the content strategy", ErrBadStamp, dir)
	}
	stamp := strconv.FormatInt(newest.ModTime.Unix(), 10)
	switch {
	case suspect != nil && suspect.ModTime.After(now):
		warn(logger, "stampfs: mtime stamp from a file time in the future; use the content strategy",
			"dir", dir, "file", suspect.Name, "mtime", suspect.ModTime, "stamp", stamp)
	case suspect != nil:
		warn(logger, "stampfs: mtime stamp from fake file times (zero, epoch or 1 s, as in Nix, Bazel or embed.FS); use the content strategy",
			"dir", dir, "file", suspect.Name, "mtime", suspect.ModTime, "stamp", stamp)
	case allEqual && len(files) > 1:
		warn(logger, "stampfs: mtime stamp from files that all have the same time, as after a fresh checkout or copy; use the content strategy",
			"dir", dir, "files", len(files), "mtime", newest.ModTime, "stamp", stamp)
	}
	return stamp, nil
}

func warn(logger *slog.Logger, msg string, args ...any) {
	if logger != nil {
		logger.Warn(msg, args...)
	}
}
