package vfstest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/vfs/vfstest"
)

// The differential tests run the same operations on a MemFS and on the
// operating system (afero.OsFs under t.TempDir) and require the same outcome
// after every step: the same result, the same error class and the same tree.
//
// Both sides work inside a chain of baseDepth directories "d/d/…/d", the
// MemFS one from its root and the OS one from the temporary directory, so
// that ".." in link targets climbs the same chain on both sides instead of
// leaving the temporary directory on the OS. The compared tree starts at the
// base's parent.
//
// The chain is deep enough for any decoded sequence: a name climbs at most
// one directory above the base, a decoded target holds at most one "..", and
// a sequence makes at most maxLinks links. Within one lookup a link's ".."
// always lands on the same directory, so each further level climbed needs
// another link: no lookup climbs more than 1+maxLinks directories from where
// it starts. The chain is twice as deep, so that not even a walk that starts
// at the top of the chain through links planted as high as they can go
// leaves the temporary directory.
const (
	maxLinks  = 10
	baseDepth = 2*maxLinks + 3
)

// opKind names an operation of the differential tests.
type opKind uint8

const (
	opMkdir opKind = iota
	opMkdirAll
	opOpen // OpenFile, then one handle action, then Close
	opRemove
	opRemoveAll
	opRename
	opSymlink
	opReadlink
	opStat
	opLstat
	opChmod
	opChtimes
	numOpKinds
)

var opNames = [...]string{"Mkdir", "MkdirAll", "Open", "Remove", "RemoveAll", "Rename", "Symlink", "Readlink", "Stat", "Lstat", "Chmod", "Chtimes"}

// action is what an opOpen does with the handle it opened.
type action uint8

const (
	actNone action = iota
	actWrite
	actReadAll
	actReadAt
	actReaddirnames
	actReaddir
	actTruncate
	actSeekRead
	actWriteAt
	actStat
	actReaddirBatches // Readdirnames(2) until io.EOF
	actWriteReadBack  // write, seek to the start, read everything, Stat
	numActions
)

var actionNames = [...]string{"close", "write", "readall", "readat", "readdirnames", "readdir", "truncate", "seekread", "writeat", "stat", "readdirbatches", "writereadback"}

// op is one step of a sequence.
type op struct {
	kind   opKind
	name   string // relative to the base; may hold "", ".", ".." elements
	name2  string // Rename's new name
	asIs   bool   // Rename: both names as written, even with a final "/" (see renamePath)
	target string // Symlink's target, verbatim; "/" first means from the base
	flag   int
	perm   fs.FileMode
	act    action
	n      int64 // offset or size for the action
	data   string
}

func (o op) String() string {
	switch o.kind {
	case opRename:
		if o.asIs {
			return fmt.Sprintf("Rename(%q, %q) as written", o.name, o.name2)
		}
		return fmt.Sprintf("Rename(%q, %q)", o.name, o.name2)
	case opSymlink:
		return fmt.Sprintf("Symlink(%q, %q)", o.target, o.name)
	case opOpen:
		return fmt.Sprintf("OpenFile(%q, %s, %v) %s(%d, %q)", o.name, flagString(o.flag), o.perm, actionNames[o.act], o.n, o.data)
	case opMkdir, opMkdirAll, opChmod:
		return fmt.Sprintf("%s(%q, %v)", opNames[o.kind], o.name, o.perm)
	}
	return fmt.Sprintf("%s(%q)", opNames[o.kind], o.name)
}

