package stampfs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stampfs/stampfs/vfs"
)

// The index of a version is a text file: a header, one line per file, and a
// trailer that proves it complete.
//
//	stampfs-index 1
//	stamp 3f2a9c1b7d0e
//	strategy content
//	created 1733090000123456789
//	scanned 1733090000000000000
//	files <number of file lines>
//	f <sha256 hex> <size> <mtime ns> <dev> <ino> <ctime ns> <stored ino> <sri base64> <name, Go-quoted>
//	end <number of files>
const indexMagic = "stampfs-index 1"

func writeIndex(w *bytes.Buffer, v *Version) {
	fmt.Fprintf(w, "%s\nstamp %s\nstrategy %s\ncreated %d\nscanned %d\nfiles %d\n", indexMagic, v.Stamp, v.Strategy, v.Created.UnixNano(), v.scanned.UnixNano(), len(v.Files))
	var line []byte
	for i, f := range v.Files {
		r := v.rows[i]
		line = append(line[:0], "f "...)
		line = hex.AppendEncode(line, f.SHA256[:])
		for _, n := range [...]int64{f.Size, f.ModTime.UnixNano(), int64(r.live.dev), int64(r.live.ino), r.live.ctime, int64(r.stored)} {
			line = append(line, ' ')
			line = strconv.AppendInt(line, n, 10)
		}
		line = append(line, ' ')
		line = append(line, r.sri[:]...)
		line = append(line, ' ')
		line = strconv.AppendQuote(line, f.Name)
		line = append(line, '\n')
		w.Write(line)
	}
	fmt.Fprintf(w, "end %d\n", len(v.Files))
}

// sri384 is an integrity value without its "sha384-": the base64 of a
// SHA-384, held in place so that an index of many files allocates none.
type sri384 [64]byte

func (s sri384) String() string { return "sha384-" + string(s[:]) }

// readIndex parses an index. Anything but a complete, well-formed index of
// sorted valid names is an error wrapping errBadIndex.
func readIndex(r io.Reader) (*Version, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	bad := func(line int, why string) error { return fmt.Errorf("%w: line %d: %s", errBadIndex, line, why) }
	header := func(n int, key string) (string, error) {
		if !sc.Scan() {
			return "", bad(n, "truncated header")
		}
		v, ok := strings.CutPrefix(sc.Text(), key+" ")
		if !ok {
			return "", bad(n, "want "+key)
		}
		return v, nil
	}
	if !sc.Scan() || sc.Text() != indexMagic {
		return nil, bad(1, "not a stampfs index")
	}
	v := &Version{}
	var err error
	var created, scanned, strategy string
	if v.Stamp, err = header(2, "stamp"); err != nil {
		return nil, err
	}
	if strategy, err = header(3, "strategy"); err != nil {
		return nil, err
	}
	if created, err = header(4, "created"); err != nil {
		return nil, err
	}
	if scanned, err = header(5, "scanned"); err != nil {
		return nil, err
	}
	count, err := header(6, "files")
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 {
		return nil, bad(6, "bad file count")
	}
	v.Files = make([]File, 0, min(n, 1<<16)) // a hint only: the lines decide
	v.rows = make([]indexRow, 0, cap(v.Files))
	if !vfs.ValidSegment(v.Stamp) {
		return nil, bad(2, "bad stamp")
	}
	v.Strategy = Strategy(strategy)
	c, err1 := strconv.ParseInt(created, 10, 64)
	s, err2 := strconv.ParseInt(scanned, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, bad(4, "bad time")
	}
	v.Created, v.scanned = time.Unix(0, c), time.Unix(0, s)
	for n := 7; sc.Scan(); n++ {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("end ")); ok {
			if count, err := strconv.Atoi(string(rest)); err != nil || count != len(v.Files) {
				return nil, bad(n, "file count does not match")
			}
			if sc.Scan() {
				return nil, bad(n+1, "text after the end")
			}
			return v, nil
		}
		f, row, ok := parseIndexLine(line)
		if !ok {
			return nil, bad(n, "malformed file line")
		}
		if len(v.Files) > 0 && v.Files[len(v.Files)-1].Name >= f.Name {
			return nil, bad(n, "names out of order")
		}
		v.Files = append(v.Files, f)
		v.rows = append(v.rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, bad(0, "truncated: no end line")
}

// parseIndexLine parses one file line of an index; the name is the only
// string it allocates.
func parseIndexLine(line []byte) (File, indexRow, bool) {
	var f File
	var row indexRow
	rest, ok := bytes.CutPrefix(line, []byte("f "))
	if !ok {
		return f, row, false
	}
	field := func() []byte {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return nil
		}
		fld := rest[:i]
		rest = rest[i+1:]
		return fld
	}
	if sum := field(); len(sum) != 2*sha256.Size {
		return f, row, false
	} else if _, err := hex.Decode(f.SHA256[:], sum); err != nil {
		return f, row, false
	}
	var nums [6]int64
	for i := range nums {
		n, ok := parseInt(field())
		if !ok {
			return f, row, false
		}
		nums[i] = n
	}
	sri := field()
	if len(sri) != len(row.sri) {
		return f, row, false
	}
	copy(row.sri[:], sri)
	name, ok := unquoteName(rest)
	if !ok || !fs.ValidPath(name) || name == "." || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") || nums[0] < 0 {
		return f, row, false
	}
	f.Name, f.Size, f.ModTime = name, nums[0], time.Unix(0, nums[1])
	row.live = liveStat{dev: uint64(nums[2]), ino: uint64(nums[3]), ctime: nums[4]}
	row.stored = uint64(nums[5])
	return f, row, true
}

// parseInt parses a decimal int64, with an optional minus sign, without
// allocating.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n < 0 {
		return 0, false // overflowed
	}
	if neg {
		n = -n
	}
	return n, true
}

// unquoteName reads a Go-quoted name, without strconv's work when it holds
// no escape.
func unquoteName(q []byte) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(q, '\\') < 0 {
		inner := q[1 : len(q)-1]
		if bytes.IndexByte(inner, '"') >= 0 || !utf8.Valid(inner) {
			return "", false
		}
		return string(inner), true
	}
	name, err := strconv.Unquote(string(q))
	return name, err == nil
}
