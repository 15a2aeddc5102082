//go:build linux && (amd64 || arm64)

package stampfs

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The Linux fast path of the scanner. walkLinux lists the same files as
// walkPortable over afero.NewOsFs, with fewer and cheaper system calls: it
// reads directory entries with getdents64 into a reused buffer, classifies
// them by d_type, and stats or opens files relative to the open directory
// (fstatat, openat with O_NOFOLLOW), never by a path from the root. A few
// goroutines read directories in parallel. Each directory sorts its own
// entries, a subdirectory keyed by its name and a slash, which is where its
// files fall in the bytewise order of full names; the table is then written
// in one pass over the tree, with no global sort. On the hot path the
// allocations are per directory, not per file.
//
// Errors are those walkPortable returns, and the same one when several
// paths fail: walkPortable stops at the first error of a depth-first walk in
// directory order (each directory's entries are lstat'ed before any of its
// subdirectories is entered), then hashes in Name order. walkLinux records
// where each error falls in that order (an errKey) and keeps the least.

func init() { osWalk = walkLinux }

// testHookEntry, when set by a test, runs between listing an entry and
// stat'ing or opening it, with its name. When it returns true the entry's
// d_type is ignored, as on file systems that report DT_UNKNOWN.
var testHookEntry func(name string) (forgetType bool)

const (
	atSymlinkNoFollow = 0x100 // AT_SYMLINK_NOFOLLOW, the same on every Linux port

	direntBufSize = 32 << 10 // getdents64 buffer, reused by one worker
	readBufSize   = 64 << 10 // file read buffer, reused by one worker

	openDirFlags  = syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	openFileFlags = syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_NOCTTY | syscall.O_CLOEXEC
)

// sysFstatat is the number of fstatat(2) without a 64 suffix: newfstatat on
// amd64, the generic table's fstatat on arm64. syscall.Fstatat would copy
// every name to the heap.
func sysFstatat() uintptr {
	if runtime.GOARCH == "amd64" {
		return 262
	}
	return 79
}

// walkLinux lists the counted files of dir, sorted bytewise by Name, with
// SHA256 filled when hash is set. See osWalk for the contract.
func walkLinux(dir string, hash, stat bool, m *meter) ([]File, []liveStat, error) {
	fd, err := openScanRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	w := &linuxWalk{root: dir, hash: hash, m: m}
	w.cond.L = &w.mu
	d := &linuxDir{fd: fd}
	d.refs.Store(1)
	root := &linuxNode{}
	w.stack = append(w.stack, linuxJob{dir: d, node: root})
	w.pending = 1

	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) + 1 {
		wg.Go(w.work)
	}
	wg.Wait()
	if w.walkErr != nil {
		return nil, nil, w.walkErr
	}
	if w.hashErr != nil {
		return nil, nil, w.hashErr
	}
	if w.files == 0 {
		return nil, nil, nil
	}
	var stats []liveStat
	if stat {
		stats = make([]liveStat, 0, w.files)
	}
	files, stats := root.appendTo(make([]File, 0, w.files), stats)
	return files, stats, nil
}

// openScanRoot opens dir, following a link as fsys.Stat does. On failure it
// returns walkPortable's error for dir.
func openScanRoot(dir string) (int, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	})
	if err == nil {
		return fd, nil
	}
	info, statErr := os.Stat(dir)
	switch {
	case statErr != nil:
		return -1, statErr
	case !info.IsDir():
		return -1, &fs.PathError{Op: "scan", Path: dir, Err: syscall.ENOTDIR}
	}
	return -1, &fs.PathError{Op: "open", Path: filepath.Join(dir, ""), Err: err}
}

// linuxWalk is the state one walkLinux call shares between its workers.
type linuxWalk struct {
	root string
	hash bool
	m    *meter // counts the files and bytes hashed, or listed

	mu      sync.Mutex
	cond    sync.Cond
	stack   []linuxJob // directories to read, last in first out
	pending int        // jobs on the stack or being read

	walkErr error  // the walk error least in walk order, under mu
	walkKey errKey // its place
	hashErr error  // the hashing error of the least Name, under mu
	hashAt  string // that Name
	files   int    // counted files found, under mu
}

// errKey places an event in walkPortable's order: a directory's key is its
// parent's plus {1, i} for its index i among the parent's entries; an event
// while listing the directory adds {0, -1} to it, and one on its entry i
// adds {0, i}.
type errKey []int32

