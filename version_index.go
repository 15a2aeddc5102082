package stampfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/stampfs/stampfs/vfs"
)

// A version's table is kept in two files of its directory, both binary and
// read in one pass (the hash cache reads the newest version's on every
// publish):
//
//   - the base, ".stampfs-base": a complete table of files. Versions share
//     it by hard links, as they share unchanged files, so the table of a
//     tree of 100,000 files is stored once, not once per version;
//   - the index, ".stampfs-index": the version's header and the difference
//     between its table and the base's: the files that are new or differ,
//     and the names the base has that the version has not.
//
// The base:
//
//	magic     "stampfs-base\x00\x01\n" (15 bytes)
//	id        [16]byte, random, named by every index made against it
//	count     uvarint, the number of files
//	count × file record, sorted bytewise by name
//	crc32     uint32 (IEEE) of everything before it, which proves it whole
//
// The index:
//
//	magic     "stampfs-index\x00\x03\n" (16 bytes)
//	stamp     uint8 length, bytes
//	strategy  uint8 length, bytes
//	created   int64, Unix nanoseconds
//	scanned   int64, Unix nanoseconds
//	base      [16]byte, the id of the base in the same directory
//	count     uvarint, the number of changes
//	count × change, sorted bytewise by name: a kind byte, 0 for a file
//	          record to add or replace, 1 for a name to drop (its name only)
//	crc32     uint32 (IEEE) as above
//
// A file record is
//
//	name      uvarint bytes shared with the previous record's name, uvarint
//	          length of the rest, the rest
//	size      uvarint
//	mtime     varint, nanoseconds, as a difference from the previous record's
//	dev       uvarint
//	ino       varint, as a difference from the previous record's
//	ctime     varint, nanoseconds, as a difference from the previous record's
//	stored    varint, the stored file's inode, as a difference from the previous record's
//	sha256    [32]byte
//
// A dropped name is written as a record's name alone. Within one file
// (the base's records, or the index's changes), a name shares its prefix
// with the name before it, a file record's or a drop's, and the first name
// with the empty one; the numbers are differences from the previous file
// record's (a drop has none), and the first from zero. Differences make the
// numbers of a tree written at once a byte or two each. Fixed-size integers
// are little-endian; varints are encoding/binary's. Anything else is not an
// index.
const (
	indexMagic = "stampfs-index\x00\x03\n"
	baseMagic  = "stampfs-base\x00\x01\n"
)

// indexBase is a base read or written: its records, kept encoded, and
// decoded as they are walked (a publish reads the newest version's base
// every time, and most of the time only compares the scan with it).
type indexBase struct {
	id      [16]byte
	count   int      // files in the base
	records []byte   // count file records, covered by the file's CRC
	size    int64    // of the base's file, checked before it is linked
	file    baseFile // the file it was read from
}

// record is a file record's coder: it holds what the next record's
// differences are taken against (and, writing, the previous name; the
// decoder keeps that in its prev).
type record struct {
	name                  string
	mtime, ino, ctime, st int64
}

func (c *record) put(w *bytes.Buffer, f *File, r *indexRow) {
	shared := 0
	for shared < len(f.Name) && shared < len(c.name) && f.Name[shared] == c.name[shared] {
		shared++
	}
	var b [binary.MaxVarintLen64]byte
	uv := func(n uint64) { w.Write(b[:binary.PutUvarint(b[:], n)]) }
	sv := func(n int64) { w.Write(b[:binary.PutVarint(b[:], n)]) }
	uv(uint64(shared))
	uv(uint64(len(f.Name) - shared))
	w.WriteString(f.Name[shared:])
	mtime, ino, stored := f.ModTime.UnixNano(), int64(r.live.ino), int64(r.stored)
	uv(uint64(f.Size))
	sv(mtime - c.mtime)
	uv(r.live.dev)
	sv(ino - c.ino)
	sv(r.live.ctime - c.ctime)
	sv(stored - c.st)
	w.Write(f.SHA256[:])
	*c = record{name: f.Name, mtime: mtime, ino: ino, ctime: r.live.ctime, st: stored}
}

// decoder reads records from p. Names are gathered in one buffer and cut
// from one string at the end, so that a table of many files allocates a
// few times, not once per name.
type decoder struct {
	p       []byte
	err     error
	prev    []byte // the previous name
	names   []byte // every name, one after the other
	ends    []int  // where each name ends in names
	rec     record
	discard bool // keep only the previous name in names
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errBadIndex, why)
	}
}

func (d *decoder) uvarint() uint64 {
	n, k := binary.Uvarint(d.p)
	if k <= 0 {
		d.fail("truncated or overlong number")
		d.p = nil
		return 0
	}
	d.p = d.p[k:]
	return n
}

