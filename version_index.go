package stampfs

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/stampfs/stampfs/vfs"
)

// The index of a version is a binary file, read in one pass without
// parsing text, since the hash cache reads the newest one on every publish:
//
//	magic     "stampfs-index\x00\x02\n" (16 bytes)
//	stamp     uint8 length, bytes
//	strategy  uint8 length, bytes
//	created   int64, Unix nanoseconds
//	scanned   int64, Unix nanoseconds
//	count     uint32, the number of files
//	count × file, sorted bytewise by name:
//	  sha256  [32]byte
//	  sri     [48]byte, the SHA-384
//	  size, mtime (ns), dev, ino, ctime (ns), stored ino   6 × 64 bits
//	  name    uint16 length, bytes
//	crc32     uint32 (IEEE) of everything before it, which proves it whole
//
// Integers are little-endian. Anything else is not an index.
const indexMagic = "stampfs-index\x00\x02\n"

// fileRecord is the fixed part of a file's record.
const fileRecord = 32 + 48 + 6*8 + 2

func writeIndex(w *bytes.Buffer, v *Version) error {
	le := binary.LittleEndian
	w.WriteString(indexMagic)
	w.WriteByte(byte(len(v.Stamp)))
	w.WriteString(v.Stamp)
	w.WriteByte(byte(len(v.Strategy)))
	w.WriteString(string(v.Strategy))
	var b [8]byte
	le.PutUint64(b[:], uint64(v.Created.UnixNano()))
	w.Write(b[:])
	le.PutUint64(b[:], uint64(v.scanned.UnixNano()))
	w.Write(b[:])
	le.PutUint32(b[:4], uint32(len(v.Files)))
	w.Write(b[:4])
	var rec [fileRecord]byte
	for i, f := range v.Files {
		if len(f.Name) > 0xffff {
			return &fs.PathError{Op: "index", Path: f.Name, Err: fmt.Errorf("name longer than 65,535 bytes: %w", fs.ErrInvalid)}
		}
		r := v.rows[i]
		copy(rec[0:32], f.SHA256[:])
		copy(rec[32:80], r.sri[:])
		for j, n := range [...]uint64{uint64(f.Size), uint64(f.ModTime.UnixNano()), r.live.dev, r.live.ino, uint64(r.live.ctime), r.stored} {
			le.PutUint64(rec[80+8*j:], n)
		}
		le.PutUint16(rec[128:], uint16(len(f.Name)))
		w.Write(rec[:])
		w.WriteString(f.Name)
	}
	le.PutUint32(b[:4], crc32.ChecksumIEEE(w.Bytes()))
	w.Write(b[:4])
	return nil
}

// sri384 is an integrity value: a SHA-384, held in place so that an index of
// many files allocates none for it.
type sri384 [48]byte

func (s sri384) String() string { return "sha384-" + base64.StdEncoding.EncodeToString(s[:]) }

// sums reads r to its end through buf (nil for io.Copy's own) and returns
// the SHA-256 and the SHA-384 of what it read, and how many bytes that was:
// the two sums every stored or served file is known by.
func sums(r io.Reader, buf []byte) (sha [sha256.Size]byte, sri sri384, n int64, err error) {
	d256, d384 := sha256.New(), sha512.New384()
	n, err = io.CopyBuffer(io.MultiWriter(d256, d384), r, buf)
	copy(sha[:], d256.Sum(nil))
	copy(sri[:], d384.Sum(nil))
	return sha, sri, n, err
}

// readIndex parses an index. Anything but a complete, well-formed index of
// sorted valid names (names longer than 65,535 bytes cannot be stored) is an
// error wrapping errBadIndex.
func readIndex(r io.Reader) (*Version, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	bad := func(why string) error { return fmt.Errorf("%w: %s", errBadIndex, why) }
	if len(data) < len(indexMagic)+4 || string(data[:len(indexMagic)]) != indexMagic {
		return nil, bad("not a stampfs index")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, bad("truncated or damaged (checksum)")
	}
	p := body[len(indexMagic):]
	short := bad("truncated header")
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
		return nil, bad("bad stamp")
	}
	v.Strategy = Strategy(strategy)
	if len(p) < 20 {
		return nil, short
	}
	le := binary.LittleEndian
	v.Created, v.scanned = time.Unix(0, int64(le.Uint64(p))), time.Unix(0, int64(le.Uint64(p[8:])))
	count := int(le.Uint32(p[16:]))
	p = p[20:]
	if count > len(p)/fileRecord {
		return nil, bad("file count larger than the index")
	}
	v.Files = make([]File, count)
	v.rows = make([]indexRow, count)
	for i := range count {
		if len(p) < fileRecord {
			return nil, bad("truncated file record")
		}
		f, row := &v.Files[i], &v.rows[i]
		copy(f.SHA256[:], p[0:32])
		copy(row.sri[:], p[32:80])
		var n [6]uint64
		for j := range n {
			n[j] = le.Uint64(p[80+8*j:])
		}
		nameLen := int(le.Uint16(p[128:]))
		p = p[fileRecord:]
		if len(p) < nameLen {
			return nil, bad("truncated name")
		}
		f.Name = string(p[:nameLen])
		p = p[nameLen:]
		if !fs.ValidPath(f.Name) || f.Name == "." || strings.HasPrefix(f.Name, ".") || strings.Contains(f.Name, "/.") || int64(n[0]) < 0 {
			return nil, bad(fmt.Sprintf("bad file record %d", i))
		}
		if i > 0 && v.Files[i-1].Name >= f.Name {
			return nil, bad("names out of order")
		}
		f.Size, f.ModTime = int64(n[0]), time.Unix(0, int64(n[1]))
		row.live = liveStat{dev: n[2], ino: n[3], ctime: int64(n[4])}
		row.stored = n[5]
	}
	if len(p) != 0 {
		return nil, bad("bytes after the last file")
	}
	return v, nil
}