func flagString(flag int) string {
	parts := []string{[...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "3"}[flag&3]}
	for _, f := range []struct {
		bit  int
		name string
	}{{os.O_CREATE, "O_CREATE"}, {os.O_EXCL, "O_EXCL"}, {os.O_TRUNC, "O_TRUNC"}, {os.O_APPEND, "O_APPEND"}} {
		if flag&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}

// side is one of the two file systems under test.
type side struct {
	fsys afero.Fs
	base string // absolute directory all names are relative to
	join func(base, name string) string
	root string // absolute target prefix that stands for the base's "/"
}

func (s side) path(name string) string { return s.join(s.base, name) }

// renamePath spells a Rename name the same way for both sides, since
// os.Rename tells spellings of one directory apart: it refuses "d" onto "d"
// with EEXIST but leaves rename(2) to move "d" onto "./d", a no-op. A name
// goes as written when Linux reads that spelling as MemFS reads its cleaned
// form (no ".." element, which Linux resolves physically, and no final "."
// or "/", which rename(2) refuses or reads as "follow a link"), or when asIs
// says so; cleaned otherwise.
func (s side) renamePath(name string, asIs bool) string {
	elems := strings.Split(name, "/")
	last := elems[len(elems)-1]
	if asIs || (!slices.Contains(elems, "..") && last != "." && last != "") {
		return s.base + "/" + name
	}
	return filepath.Join(s.base, name)
}

// newSides returns the MemFS side and the OS side, each with its base chain.
func newSides(t testing.TB) (mem, osSide side) {
	t.Helper()
	chain := strings.Repeat("/d", baseDepth)
	m := vfstest.NewMemFS()
	require.NoError(t, m.MkdirAll(chain, 0o755))
	tmp := t.TempDir()
	require.NoError(t, os.MkdirAll(tmp+chain, 0o755))
	// MemFS cleans names itself; the OS side gets them cleaned the way a
	// caller of afero.OsFs would clean them.
	mem = side{fsys: m, base: chain, root: chain, join: func(base, name string) string { return base + "/" + name }}
	osSide = side{fsys: afero.NewOsFs(), base: tmp + chain, root: tmp + chain, join: func(base, name string) string { return filepath.Join(base, name) }}
	return mem, osSide
}

// errClasses are the error classes compared; an error's class is the list of
// these it matches.
var errClasses = []struct {
	name string
	err  error
}{
	{"ErrNotExist", fs.ErrNotExist},
	{"ErrExist", fs.ErrExist},
	{"ErrPermission", fs.ErrPermission},
	{"ErrInvalid", fs.ErrInvalid},
	{"ErrClosed", fs.ErrClosed},
	{"EOF", io.EOF},
	{"ENOTDIR", syscall.ENOTDIR},
	{"EISDIR", syscall.EISDIR},
	{"ENOTEMPTY", syscall.ENOTEMPTY},
	{"ELOOP", syscall.ELOOP},
	{"EINVAL", syscall.EINVAL},
	{"EBADF", syscall.EBADF},
	{"EBUSY", syscall.EBUSY},
	{"ENAMETOOLONG", syscall.ENAMETOOLONG},
}

func errClass(err error) string {
	if err == nil {
		return "ok"
	}
	var names []string
	for _, c := range errClasses {
		if errors.Is(err, c.err) {
			names = append(names, c.name)
		}
	}
	if names == nil {
		return "other"
	}
	return strings.Join(names, ",")
}

// umask is the process's umask, which applies to the OS side only. Modes are
// compared with it cleared on both sides; an unknown umask hides all
// permission bits.
var umask = func() fs.FileMode {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fs.ModePerm
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			if u, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return fs.FileMode(u)
			}
		}
	}
	return fs.ModePerm
}()

// describe is what a test may observe of a FileInfo: its name, type, the
// permission bits outside the umask and, for files and links, the size. A
// link's size is its target's length, so for a target the test mapped under
// s.root, full (the link's path) is needed to subtract the prefix.
func (s side) describe(fi fs.FileInfo, full string) string {
	mode := fi.Mode()&(fs.ModeType|fs.ModeSticky) | fi.Mode().Perm()&^umask
	size := fi.Size()
	switch {
	case fi.IsDir():
		return fmt.Sprintf("%s %v", fi.Name(), mode)
	case fi.Mode()&fs.ModeSymlink != 0 && full != "":
		if target, err := s.fsys.(afero.LinkReader).ReadlinkIfPossible(full); err == nil {
			size -= int64(len(target) - len(s.unmap(target)))
		}
	}
	return fmt.Sprintf("%s %v %d", fi.Name(), mode, size)
}

