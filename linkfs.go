package stampfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/vfs"
)

// ErrSymlinkUnsupported is returned (wrapped) when the file system cannot make
// or read symbolic links here.
var ErrSymlinkUnsupported = errors.New("stampfs: symlinks unsupported")

// Defaults of the Linker fields that NewLinker sets.
const (
	defaultKeep  = 2
	defaultGrace = time.Hour
)

// tempPrefix starts the name of every temporary link a Linker makes. The
// leading dot keeps it out of every stamp and every served path.
const tempPrefix = ".stampfs-tmp-"

// tempMinAge is the least age at which Prune removes a temporary link left
// behind by a crashed run, whatever Grace says: a live one exists for the
// moment between a symlink and a rename, and removing it would fail another
// process's Activate.
const tempMinAge = time.Minute

// A Linker makes and prunes the stamp links of one directory: for a stamp S,
// the symbolic link <dir>/S whose target is "." (relative), so that a front
// web server serves <dir>/S/css/a.css straight from <dir>/css/a.css.
//
// A Linker must come from NewLinker; the zero value is not usable. Set its
// fields before the first call and do not change them afterwards. Its
// methods may be called from several goroutines and several processes on the
// same directory at once.
type Linker struct {
	// Keep is the number of old stamp links Prune keeps besides the current
	// one, newest first. NewLinker sets 2; 0 (or less) removes every old
	// link that is older than Grace.
	Keep int

	// Grace is the age under which Prune keeps any stamp link, so that
	// processes of a rolling deploy, each with its own stamp, never remove
	// each other's link while both run. NewLinker sets one hour; 0 means
	// no grace period. A link's age is measured from its own modification
	// time, which Activate refreshes.
	Grace time.Duration

	// Logger receives one record per link created, removed or kept, with
	// the reason. Nil is silent.
	Logger *slog.Logger

	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	fsys afero.Fs
	dir  string
}

// NewLinker returns a Linker for the directory dir on fsys with Keep 2 and
// Grace one hour. It does not touch the file system; call Probe to learn
// whether symbolic links work there.
func NewLinker(fsys afero.Fs, dir string) *Linker {
	return &Linker{
		Keep:  defaultKeep,
		Grace: defaultGrace,
		fsys:  fsys,
		dir:   dir,
	}
}

