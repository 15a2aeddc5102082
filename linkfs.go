package stampfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
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

// The retention a zero Linker.Keep and Linker.Grace (and Options.Keep and
// Options.Grace) mean.
const (
	DefaultKeep  = 2
	DefaultGrace = time.Hour
)

// tempPrefix starts the name of every temporary link a Linker makes. The
// leading dot keeps it out of every stamp and every served path.
const tempPrefix = ".stampfs-tmp-"

// tempMinAge is the least age at which Prune removes a temporary link left
// behind by a crashed run, whatever Grace says: a live one exists for the
// moment between a symlink and a rename, and removing it would fail another
// process's Activate.
const tempMinAge = time.Minute

// A Linker keeps the versions and the stamp links of one directory. Publish
// stores the directory's counted files as the immutable version of their
// stamp, in the version store (DefaultStore inside the directory unless Store
// says otherwise); Activate makes the symbolic link <dir>/<stamp> lead into
// that version (relative: ".stampfs/<stamp>"), so that a front web server
// serves <dir>/<stamp>/css/a.css with exactly the bytes the stamp was made
// from; Prune removes old versions with their links.
//
// A Linker must come from NewLinker; the zero value is not usable. Set its
// fields before the first call and do not change them afterwards. Its
// methods may be called from several goroutines and several processes on the
// same directory at once.
type Linker struct {
	// Keep is the number of old versions (and old stamp links) Prune keeps
	// besides the current one, most recently activated first. Zero means
	// DefaultKeep (2); a negative value keeps none by count.
	Keep int

	// Grace is the age under which Prune keeps any version and stamp link,
	// so that processes of a rolling deploy, each with its own stamp, never
	// remove each other's while both run. Zero means DefaultGrace (one
	// hour); a negative value means no grace period. A version's age is
	// measured from its last Publish or Activate, a link's from its own
	// modification time, which Activate refreshes.
	Grace time.Duration

	// Logger receives one record per link created, removed or kept, with
	// the reason. Nil is silent.
	Logger *slog.Logger

	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	// Store is the directory of the version store on the same file system;
	// empty means DefaultStore inside the directory. A store elsewhere must
	// be on the same file system as the directory for hard links to work
	// between versions (they are copied otherwise).
	Store string

	fsys afero.Fs
	dir  string
}