// run performs o on s and returns what it observed and the error.
func (s side) run(o op) (string, error) {
	switch o.kind {
	case opMkdir:
		return "", s.fsys.Mkdir(s.path(o.name), o.perm)
	case opMkdirAll:
		return "", s.fsys.MkdirAll(s.path(o.name), o.perm)
	case opRemove:
		return "", s.fsys.Remove(s.path(o.name))
	case opRemoveAll:
		return "", s.fsys.RemoveAll(s.path(o.name))
	case opRename:
		return "", s.fsys.Rename(s.renamePath(o.name, o.asIs), s.renamePath(o.name2, o.asIs))
	case opSymlink:
		target := o.target
		if strings.HasPrefix(target, "/") {
			target = s.root + target
		}
		return "", s.fsys.(afero.Linker).SymlinkIfPossible(target, s.path(o.name))
	case opReadlink:
		target, err := s.fsys.(afero.LinkReader).ReadlinkIfPossible(s.path(o.name))
		return s.unmap(target), err
	case opStat:
		fi, err := s.fsys.Stat(s.path(o.name))
		if err != nil {
			return "", err
		}
		return s.describe(fi, ""), nil
	case opLstat:
		fi, _, err := s.fsys.(afero.Lstater).LstatIfPossible(s.path(o.name))
		if err != nil {
			return "", err
		}
		return s.describe(fi, s.path(o.name)), nil
	case opChmod:
		return "", s.fsys.Chmod(s.path(o.name), o.perm)
	case opChtimes:
		t := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		return "", s.fsys.Chtimes(s.path(o.name), t, t)
	case opOpen:
		f, err := s.fsys.OpenFile(s.path(o.name), o.flag, o.perm)
		if err != nil {
			return "", err
		}
		out, err := s.act(f, o)
		if cerr := f.Close(); cerr != nil {
			return out, fmt.Errorf("close: %w", cerr)
		}
		return out, err
	}
	panic("unknown op")
}

// unmap turns a link target back into the form the test made it in.
func (s side) unmap(target string) string {
	if rest, ok := strings.CutPrefix(target, s.root); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	return target
}

// act does o's action on an open handle.
func (s side) act(f afero.File, o op) (string, error) {
	switch o.act {
	case actWrite:
		n, err := f.WriteString(o.data)
		return strconv.Itoa(n), err
	case actReadAll:
		data, err := io.ReadAll(f)
		return string(data), err
	case actReadAt:
		buf := make([]byte, 4)
		n, err := f.ReadAt(buf, o.n)
		return string(buf[:n]), err
	case actReaddirnames:
		names, err := f.Readdirnames(-1)
		slices.Sort(names)
		return strings.Join(names, " "), err
	case actReaddir:
		infos, err := f.Readdir(-1)
		var out []string
		for _, fi := range infos {
			out = append(out, s.describe(fi, s.path(o.name+"/"+fi.Name())))
		}
		slices.Sort(out)
		return strings.Join(out, "; "), err
	case actTruncate:
		return "", f.Truncate(o.n)
	case actSeekRead:
		if fi, err := f.Stat(); err != nil || fi.IsDir() {
			return "directory", err // seeking a directory depends on the file system
		}
		pos, err := f.Seek(o.n, int(o.n&1))
		if err != nil {
			return "", err
		}
		buf := make([]byte, 4)
		n, err := f.Read(buf)
		return fmt.Sprintf("%d %q", pos, buf[:n]), err
	case actWriteAt:
		n, err := f.WriteAt([]byte(o.data), o.n)
		return strconv.Itoa(n), err
	case actStat:
		fi, err := f.Stat()
		if err != nil {
			return "", err
		}
		return s.describe(fi, ""), nil
	case actReaddirBatches:
		var all []string
		for calls := 1; calls <= 10; calls++ {
			names, err := f.Readdirnames(2)
			all = append(all, names...)
			if err != nil || len(names) == 0 || len(names) > 2 {
				slices.Sort(all)
				return fmt.Sprintf("%d calls, last %d: %s", calls, len(names), strings.Join(all, " ")), err
			}
		}
		return "no io.EOF after 10 calls", nil
	case actWriteReadBack:
		if _, err := f.WriteString(o.data); err != nil {
			return "write", err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "seek", err
		}
		data, err := io.ReadAll(f)
		if err != nil {
			return "read", err
		}
		fi, err := f.Stat()
		if err != nil {
			return "stat", err
		}
		return fmt.Sprintf("%q %s", data, s.describe(fi, "")), nil
	}
	return "", nil
}