func (k errKey) child(i int) errKey { return append(slices.Clip(k), 1, int32(i)) }
func (k errKey) at(i int) errKey    { return append(slices.Clip(k), 0, int32(i)) }

// linuxJob is one directory to read: name (a slash path relative to the
// root, "" for the root itself), opened relative to its parent, or dir
// already open. Its reader fills node.
type linuxJob struct {
	parent *linuxDir
	dir    *linuxDir
	node   *linuxNode
	name   string
	key    errKey
	depth  int
}

// linuxNode is what the walk found in one directory: its counted files and
// its subdirectories, in the order of the final table.
type linuxNode struct {
	entries []linuxEntry
	subs    []*linuxNode
	sums    [][sha256.Size]byte // when hashing
}

// linuxEntry is a counted file, or a subdirectory when size is -1.
type linuxEntry struct {
	name string // the slash path from the root; a subdirectory's ends in "/"
	size int64
	sec  int64
	nsec int32
	aux  int32 // index in subs for a subdirectory, in sums for a hashed file
	stat liveStat
}

// appendTo appends the files of n and its subdirectories to files, in
// order, and their liveStat to stats unless stats is nil.
func (n *linuxNode) appendTo(files []File, stats []liveStat) ([]File, []liveStat) {
	for _, e := range n.entries {
		if e.size < 0 {
			files, stats = n.subs[e.aux].appendTo(files, stats)
			continue
		}
		f := File{Name: e.name, Size: e.size, ModTime: time.Unix(e.sec, int64(e.nsec))}
		if n.sums != nil {
			f.SHA256 = n.sums[e.aux]
		}
		files = append(files, f)
		if stats != nil {
			stats = append(stats, e.stat)
		}
	}
	return files, stats
}

// linuxDir is an open directory, shared by its own reader and the jobs of its
// subdirectories; the last of them closes it.
type linuxDir struct {
	fd   int
	refs atomic.Int32
}

func (d *linuxDir) release() {
	if d.refs.Add(-1) == 0 {
		syscall.Close(d.fd)
	}
}

// linuxWorker holds what one goroutine reuses for every directory.
type linuxWorker struct {
	dirent  []byte
	buf     []byte
	h       hash.Hash
	sum     []byte // where h writes each sum, which would escape otherwise
	entries []linuxEntry
	sums    [][sha256.Size]byte
	names   []byte     // the names of the current directory's entries, back to back
	ends    []int      // where each of them ends in names
	order   []int32    // the entries' indexes in name order
	subs    []linuxJob // the current directory's subdirectories
	files   int        // counted files in the current directory
	// The hashing error of the least Name in the current directory.
	hashErr error
	hashAt  string
}

// work reads directories until none are left.
func (w *linuxWalk) work() {
	k := &linuxWorker{dirent: make([]byte, direntBufSize)}
	if w.hash {
		k.buf = make([]byte, readBufSize)
		k.h = sha256.New()
		k.sum = make([]byte, 0, sha256.Size)
	}
	for {
		w.mu.Lock()
		for len(w.stack) == 0 && w.pending > 0 {
			w.cond.Wait()
		}
		if len(w.stack) == 0 {
			w.mu.Unlock()
			return
		}
		job := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		// A walk error before this directory makes everything in it moot.
		skip := w.walkErr != nil && slices.Compare(job.key, w.walkKey) > 0
		w.mu.Unlock()

		var d *linuxDir
		var err error
		var key errKey
		if !skip {
			d, err = w.open(job)
			if err == nil {
				key, err = w.readDir(k, d, job)
			} else {
				key = job.key.at(-1)
			}
		} else if job.parent != nil {
			job.parent.release()
		}

		w.mu.Lock()
		if err != nil {
			w.fail(key, err)
			k.subs = k.subs[:0] // after the error in walk order, and half made
		}
		if k.hashErr != nil {
			w.failHash(k.hashAt, k.hashErr)
			k.hashErr = nil
		}
		w.files += k.files
		k.files = 0
		for _, s := range k.subs {
			d.refs.Add(1)
			s.parent = d
			w.stack = append(w.stack, s)
		}
		w.pending += len(k.subs) - 1
		switch {
		case w.pending == 0, len(k.subs) > 1:
			w.cond.Broadcast()
		case len(k.subs) == 1:
			w.cond.Signal()
		}
		k.subs = k.subs[:0]
		w.mu.Unlock()
		if d != nil {
			d.release()
		}
	}
}