// varint reads a signed number as binary.PutVarint writes it: zigzag over
// an unsigned one.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// name reads a record's name into names, after the names before it (unless
// discard): the i-th is names[ends[i-1]:ends[i]], and prev the last one.
func (d *decoder) name() {
	shared, rest := d.uvarint(), d.uvarint()
	if d.err != nil {
		return
	}
	if shared > uint64(len(d.prev)) || rest > uint64(len(d.p)) || shared+rest > 0xffff {
		d.fail("bad name")
		d.p = nil
		return
	}
	if d.discard {
		d.names = d.names[:0] // the previous name is at its start
	}
	start := len(d.names)
	d.names = append(d.names, d.prev[:shared]...)
	d.names = append(d.names, d.p[:rest]...)
	d.p = d.p[rest:]
	d.prev = d.names[start:]
	if !d.discard {
		d.ends = append(d.ends, len(d.names))
	}
}

// fields reads the rest of a file record.
func (d *decoder) fields(f *File, r *indexRow) {
	size := d.uvarint()
	mtime := d.rec.mtime + d.varint()
	dev := d.uvarint()
	ino := d.rec.ino + d.varint()
	ctime := d.rec.ctime + d.varint()
	stored := d.rec.st + d.varint()
	if d.err != nil {
		return
	}
	if len(d.p) < sha256.Size || size > 1<<62 {
		d.fail("truncated file record")
		d.p = nil
		return
	}
	copy(f.SHA256[:], d.p)
	d.p = d.p[sha256.Size:]
	f.Size, f.ModTime = int64(size), time.Unix(0, mtime)
	r.live = liveStat{dev: dev, ino: uint64(ino), ctime: ctime}
	r.stored = uint64(stored)
	d.rec = record{mtime: mtime, ino: ino, ctime: ctime, st: stored}
}

// cut gives each of files the name the decoder read for it, in order, and
// checks the names: valid, no dot segment, sorted.
func (d *decoder) cut(files []File) {
	if d.err != nil {
		return
	}
	all := string(d.names)
	start := 0
	for i := range files {
		name := all[start:d.ends[i]]
		start = d.ends[i]
		if !validName(name) {
			d.fail(fmt.Sprintf("bad file name %q", name))
			return
		}
		if i > 0 && files[i-1].Name >= name {
			d.fail("names out of order")
			return
		}
		files[i].Name = name
	}
}

// checked returns the body of data, a file that starts with magic and ends
// with the CRC of all before it, after the magic.
func checked(data []byte, magic string) ([]byte, error) {
	if len(data) < len(magic)+4 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a stampfs %s", errBadIndex, strings.TrimRight(magic[8:], "\x00\x01\x02\x03\n"))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: truncated or damaged (checksum)", errBadIndex)
	}
	return body[len(magic):], nil
}

func appendCRC(w *bytes.Buffer) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], crc32.ChecksumIEEE(w.Bytes()))
	w.Write(b[:])
}

// writeBase writes a base of the table files, rows with a new id and
// returns it.
func writeBase(w *bytes.Buffer, files []File, rows []indexRow) (*indexBase, error) {
	var rec bytes.Buffer
	var c record
	for i := range files {
		if err := checkName(files[i].Name); err != nil {
			return nil, err
		}
		c.put(&rec, &files[i], &rows[i])
	}
	b := &indexBase{count: len(files), records: rec.Bytes()}
	copy(b.id[:], randomBytes(len(b.id)))
	encodeBase(w, b)
	b.size = int64(w.Len())
	return b, nil
}

// encodeBase writes b, byte for byte as every other time.
func encodeBase(w *bytes.Buffer, b *indexBase) {
	start := w.Len()
	w.WriteString(baseMagic)
	w.Write(b.id[:])
	w.Write(binary.AppendUvarint(nil, uint64(b.count)))
	w.Write(b.records)
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc32.ChecksumIEEE(w.Bytes()[start:]))
	w.Write(sum[:])
}

func checkName(name string) error {
	if len(name) > 0xffff {
		return &fs.PathError{Op: "index", Path: name, Err: fmt.Errorf("name longer than 65,535 bytes: %w", fs.ErrInvalid)}
	}
	return nil
}

// readBase reads a base of about size bytes (a hint) and checks that it is
// whole; its records are checked as they are decoded.
func readBase(r io.Reader, size int64) (*indexBase, error) {
	data, err := readAll(r, size)
	if err != nil {
		return nil, err
	}
	p, err := checked(data, baseMagic)
	if err != nil {
		return nil, err
	}
	if len(p) < 16 {
		return nil, fmt.Errorf("%w: truncated header", errBadIndex)
	}
	b := &indexBase{size: int64(len(data))}
	copy(b.id[:], p)
	d := &decoder{p: p[16:]}
	count := d.uvarint()
	// A record takes at least 40 bytes: a bound before allocating.
	if d.err == nil && count > uint64(len(d.p)/40) {
		d.fail("file count larger than the base")
	}
	if d.err != nil {
		return nil, d.err
	}
	b.count, b.records = int(count), d.p
	return b, nil
}