// Probe reports whether stamp links work in the directory by making a
// temporary link to ".", reading it back, checking that Lstat reports it as
// a link and that Stat follows it to the directory, and removing it.
//
// It returns nil when they work and an error wrapping ErrSymlinkUnsupported
// and the cause when the file system cannot make, read or follow such a link:
// an afero.Fs that is not an afero.Symlinker or answers afero.ErrNoSymlink,
// permission errors, errors.ErrUnsupported, a read-only file system, Windows
// without the privilege to make links, or an afero.Fs that rewrites a
// relative target (afero.BasePathFs turns "." into an absolute host path).
// Other errors, such as a missing directory, are returned as they are.
func (l *Linker) Probe() error {
	sl, err := l.symlinker()
	if err != nil {
		return err
	}
	tmp := l.tempName()
	if err := sl.SymlinkIfPossible(".", tmp); err != nil {
		return classify(err)
	}
	err = l.checkTemp(sl, tmp)
	if err == nil {
		if fi, serr := l.fsys.Stat(tmp); serr != nil {
			err = classify(serr)
		} else if !fi.IsDir() {
			err = fmt.Errorf("%w: %s: a link to \".\" does not lead to the directory", ErrSymlinkUnsupported, tmp)
		}
	}
	if rerr := l.remove(tmp); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// Activate makes <dir>/<stamp> a symbolic link to "." and refreshes its
// modification time. It creates a uniquely named hidden temporary link and
// renames it over the final name, so a link already there never goes
// missing, even for a moment. Calling it again with the same stamp is safe
// and only refreshes the link's age.
//
// A link whose target is an absolute path naming the directory (as older
// deploy scripts made them) counts as a stamp link and is replaced. If
// <dir>/<stamp> is anything else (a file, a directory, a link elsewhere),
// Activate returns a *fs.PathError wrapping fs.ErrExist and changes nothing.
// It returns an error wrapping ErrBadStamp if stamp is not a valid stamp, and
// one wrapping ErrSymlinkUnsupported where Probe would fail. On any error the
// link that was there before is left as it was.
func (l *Linker) Activate(stamp string) error {
	if !vfs.ValidSegment(stamp) {
		return fmt.Errorf("%w: %q", ErrBadStamp, stamp)
	}
	sl, err := l.symlinker()
	if err != nil {
		return err
	}
	name := filepath.Join(l.dir, stamp)
	_, replaced, err := l.linkInfo(sl, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	} else if !replaced {
		return &fs.PathError{Op: "activate", Path: name, Err: errNotStampLink}
	}

	tmp := l.tempName()
	if err := sl.SymlinkIfPossible(".", tmp); err != nil {
		return classify(err)
	}
	err = l.checkTemp(sl, tmp)
	if err == nil {
		err = l.fsys.Rename(tmp, name)
		if err == nil {
			l.log("link created", slog.String("link", name), slog.String("target", "."), slog.Bool("replaced", replaced))
			return nil
		}
		err = ensurePathError("rename", tmp, err)
	}
	if rerr := l.remove(tmp); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// errNotStampLink is the cause Activate reports for a name it must not
// replace.
var errNotStampLink = fmt.Errorf("exists and is not a stamp link: %w", fs.ErrExist)

// Prune removes the stamp links of the directory other than current's,
// except the Keep newest and any younger than Grace, and returns the paths it
// removed. A stamp link is a symbolic link with a stamp-shaped name whose
// target is "." or an absolute path naming the directory, without a ".."
// element; nothing else is ever removed, apart from temporary links of a
// crashed Activate or Probe older than Grace and at least a minute. Age and
// order come from each link's own modification time.
//
// Prune looks at a link's modification time again right before removing
// it, so a link another process has just activated again is left alone. A
// link that disappears while Prune works on it was removed by another
// process and is not an error. Prune carries on past a link it cannot read
// or remove and returns the errors joined, each naming the path and the
// step that failed, along with the paths it did remove.
func (l *Linker) Prune(current string) (removed []string, err error) {
	if !vfs.ValidSegment(current) {
		return nil, fmt.Errorf("%w: %q", ErrBadStamp, current)
	}
	sl, err := l.symlinker()
	if err != nil {
		return nil, err
	}
	names, err := l.readDirNames()
	if err != nil {
		return nil, err
	}

	now := l.now()
	type candidate struct {
		name  string
		mtime time.Time
	}
	var (
		links []candidate
		errs  []error
	)
	for _, base := range names {
		name := filepath.Join(l.dir, base)
		temp := strings.HasPrefix(base, tempPrefix)
		if !temp && !vfs.ValidSegment(base) {
			continue
		}
		fi, isLink, err := l.linkInfo(sl, name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if !isLink {
			continue
		}
		if base == current {
			l.log("link kept", slog.String("link", name), slog.String("reason", "current"))
			continue
		}
		if temp {
			age := now.Sub(fi.ModTime())
			if age < max(l.Grace, tempMinAge) {
				continue
			}
			ok, err := l.remove1(sl, name, fi.ModTime())
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				removed = append(removed, name)
				l.log("link removed", slog.String("link", name), slog.String("reason", "temporary link left behind"), slog.Duration("age", age))
			}
			continue
		}
		links = append(links, candidate{name, fi.ModTime()})
	}

	// Newest first; equal times fall back to the name for a stable order.
	slices.SortFunc(links, func(a, b candidate) int {
		if c := b.mtime.Compare(a.mtime); c != 0 {
			return c
		}
		return strings.Compare(b.name, a.name)
	})
	for i, c := range links {
		age := now.Sub(c.mtime)
		switch {
		case i < l.Keep:
			l.log("link kept", slog.String("link", c.name), slog.String("reason", "newest"), slog.Int("keep", l.Keep))
			continue
		case age < l.Grace:
			l.log("link kept", slog.String("link", c.name), slog.String("reason", "younger than grace period"), slog.Duration("age", age), slog.Duration("grace", l.Grace))
			continue
		}
		ok, err := l.remove1(sl, c.name, c.mtime)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			removed = append(removed, c.name)
			l.log("link removed", slog.String("link", c.name), slog.Duration("age", age))
		}
	}
	return removed, errors.Join(errs...)
}

// linkInfo returns the Lstat result for name and whether it is a link to the
// directory. The error names the step that failed, and wraps fs.ErrNotExist
// when there is nothing at name.
func (l *Linker) linkInfo(sl afero.Symlinker, name string) (fs.FileInfo, bool, error) {
	fi, lstat, err := sl.LstatIfPossible(name)
	if err != nil {
		return nil, false, ensurePathError("lstat", name, err)
	}
	if !lstat {
		return nil, false, fmt.Errorf("%w: %s: the file system cannot stat a link itself", ErrSymlinkUnsupported, name)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return fi, false, nil
	}
	target, err := sl.ReadlinkIfPossible(name)
	if errors.Is(err, afero.ErrNoReadlink) {
		return nil, false, classify(ensurePathError("readlink", name, err))
	}
	if err != nil {
		return nil, false, ensurePathError("readlink", name, err)
	}
	return fi, l.isDirTarget(target), nil
}

// remove1 removes the link name unless its modification time is no longer
// mtime, which means another process has just re-activated it. It reports
// whether it removed the link; a link already gone is not an error.
func (l *Linker) remove1(sl afero.Symlinker, name string, mtime time.Time) (bool, error) {
	fi, _, err := sl.LstatIfPossible(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, ensurePathError("lstat", name, err)
	case fi.Mode()&fs.ModeSymlink == 0 || !fi.ModTime().Equal(mtime):
		return false, nil
	}
	err = l.fsys.Remove(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, ensurePathError("remove", name, err)
	}
	return true, nil
}

// isDirTarget reports whether a link in the directory with this target leads
// back to the directory itself: "." (or "./"), or an absolute path naming it.
// A target with a ".." element never does: the system resolves "x/.." from
// wherever x leads, so "up/.." names another directory when up is a link,
// however filepath.Clean reads it.
func (l *Linker) isDirTarget(target string) bool {
	if slices.Contains(strings.Split(filepath.ToSlash(target), "/"), "..") {
		return false
	}
	if filepath.Clean(target) == "." {
		return true
	}
	if !filepath.IsAbs(target) {
		return false
	}
	target = filepath.Clean(target)
	if target == filepath.Clean(l.dir) {
		return true
	}
	if _, ok := l.fsys.(*afero.OsFs); !ok {
		return false
	}
	if abs, err := filepath.Abs(l.dir); err == nil && abs == target {
		return true
	}
	a, err1 := filepath.EvalSymlinks(target)
	b, err2 := filepath.EvalSymlinks(l.dir)
	if err1 != nil || err2 != nil {
		return false
	}
	if abs, err := filepath.Abs(b); err == nil {
		b = abs
	}
	return a == b
}

// checkTemp makes sure that Lstat reports the temporary link tmp as a link
// and that it reads back as ".".
func (l *Linker) checkTemp(sl afero.Symlinker, tmp string) error {
	fi, lstat, err := sl.LstatIfPossible(tmp)
	if err != nil {
		return classify(ensurePathError("lstat", tmp, err))
	}
	if !lstat || fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%w: %s: lstat does not report the link (mode %v)", ErrSymlinkUnsupported, tmp, fi.Mode())
	}
	target, err := sl.ReadlinkIfPossible(tmp)
	if err != nil {
		return classify(ensurePathError("readlink", tmp, err))
	}
	if target != "." {
		return fmt.Errorf("%w: %s: the file system rewrote the link target \".\" to %q", ErrSymlinkUnsupported, tmp, target)
	}
	return nil
}