// fail keeps the walk error err if it comes before the one kept so far.
// Called under mu.
func (w *linuxWalk) fail(key errKey, err error) {
	if w.walkErr == nil || slices.Compare(key, w.walkKey) < 0 {
		w.walkErr, w.walkKey = err, key
	}
}

// failHash keeps the error of hashing the file name if no file before it
// in Name order failed: walkPortable hashes in that order after the walk.
// Called under mu.
func (w *linuxWalk) failHash(name string, err error) {
	if w.hashErr == nil || name < w.hashAt {
		w.hashErr, w.hashAt = err, name
	}
}

// open opens job's directory relative to its parent, which it releases.
func (w *linuxWalk) open(job linuxJob) (*linuxDir, error) {
	if job.dir != nil {
		return job.dir, nil
	}
	defer job.parent.release()
	if job.depth > maxDepth {
		return nil, &fs.PathError{Op: "scan", Path: w.path(job.name), Err: syscall.ELOOP}
	}
	base := job.name[strings.LastIndexByte(job.name, '/')+1:]
	fd, err := ignoringEINTR(func() (int, error) { return syscall.Openat(job.parent.fd, base, openDirFlags, 0) })
	if err != nil {
		return nil, w.pathError("open", job.name, err)
	}
	d := &linuxDir{fd: fd}
	d.refs.Store(1)
	return d, nil
}

// path returns the OS path of the slash path name relative to the root.
func (w *linuxWalk) path(name string) string {
	return filepath.Join(w.root, filepath.FromSlash(name))
}

// pathError names the OS path of name in a PathError wrapping err, a
// system call's errno (see the function pathError).
func (w *linuxWalk) pathError(op, name string, err error) error {
	return pathError(op, w.path(name), err)
}

// readDir lists the directory d of job into job.node, and its
// subdirectories into k.subs. On failure it returns where the error falls in
// walk order.
func (w *linuxWalk) readDir(k *linuxWorker, d *linuxDir, job linuxJob) (errKey, error) {
	prefix := job.name
	if prefix != "" {
		prefix += "/"
	}
	k.entries = k.entries[:0]
	k.sums = k.sums[:0]
	k.names = k.names[:0]
	k.ends = k.ends[:0]
	var st syscall.Stat_t
	index := 0      // of the entry in directory order
	stated := false // whether an entry was lstat'ed, which proves the directory searchable
	for {
		n, err := ignoringEINTR(func() (int, error) { return syscall.Getdents(d.fd, k.dirent) })
		if err != nil {
			return job.key.at(-1), w.pathError("readdirent", job.name, err)
		}
		if n <= 0 {
			break
		}
		for off := 0; off < n; index++ {
			rec := k.dirent[off:n]
			reclen := int(binary.NativeEndian.Uint16(rec[16:18]))
			ino := binary.NativeEndian.Uint64(rec[0:8])
			typ := rec[18]
			ent := rec[19:reclen] // the name, a NUL, padding
			off += reclen
			nlen := 0
			for nlen < len(ent) && ent[nlen] != 0 {
				nlen++
			}
			if ino == 0 || nlen == 0 || ent[0] == '.' {
				continue
			}
			name := &ent[0]
			if testHookEntry != nil && testHookEntry(prefix+string(ent[:nlen])) {
				typ = syscall.DT_UNKNOWN
			}
			// walkPortable lstats every entry. The first one tells whether
			// the directory is searchable; afterwards d_type is enough.
			if typ == syscall.DT_UNKNOWN || !stated || typ == syscall.DT_REG && !w.hash {
				if err := fstatat(d.fd, name, &st); err != nil {
					return job.key.at(index), w.pathError("lstat", prefix+string(ent[:nlen]), err)
				}
				typ = direntType(st.Mode)
				stated = true
			}
			var e linuxEntry
			switch typ {
			case syscall.DT_DIR:
				e = linuxEntry{size: -1, aux: int32(len(k.subs))}
				k.subs = append(k.subs, linuxJob{key: job.key.child(index), depth: job.depth + 1})
			case syscall.DT_REG:
				if w.hash {
					sum, ok, op, err := w.hashFile(k, d.fd, name, &st)
					if err != nil {
						full := prefix + string(ent[:nlen])
						if op == "lstat" {
							return job.key.at(index), w.pathError(op, full, err)
						}
						if k.hashErr == nil || full < k.hashAt {
							k.hashErr, k.hashAt = w.pathError(op, full, err), full
						}
						continue
					}
					if !ok {
						continue
					}
					e.aux = int32(len(k.sums))
					k.sums = append(k.sums, sum)
				}
				sec, nsec := st.Mtim.Unix()
				e.size, e.sec, e.nsec = st.Size, sec, int32(nsec)
				e.stat = statOf(&st)
				k.files++
				if w.hash {
					w.m.add(1, 0) // its bytes counted as they were read
				} else {
					w.m.add(1, st.Size)
				}
			default:
				continue
			}
			k.names = append(k.names, prefix...)
			k.names = append(k.names, ent[:nlen]...)
			if e.size < 0 {
				k.names = append(k.names, '/')
			}
			k.ends = append(k.ends, len(k.names))
			k.entries = append(k.entries, e)
		}
	}

	// One string holds the names of this directory's entries.
	all := string(k.names)
	start := 0
	for i, end := range k.ends {
		e := &k.entries[i]
		e.name = all[start:end]
		start = end
		if e.size < 0 {
			k.subs[e.aux].name = e.name[:len(e.name)-1]
		}
	}
	// Sort positions rather than 40-byte entries, on the names past the
	// prefix they share.
	k.order = k.order[:0]
	for i := range k.entries {
		k.order = append(k.order, int32(i))
	}
	p := len(prefix)
	slices.SortFunc(k.order, func(a, b int32) int {
		return strings.Compare(k.entries[a].name[p:], k.entries[b].name[p:])
	})
	node := job.node
	node.entries = make([]linuxEntry, len(k.order))
	for i, j := range k.order {
		node.entries[i] = k.entries[j]
	}
	if len(k.subs) > 0 {
		node.subs = make([]*linuxNode, len(k.subs))
		for i := range k.subs {
			node.subs[i] = &linuxNode{}
			k.subs[i].node = node.subs[i]
		}
	}
	if w.hash {
		node.sums = slices.Clone(k.sums)
	}
	return nil, nil
}