// readAll is io.ReadAll into a buffer of the expected size.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > 1<<30 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// writeIndex writes the index of v against its base, v.base, and returns
// the number of changes it records.
func writeIndex(w *bytes.Buffer, v *Version) (int, error) {
	var body bytes.Buffer
	var c record
	var err error
	n := 0
	derr := diff(v.Files, v.rows, v.base, func(i int, drop []byte) {
		if err != nil {
			return
		}
		n++
		if i >= 0 {
			if err = checkName(v.Files[i].Name); err == nil {
				body.WriteByte(0)
				c.put(&body, &v.Files[i], &v.rows[i])
			}
			return
		}
		body.WriteByte(1)
		shared := 0
		for shared < len(drop) && shared < len(c.name) && drop[shared] == c.name[shared] {
			shared++
		}
		body.Write(binary.AppendUvarint(nil, uint64(shared)))
		body.Write(binary.AppendUvarint(nil, uint64(len(drop)-shared)))
		body.Write(drop[shared:])
		c.name = string(drop)
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	w.WriteString(indexMagic)
	w.WriteByte(byte(len(v.Stamp)))
	w.WriteString(v.Stamp)
	w.WriteByte(byte(len(v.Strategy)))
	w.WriteString(string(v.Strategy))
	w.Write(le.AppendUint64(nil, uint64(v.Created.UnixNano())))
	w.Write(le.AppendUint64(nil, uint64(v.scanned.UnixNano())))
	w.Write(v.base.id[:])
	w.Write(binary.AppendUvarint(nil, uint64(n)))
	w.Write(body.Bytes())
	appendCRC(w)
	return n, nil
}

// readIndex parses an index, and its base through base (given the id the
// index names). Anything but a complete, well-formed index of sorted valid
// names against a base of that id is an error wrapping errBadIndex. A lazy
// read leaves the table to decode (or to compare with a scan, which is
// cheaper): until then the base's records are checked only as a whole.
func readIndex(r io.Reader, base func(id [16]byte) (*indexBase, error), lazy bool) (*Version, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	p, err := checked(data, indexMagic)
	if err != nil {
		return nil, err
	}
	short := fmt.Errorf("%w: truncated header", errBadIndex)
	text := func() (string, error) {
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return "", short
		}
		s := string(p[1 : 1+int(p[0])])
		p = p[1+int(p[0]):]
		return s, nil
	}
	v := &Version{}
	if v.Stamp, err = text(); err != nil {
		return nil, err
	}
	strategy, err := text()
	if err != nil {
		return nil, err
	}
	if !vfs.ValidSegment(v.Stamp) {
		return nil, fmt.Errorf("%w: bad stamp", errBadIndex)
	}
	v.Strategy = Strategy(strategy)
	if len(p) < 32 {
		return nil, short
	}
	le := binary.LittleEndian
	v.Created, v.scanned = time.Unix(0, int64(le.Uint64(p))), time.Unix(0, int64(le.Uint64(p[8:])))
	var id [16]byte
	copy(id[:], p[16:32])
	if v.base, err = base(id); err != nil {
		return nil, err
	}
	if v.base.id != id {
		return nil, fmt.Errorf("%w: made against another base", errBadIndex)
	}

	// The changes, read in full, then merged with the base's table.
	d := &decoder{p: p[32:]}
	count := d.uvarint()
	// Drops cannot outnumber the base's files, and a file record takes at
	// least 41 bytes: a bound before allocating.
	if d.err == nil && count > uint64(v.base.count)+uint64(len(d.p)/41) {
		d.fail("change count larger than the index")
	}
	if d.err != nil {
		return nil, d.err
	}
	files, rows, drop := make([]File, count), make([]indexRow, count), make([]bool, count)
	for i := range files {
		kind := byte(2)
		if len(d.p) > 0 {
			kind, d.p = d.p[0], d.p[1:]
		}
		switch kind {
		case 0:
			d.name()
			d.fields(&files[i], &rows[i])
		case 1:
			d.name()
			drop[i] = true
		default:
			d.fail("bad change")
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	if len(d.p) != 0 {
		return nil, fmt.Errorf("%w: bytes after the last change", errBadIndex)
	}
	d.cut(files)
	if d.err != nil {
		return nil, d.err
	}
	v.changes = &indexChanges{files: files, rows: rows, drop: drop}
	if !lazy {
		if err := v.decode(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// indexChanges are the changes an index records to its base, as read.
type indexChanges struct {
	files []File
	rows  []indexRow
	drop  []bool
}

// decode makes the table of a version read lazily.
func (v *Version) decode() (err error) {
	if v.changes == nil {
		return nil
	}
	c := v.changes
	v.Files, v.rows, err = decodeMerged(v.base, c.files, c.rows, c.drop)
	v.changes = nil
	return err
}

// validName reports whether name may be a stored file's: a valid path with
// no dot segment or dot file.
func validName(name string) bool {
	return fs.ValidPath(name) && name != "." && !strings.HasPrefix(name, ".") && !strings.Contains(name, "/.")
}