// symlinker returns the file system as an afero.Symlinker.
func (l *Linker) symlinker() (afero.Symlinker, error) {
	sl, ok := l.fsys.(afero.Symlinker)
	if !ok {
		return nil, fmt.Errorf("%w: %w", ErrSymlinkUnsupported,
			&fs.PathError{Op: "symlink", Path: l.dir, Err: afero.ErrNoSymlink})
	}
	return sl, nil
}

// readDirNames lists the names in the directory.
func (l *Linker) readDirNames() ([]string, error) {
	f, err := l.fsys.Open(l.dir)
	if err != nil {
		return nil, ensurePathError("open", l.dir, err)
	}
	names, err := f.Readdirnames(-1)
	cerr := f.Close()
	if err != nil {
		return nil, ensurePathError("readdir", l.dir, err)
	}
	if cerr != nil {
		return nil, ensurePathError("close", l.dir, cerr)
	}
	slices.Sort(names)
	return names, nil
}

// remove removes a temporary link; one already gone is not an error.
func (l *Linker) remove(name string) error {
	err := l.fsys.Remove(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return ensurePathError("remove", name, err)
}

// tempName returns a fresh temporary link name in the directory.
func (l *Linker) tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return filepath.Join(l.dir, tempPrefix+hex.EncodeToString(b[:]))
}

func (l *Linker) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Linker) log(msg string, attrs ...slog.Attr) {
	if l.Logger != nil {
		l.Logger.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
	}
}

// ensurePathError returns err as it is if it already names a path and an
// operation (a *fs.PathError or *os.LinkError in its chain, whose path the
// Linker's callers see as given), and wraps it in a *fs.PathError naming name
// otherwise. Unlike pathError, it never renames.
func ensurePathError(op, name string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) || errors.As(err, &le) {
		return err
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// classify wraps err in ErrSymlinkUnsupported as well when it says that the
// file system cannot make or read symbolic links, and returns it unchanged
// otherwise.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrSymlinkUnsupported) {
		return err
	}
	var errno syscall.Errno
	switch {
	case errors.Is(err, afero.ErrNoSymlink),
		errors.Is(err, afero.ErrNoReadlink),
		errors.Is(err, fs.ErrPermission),
		errors.Is(err, errors.ErrUnsupported),
		errors.Is(err, syscall.EROFS),
		runtime.GOOS == "windows" && errors.As(err, &errno) && errno == errPrivilegeNotHeld:
		return fmt.Errorf("%w: %w", ErrSymlinkUnsupported, err)
	}
	return err
}

// errPrivilegeNotHeld is Windows' ERROR_PRIVILEGE_NOT_HELD, which os.Symlink
// returns without Developer Mode or administrator rights.
const errPrivilegeNotHeld = 1314