// tree describes everything under the base's parent of s, one line per entry
// in walk order, without following links.
func (s side) tree(t testing.TB) []string {
	t.Helper()
	var out []string
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		f, err := s.fsys.Open(dir)
		if err != nil {
			out = append(out, rel+" open: "+errClass(err))
			return
		}
		infos, err := f.Readdir(-1)
		require.NoError(t, f.Close())
		if err != nil {
			out = append(out, rel+" readdir: "+errClass(err))
			return
		}
		slices.SortFunc(infos, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
		for _, fi := range infos {
			full := dir + "/" + fi.Name()
			line := rel + s.describe(fi, full)
			switch fi.Mode().Type() {
			case fs.ModeSymlink:
				target, err := s.fsys.(afero.LinkReader).ReadlinkIfPossible(full)
				line += " -> " + s.unmap(target) + " " + errClass(err)
			case fs.ModeDir:
				out = append(out, line)
				walk(full, rel+fi.Name()+"/")
				continue
			case 0:
				data, err := afero.ReadFile(s.fsys, full)
				line += fmt.Sprintf(" %q %s", data, errClass(err))
			}
			out = append(out, line)
		}
	}
	walk(s.join(s.base, ".."), "")
	return out
}

// runBoth runs ops on both sides, failing at the first step whose outcome or
// tree differs. The failure message shows the whole sequence.
func runBoth(t testing.TB, ops []op) {
	t.Helper()
	mem, osSide := newSides(t)
	for i, o := range ops {
		memOut, memErr := mem.run(o)
		osOut, osErr := osSide.run(o)
		got := fmt.Sprintf("%q %s", memOut, errClass(memErr))
		want := fmt.Sprintf("%q %s", osOut, errClass(osErr))
		if got != want {
			t.Fatalf("step %d: %v\nMemFS: %s (%v)\nOS:    %s (%v)\nsequence:\n%s", i, o, got, memErr, want, osErr, opsString(ops[:i+1]))
		}
		memTree, osTree := mem.tree(t), osSide.tree(t)
		if !slices.Equal(memTree, osTree) {
			t.Fatalf("step %d: %v: trees differ\nMemFS:\n\t%s\nOS:\n\t%s\nsequence:\n%s", i, o,
				strings.Join(memTree, "\n\t"), strings.Join(osTree, "\n\t"), opsString(ops[:i+1]))
		}
	}
}

func opsString(ops []op) string {
	var b strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&b, "\t%d: %v\n", i, o)
	}
	return b.String()
}

// The vocabulary decoded operations draw from. Few names make collisions,
// links over links and loops likely.
var (
	nameElems   = []string{"a", "b", "c", "l", "a", "b", ".", "..", ""}
	targetElems = []string{"a", "b", "c", "l", ".", "a", "b", ""}
	flags       = []int{
		os.O_RDONLY,
		os.O_WRONLY | os.O_CREATE,
		os.O_RDWR | os.O_CREATE | os.O_TRUNC,
		os.O_WRONLY | os.O_APPEND,
		os.O_RDWR | os.O_APPEND | os.O_CREATE,
		os.O_WRONLY | os.O_CREATE | os.O_EXCL,
		os.O_RDONLY | os.O_TRUNC,
		os.O_RDWR,
		os.O_WRONLY | os.O_TRUNC,
	}
	// Every mode keeps the owner's rwx: MemFS checks no permissions, and a
	// directory its owner cannot search would make the OS side differ when
	// the tests do not run as root.
	perms = []fs.FileMode{0o755, 0o700, 0o777, 0o750, 0o711, 0o755 | fs.ModeSticky}
	datas = []string{"", "x", "hello", "0123456789"}
)

// decoder turns bytes into operations; past the end it reads zeros.
type decoder struct{ data []byte }