// NewLinker returns a Linker for the directory dir on fsys, with the default
// retention (Keep and Grace zero). It does not touch the file system; call Probe to learn
// whether symbolic links work there.
func NewLinker(fsys afero.Fs, dir string) *Linker {
	return &Linker{fsys: fsys, dir: dir}
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
	err = l.checkTemp(sl, tmp, ".")
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

// Activate makes <dir>/<stamp> a symbolic link into the store's version of
// stamp (".stampfs/<stamp>", relative, with the default store), marks that
// version as the most recently activated, and refreshes the link's
// modification time. It creates a uniquely named hidden temporary link and
// renames it over the final name, so a link already there never goes
// missing, even for a moment. Calling it again with the same stamp is safe.
//
// Activate replaces only stamp links (see Prune); if <dir>/<stamp> is
// anything else (a file, a directory, a link elsewhere), Activate returns a
// *fs.PathError wrapping fs.ErrExist and changes nothing. On Linux the
// final rename refuses to replace anything that appeared at the name since
// that check; elsewhere a file created in that moment is replaced. It
// returns an error wrapping fs.ErrNotExist when the store holds no version
// of stamp (Publish first), one wrapping ErrBadStamp if stamp is not a valid
// stamp, and one wrapping ErrSymlinkUnsupported where Probe would fail. On
// any error the link that was there before is left as it was.
func (l *Linker) Activate(stamp string) error {
	if !vfs.ValidSegment(stamp) {
		return fmt.Errorf("%w: %q", ErrBadStamp, stamp)
	}
	if err := l.checkStore(); err != nil {
		return err
	}
	sl, err := l.symlinker()
	if err != nil {
		return err
	}
	target, err := l.linkTarget(stamp)
	if err != nil {
		return err
	}
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()

	name := filepath.Join(l.dir, stamp)
	_, kind, err := l.linkInfo(sl, name)
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if existed && kind == notStampLink {
		return &fs.PathError{Op: "activate", Path: name, Err: errNotStampLink}
	}

	tmp := l.tempName()
	if err := sl.SymlinkIfPossible(target, tmp); err != nil {
		return classify(err)
	}
	if _, serr := l.fsys.Stat(filepath.Join(l.storeDir(), stamp, indexName)); serr != nil {
		// No version to lead to (Publish first): a link would dangle.
		err = &fs.PathError{Op: "activate", Path: filepath.Join(l.storeDir(), stamp), Err: serr}
		if errors.Is(serr, fs.ErrNotExist) {
			err = &fs.PathError{Op: "activate", Path: filepath.Join(l.storeDir(), stamp), Err: errNoVersion}
		}
		return errors.Join(err, l.remove(tmp))
	}
	err = l.checkTemp(sl, tmp, target)
	if err == nil {
		err = l.replaceLink(sl, tmp, name, existed)
		if err == nil {
			// The version's activation time counts for retention; failing to
			// renew it is not worth undoing a link that is already in place.
			now := l.now()
			if err := l.fsys.Chtimes(filepath.Join(l.storeDir(), stamp), now, now); err != nil {
				l.log("cannot renew the version's activation time", slog.String("version", filepath.Join(l.storeDir(), stamp)), slog.String("err", err.Error()))
			}
			l.log("link created", slog.String("link", name), slog.String("target", target), slog.Bool("replaced", existed))
			return nil
		}
		if errors.Is(err, errKeptAside) {
			return err // tmp holds someone else's entry now: never remove it
		}
	}
	if rerr := l.remove(tmp); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// replaceLink renames the temporary link tmp to name. The generic form is
// one rename; replaceLinkOS, where the system has it, also refuses to
// replace anything but a stamp link that appeared since Activate looked.
func (l *Linker) replaceLink(sl afero.Symlinker, tmp, name string, existed bool) error {
	if _, ok := l.fsys.(*afero.OsFs); ok && replaceLinkOS != nil {
		return replaceLinkOS(tmp, name, existed, func(p string) bool {
			_, kind, err := l.linkInfoAs(sl, p, filepath.Base(name))
			return err == nil && kind != notStampLink
		})
	}
	if err := l.fsys.Rename(tmp, name); err != nil {
		return ensurePathError("rename", tmp, err)
	}
	return nil
}

// replaceLinkOS, when set (rename_linux.go sets it), renames tmp to name
// without ever replacing something that isStampLink refuses: with
// RENAME_NOREPLACE when nothing was at name, with RENAME_EXCHANGE (and an
// exchange back) when a stamp link was. It returns an error wrapping
// fs.ErrExist, naming name, when it refused.
var replaceLinkOS func(tmp, name string, existed bool, isStampLink func(string) bool) error

// linkTarget returns the relative target of the stamp link of stamp.
func (l *Linker) linkTarget(stamp string) (string, error) {
	if l.Store == "" {
		return DefaultStore + "/" + stamp, nil
	}
	dir, store := filepath.Clean(l.dir), filepath.Clean(l.Store)
	if _, ok := l.fsys.(*afero.OsFs); ok {
		var err1, err2 error
		dir, err1 = filepath.Abs(dir)
		store, err2 = filepath.Abs(store)
		if err := errors.Join(err1, err2); err != nil {
			return "", err
		}
	}
	rel, err := filepath.Rel(dir, store)
	if err != nil {
		return "", fmt.Errorf("stampfs: the store %s cannot be reached from %s by a relative link: %w", l.Store, l.dir, err)
	}
	return filepath.ToSlash(filepath.Join(rel, stamp)), nil
}

// errKeptAside says that Activate left an entry someone else made at the
// stamp's name under its temporary name, rather than remove it.
var errKeptAside = errors.New("stampfs: the stamp's name was taken meanwhile")

// errNoVersion is the cause Activate reports for a stamp the store lacks.
var errNoVersion = fmt.Errorf("stampfs: no such version in the store (publish it first): %w", fs.ErrNotExist)

// errNotStampLink is the cause Activate reports for a name it must not
// replace.
var errNotStampLink = fmt.Errorf("exists and is not a stamp link: %w", fs.ErrExist)

// linkKind says what a name in the directory is to the Linker.
type linkKind int

const (
	notStampLink linkKind = iota // anything the Linker never removes
	storeLink                    // <dir>/S -> the store's S, as Activate makes it
	legacyLink                   // a link to the directory itself, as deploys before versions made it
)

// linkInfo returns the Lstat result for name and what kind of link it is.
// The error names the step that failed, and wraps fs.ErrNotExist when there
// is nothing at name.
func (l *Linker) linkInfo(sl afero.Symlinker, name string) (fs.FileInfo, linkKind, error) {
	return l.linkInfoAs(sl, name, filepath.Base(name))
}

// linkInfoAs is linkInfo for the entry at path, judged as if it had the base
// name base: a temporary name, or where Activate has just moved it.
func (l *Linker) linkInfoAs(sl afero.Symlinker, name, base string) (fs.FileInfo, linkKind, error) {
	fi, lstat, err := sl.LstatIfPossible(name)
	if err != nil {
		return nil, notStampLink, ensurePathError("lstat", name, err)
	}
	if !lstat {
		return nil, notStampLink, fmt.Errorf("%w: %s: the file system cannot stat a link itself", ErrSymlinkUnsupported, name)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return fi, notStampLink, nil
	}
	target, err := sl.ReadlinkIfPossible(name)
	if errors.Is(err, afero.ErrNoReadlink) {
		return nil, notStampLink, classify(ensurePathError("readlink", name, err))
	}
	if err != nil {
		return nil, notStampLink, ensurePathError("readlink", name, err)
	}
	if strings.HasPrefix(base, tempPrefix) {
		// A temporary link leads to "." (Probe) or into the store.
		if dir, stamp := path.Split(target); target == "." || vfs.ValidSegment(stamp) && l.isStoreTarget(dir) {
			return fi, storeLink, nil
		}
		return fi, notStampLink, nil
	}
	if want, err := l.linkTarget(base); err == nil && vfs.ValidSegment(base) && target == want {
		return fi, storeLink, nil
	}
	if l.isDirTarget(target) {
		return fi, legacyLink, nil
	}
	return fi, notStampLink, nil
}

// isStoreTarget reports whether dir, the directory part of a link target
// with its final slash, is the store as Activate's links name it.
func (l *Linker) isStoreTarget(dir string) bool {
	want, err := l.linkTarget("x")
	return err == nil && dir == strings.TrimSuffix(want, "x")
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
// and that it reads back as target.
func (l *Linker) checkTemp(sl afero.Symlinker, tmp, target string) error {
	fi, lstat, err := sl.LstatIfPossible(tmp)
	if err != nil {
		return classify(ensurePathError("lstat", tmp, err))
	}
	if !lstat || fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%w: %s: lstat does not report the link (mode %v)", ErrSymlinkUnsupported, tmp, fi.Mode())
	}
	got, err := sl.ReadlinkIfPossible(tmp)
	if err != nil {
		return classify(ensurePathError("readlink", tmp, err))
	}
	if got != target {
		return fmt.Errorf("%w: %s: the file system rewrote the link target %q to %q", ErrSymlinkUnsupported, tmp, target, got)
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
	return filepath.Join(l.dir, tempPrefix+randomHex())
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