// hashFile opens, stats and reads the entry name (NUL-terminated) of the
// directory dirfd, leaving its fstat in st. ok is false when it is no longer
// a regular file, which is not counted; op names the system call that failed
// with err, "lstat" when the entry cannot even be lstat'ed, as walkPortable
// would have found. st.Size is set to the number of bytes hashed.
func (w *linuxWalk) hashFile(k *linuxWorker, dirfd int, name *byte, st *syscall.Stat_t) (sum [sha256.Size]byte, ok bool, op string, err error) {
	fd, err := openat(dirfd, name, openFileFlags)
	if err != nil {
		if e := fstatat(dirfd, name, st); e != nil {
			return sum, false, "lstat", e
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return sum, false, "", nil // replaced since listing: a link now, say
		}
		return sum, false, "open", err
	}
	defer syscall.Close(fd)
	if err := syscall.Fstat(fd, st); err != nil {
		return sum, false, "stat", err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return sum, false, "", nil
	}
	k.h.Reset()
	var total int64
	for {
		n, err := syscall.Read(fd, k.buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return sum, false, "read", err
		}
		if n <= 0 {
			break
		}
		total += int64(n)
		k.h.Write(k.buf[:n])
		w.m.add(0, int64(n))
		// A short read that ends at the size fstat gave is the end of the
		// file: asking again would only return 0. (A file growing now could
		// as well have grown after the last read.)
		if n < len(k.buf) && total == st.Size {
			break
		}
	}
	st.Size = total
	copy(sum[:], k.h.Sum(k.sum[:0]))
	return sum, true, "", nil
}

func direntType(mode uint32) byte {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return syscall.DT_DIR
	case syscall.S_IFREG:
		return syscall.DT_REG
	}
	return syscall.DT_UNKNOWN
}

func ignoringEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// openat is openat(2) for a NUL-terminated name, without copying it.
func openat(dirfd int, name *byte, flags int) (int, error) {
	for {
		fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(flags), 0, 0, 0)
		switch e {
		case 0:
			return int(fd), nil
		case syscall.EINTR:
			continue
		}
		return -1, e
	}
}

// fstatat is fstatat(2) with AT_SYMLINK_NOFOLLOW for a NUL-terminated name.
func fstatat(dirfd int, name *byte, st *syscall.Stat_t) error {
	for {
		_, _, e := syscall.Syscall6(sysFstatat(), uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), atSymlinkNoFollow, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return e
	}
}