func (d *decoder) byte() byte {
	if len(d.data) == 0 {
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

func (d *decoder) pick(n int) int { return int(d.byte()) % n }

// name decodes 1 to 3 elements; a name that would climb above the base's
// parent is replaced by "a".
func (d *decoder) name() string {
	elems := make([]string, 1+d.pick(3))
	for i := range elems {
		elems[i] = nameElems[d.pick(len(nameElems))]
	}
	name := strings.Join(elems, "/")
	if strings.HasPrefix(filepath.Clean(name), "../..") {
		return "a"
	}
	return name
}

// target decodes 1 to 3 elements with at most one ".." (see baseDepth),
// perhaps absolute, perhaps with a trailing slash.
func (d *decoder) target() string {
	b := d.byte()
	elems := make([]string, 1+int(b&3)%3)
	for i := range elems {
		elems[i] = targetElems[d.pick(len(targetElems))]
	}
	if i := int(b>>4) & 3; i > 0 && i <= len(elems) {
		elems[i-1] = ".."
	}
	target := strings.Join(elems, "/")
	if b&4 != 0 {
		target = "/" + target
	}
	if b&8 != 0 {
		target += "/"
	}
	return target
}

func (d *decoder) op() op {
	o := op{kind: opKind(d.pick(int(numOpKinds)))}
	o.name = d.name()
	switch o.kind {
	case opRename:
		o.name2 = d.name()
	case opSymlink:
		o.target = d.target()
	case opMkdir, opMkdirAll, opChmod:
		o.perm = perms[d.pick(len(perms))]
	case opOpen:
		o.flag = flags[d.pick(len(flags))]
		o.perm = perms[d.pick(len(perms))]
		o.act = action(d.pick(int(numActions)))
		o.n = int64(d.pick(14)) - 2
		o.data = datas[d.pick(len(datas))]
	}
	return o
}

// decodeOps decodes at most limit operations from data. Symlink operations
// past the first maxLinks become Readlink (see baseDepth).
func decodeOps(data []byte, limit int) []op {
	d := &decoder{data: data}
	var ops []op
	links := 0
	for len(d.data) > 0 && len(ops) < limit {
		o := d.op()
		if o.kind == opSymlink {
			if links++; links > maxLinks {
				o = op{kind: opReadlink, name: o.name}
			}
		}
		ops = append(ops, o)
	}
	return ops
}

func skipUnlessLinux(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("MemFS models Linux")
	}
}

// TestMemFSvsOSScript covers every rule MemFS follows, one step at a time.
func TestMemFSvsOSScript(t *testing.T) {
	skipUnlessLinux(t)
	o := func(kind opKind, name string) op { return op{kind: kind, name: name, perm: 0o755} }
	open := func(name string, flag int, a action, n int64, data string) op {
		return op{kind: opOpen, name: name, flag: flag, perm: 0o644, act: a, n: n, data: data}
	}
	link := func(target, name string) op { return op{kind: opSymlink, name: name, target: target} }
	rename := func(from, to string) op { return op{kind: opRename, name: from, name2: to} }
	renameAsIs := func(from, to string) op { return op{kind: opRename, name: from, name2: to, asIs: true} }
	const (
		rd     = os.O_RDONLY
		wr     = os.O_WRONLY
		rw     = os.O_RDWR
		create = os.O_WRONLY | os.O_CREATE
		trunc  = os.O_RDWR | os.O_CREATE | os.O_TRUNC
	)
	tests := []struct {
		name string
		ops  []op
	}{
		{"path names", []op{
			o(opMkdir, "a"), open("a/f", create, actWrite, 0, "x"),
			open("/a/f", rd, actReadAll, 0, ""), open("./a//f", rd, actReadAll, 0, ""),
			open("a/b/../f", rd, actReadAll, 0, ""), open("a/f/", rd, actReadAll, 0, ""),
			o(opStat, "a/./f"), o(opStat, "a/f/.."), o(opStat, ".."),
			o(opStat, "a\x00f"), open("a/\x00", create, actNone, 0, ""), o(opMkdir, "a\x00"),
			o(opStat, "a/"+strings.Repeat("n", 255)), open(strings.Repeat("n", 256), create, actNone, 0, ""),
			o(opMkdir, strings.Repeat("n", 256)), link(strings.Repeat("t", 256), "long"), o(opStat, "long"),
			link("a\x00", "nul"),
		}},
		{"mkdir", []op{
			o(opMkdir, "a"), o(opMkdir, "a"), o(opMkdir, "x/y"), o(opMkdirAll, "x/y/z"), o(opMkdirAll, "x/y/z"),
			open("f", create, actNone, 0, ""), o(opMkdir, "f"), o(opMkdir, "f/g"), o(opMkdirAll, "f/g"), o(opMkdirAll, "f"),
			link("nowhere", "dl"), o(opMkdir, "dl"), o(opMkdirAll, "dl"), o(opMkdirAll, "dl/x"),
			link("x", "lx"), o(opMkdirAll, "lx/y/w"), o(opMkdir, "."), o(opMkdirAll, "."),
			{kind: opMkdir, name: "p", perm: 0o700}, {kind: opMkdir, name: "s", perm: 0o755 | fs.ModeSticky},
		}},
		{"open flags", []op{
			open("f", create, actWrite, 0, "hello"),
			open("f", create|os.O_EXCL, actNone, 0, ""),
			open("g", create|os.O_EXCL, actWrite, 0, "x"),
			open("f", wr, actWrite, 0, "J"),
			open("f", wr|os.O_APPEND, actWrite, 0, "!"),
			open("f", rw|os.O_APPEND, actWriteAt, 0, "x"),
			open("f", trunc, actReadAll, 0, ""),
			open("g", rd|os.O_TRUNC, actReadAll, 0, ""),
			open("missing/f", create, actNone, 0, ""),
			open("f/x", create, actNone, 0, ""),
			open("nope", rd, actNone, 0, ""),
			o(opMkdir, "d"),
			open("d", rd, actReadAll, 0, ""), open("d", wr, actNone, 0, ""), open("d", rw, actNone, 0, ""),
			open("d", rd|os.O_CREATE, actNone, 0, ""), open("d", rd|os.O_TRUNC, actNone, 0, ""),
			open("d", create|os.O_EXCL, actNone, 0, ""),
			link("g", "lg"), open("lg", rd, actReadAll, 0, ""),
			link("new", "dangling"), open("dangling", create|os.O_EXCL, actNone, 0, ""),
			open("dangling", create, actWrite, 0, "made through a link"),
			link("d/", "dslash"), open("dslash", rd, actReaddirnames, 0, ""),
			link("g/", "gslash"), open("gslash", rd, actNone, 0, ""), o(opStat, "gslash"),
			link("/new//", "dslash2"), open("dslash2", create, actNone, 0, ""), open("gslash", create, actNone, 0, ""),
			link("d/./", "dslash3"), open("dslash3", create, actNone, 0, ""),
			link("no/", "dslash4"), open("dslash4", create, actNone, 0, ""), open("dslash4", rd, actNone, 0, ""),
		}},
		{"handles", []op{
			open("f", create, actWrite, 0, "0123456789"),
			open("f", rd, actReadAt, 0, ""), open("f", rd, actReadAt, 7, ""), open("f", rd, actReadAt, 10, ""),
			open("f", rd, actReadAt, 11, ""), open("f", rd, actReadAt, -1, ""),
			open("f", rd, actSeekRead, 3, ""), open("f", rd, actSeekRead, 5, ""), open("f", rd, actSeekRead, -2, ""),
			open("f", rd, actSeekRead, 12, ""),
			open("f", rd, actWrite, 0, "x"), open("f", rd, actWriteAt, 0, "x"), open("f", rd, actTruncate, 0, ""),
			open("f", wr, actReadAll, 0, ""), open("f", wr, actReadAt, 0, ""),
			open("f", rw, actTruncate, 4, ""), open("f", rw, actTruncate, 12, ""), open("f", rw, actTruncate, -1, ""),
			open("f", rw, actWriteAt, 14, "end"), open("f", rw, actWriteAt, -1, "x"), open("f", rd, actStat, 0, ""),
			open("f", rd, actReaddirnames, 0, ""), open("f", rd, actReaddir, 0, ""),
			o(opMkdir, "d"), open("d/b", create, actNone, 0, ""), open("d/a", create, actNone, 0, ""),
			link("a", "d/l"), o(opMkdir, "d/c"),
			open("d", rd, actReaddirnames, 0, ""), open("d", rd, actReaddir, 0, ""), open("d", rd, actReadAll, 0, ""),
			open("d", rd, actReadAt, 0, ""), open("d", rd, actTruncate, 0, ""), open("d", rd, actStat, 0, ""),
			open("d", rd, actSeekRead, 0, ""), open("d", rd, actReaddirBatches, 0, ""),
			open("f", rd, actReaddirBatches, 0, ""), open("d/c", rd, actReaddirBatches, 0, ""),
			open("f", rw, actWriteReadBack, 0, "abc"), open("f", rw|os.O_APPEND, actWriteReadBack, 0, "xyz"),
			open("f", wr, actWriteReadBack, 0, "q"), open("f", rd, actWriteReadBack, 0, "q"),
		}},
		{"remove", []op{
			o(opMkdirAll, "d/e"), open("d/e/f", create, actNone, 0, ""), link("d", "ld"),
			o(opRemove, "d"), o(opRemove, "d/e"), o(opRemove, "nope"), o(opRemove, "d/e/f/x"),
			o(opRemove, "ld/e/f"), o(opRemove, "ld"), o(opStat, "d"), o(opRemove, "d/e"), o(opRemove, "d"),
			o(opRemove, ".."),
		}},
		{"remove all", []op{
			o(opMkdirAll, "d/e/g"), open("d/e/f", create, actNone, 0, ""), o(opMkdir, "out"),
			open("out/keep", create, actWrite, 0, "kept"), link("../../out", "d/e/lout"), link("d", "ld"),
			o(opRemoveAll, "ld"), o(opStat, "d/e/f"), o(opRemoveAll, "d"), o(opStat, "out/keep"),
			o(opRemoveAll, "nope"), o(opRemoveAll, "nope/x"), o(opRemoveAll, "out/keep/x"),
		}},
		{"rename", []op{
			open("f", create, actWrite, 0, "f"), open("g", create, actWrite, 0, "g"), o(opMkdirAll, "d/x"),
			o(opMkdir, "e"), link("f", "lf"), link("g", "lg"), link("d", "ld"),
			rename("f", "h"), rename("h", "g"), rename("lg", "lf"), rename("lf", "lf"), rename("g", "ld/g"),
			rename("d", "e"), rename("e", "d"), rename("d", "d"), rename("d", "./d"), rename("./d", "d"),
			renameAsIs("d", "d/"), renameAsIs("d/", "d"), renameAsIs("d/", "d/"), rename("d", "a/../d"),
			rename("d/x", "d"),
			rename("e", "ld"), rename("e", "d/g"), rename("d/g", "e"), rename("d", "d/x/y"), rename("d", "ld/y"),
			rename("nope", "h"), rename("nope", "e"), rename("g", "nope/h"), rename("d/g/x", "h"),
			rename("e", "d/x/e"), rename("d/x/e", "e"), rename("ld", "lx"), rename("..", "y"), rename("e", ".."),
		}},
		{"symlinks", []op{
			o(opMkdirAll, "static/css"), open("static/css/a.css", create, actWrite, 0, "body{}"),
			link(".", "static/v1"), open("static/v1/v1/css/a.css", rd, actReadAll, 0, ""),
			link("/static/css/a.css", "abs"), open("abs", rd, actReadAll, 0, ""),
			link("../static", "static/css/up"), open("static/css/up/css/a.css", rd, actReadAll, 0, ""),
			link("css", "static/lcss"), link("../css/a.css", "static/css/rel"),
			open("static/lcss/rel", rd, actReadAll, 0, ""),
			link("up/..", "static/css/phys"), o(opStat, "static/css/phys"), o(opLstat, "static/css/phys"),
			o(opReadlink, "static/css/phys"), o(opReadlink, "static"), o(opReadlink, "nope"),
			link("missing/file", "dangling"), o(opStat, "dangling"), o(opLstat, "dangling"),
			link("loop2", "loop1"), link("loop1", "loop2"), link("self", "self"),
			o(opStat, "loop1"), o(opStat, "self"), o(opStat, "self/x"), open("loop1", create, actNone, 0, ""),
			o(opLstat, "loop1"), o(opRemove, "loop1"),
			link("x", "static/v1"), link("x", "nope/l"), link("x", "abs/l"), link("", "empty"),
			o(opChmod, "static/v1"), o(opLstat, "static/v1"), o(opChtimes, "dangling"), o(opChtimes, "abs"),
		}},
		{"chmod and chtimes", []op{
			open("f", create, actNone, 0, ""), o(opMkdir, "d"),
			{kind: opChmod, name: "f", perm: 0o600}, {kind: opChmod, name: "d", perm: 0o700 | fs.ModeSticky},
			o(opStat, "f"), o(opStat, "d"), o(opChmod, "nope"), o(opChtimes, "f"), o(opChtimes, "nope"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runBoth(t, tt.ops)
		})
	}
}

// TestMemFSvsOSRandom runs seeded random sequences. Rerun a failure with the
// printed sequence added to TestMemFSvsOSScript.
func TestMemFSvsOSRandom(t *testing.T) {
	skipUnlessLinux(t)
	sequences := 100
	if testing.Short() {
		sequences = 20
	}
	for seed := range sequences {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		data := make([]byte, 200)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			runBoth(t, decodeOps(data, 40))
		})
	}
}

// FuzzMemFSvsOS decodes bytes into operations and runs them on both sides.
func FuzzMemFSvsOS(f *testing.F) {
	skipUnlessLinux(f)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 20))
	for seed := range 8 {
		r := rand.New(rand.NewPCG(uint64(seed), 0xf022))
		data := make([]byte, 120)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runBoth(t, decodeOps(data, 60))
	})
}
