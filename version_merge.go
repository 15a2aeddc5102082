package stampfs

import (
	"cmp"
	"fmt"
	"path/filepath"
)

// A version's table is its base with its index's changes applied. It is
// walked as the base's records are decoded (merged): to make the table
// (decodeMerged), to compare it with a scan without making it
// (vouchesForAll), to find stored bytes (findHeld), and to diff a new table
// against a base (diff).

// merged walks the table of a base with changes applied (each change
// replacing or adding its name, or, where drop says so, removing it),
// decoding the base's records on the way. After each next that returns
// true, f and r are the file and row. A file from the base (from set) has
// an empty f.Name and its name in name, valid until the next call; a
// changed file has its own f.Name.
type merged struct {
	d     decoder
	count int // base records left
	files []File
	rows  []indexRow
	drop  []bool
	c     int // the next change
	have  bool
	bf    File // the base record decoded and not yet used, when have
	br    indexRow
	f     File
	r     indexRow
	name  []byte
	from  bool // fromBase
}

// newMerged walks base with the changes files, rows, drop; with keep, it
// keeps every name of the base it decodes (for decodeMerged).
func newMerged(base *indexBase, files []File, rows []indexRow, drop []bool, keep bool) *merged {
	m := &merged{d: decoder{p: base.records, discard: !keep}, count: base.count, files: files, rows: rows, drop: drop}
	if keep {
		m.d.names, m.d.ends = make([]byte, 0, 24*base.count), make([]int, 0, base.count)
	}
	return m
}

func (m *merged) next() (bool, error) {
	for {
		if !m.have && m.count > 0 {
			m.count--
			m.d.name()
			m.d.fields(&m.bf, &m.br)
			if m.d.err != nil {
				return false, m.d.err
			}
			m.have = true
		}
		if !m.have && m.count == 0 && len(m.d.p) != 0 {
			return false, fmt.Errorf("%w: bytes after the last file", errBadIndex)
		}
		c := m.c
		order := -1 // of the base record against change c: -1 before, 0 same name, 1 after
		switch {
		case c < len(m.files) && m.have:
			order = compareName(m.d.prev, m.files[c].Name)
		case c < len(m.files):
			order = 1
		case !m.have:
			return false, nil
		}
		if order >= 0 {
			m.c++
			if order == 0 {
				m.have = false // replaced or dropped
			}
			if m.drop[c] {
				if order > 0 {
					return false, fmt.Errorf("%w: drops %q, which its base lacks", errBadIndex, m.files[c].Name)
				}
				continue
			}
			m.f, m.r, m.from = m.files[c], m.rows[c], false
			return true, nil
		}
		m.have = false
		m.f, m.r, m.name, m.from = m.bf, m.br, m.d.prev, true
		return true, nil
	}
}

// decodeMerged returns the table of base with the changes files, rows,
// drop applied, in one pass: the table of a version is decoded straight
// from its base, with no table of the base made on the way. It checks every
// name of the result: valid, no dot segment, in order.
func decodeMerged(base *indexBase, files []File, rows []indexRow, drop []bool) ([]File, []indexRow, error) {
	n := base.count + len(files)
	outF, outR := make([]File, 0, n), make([]indexRow, 0, n)
	fromBase := make([]int32, 0, base.count) // for each name left empty in outF, the base record it came from
	m := newMerged(base, files, rows, drop, true)
	for {
		ok, err := m.next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		outF, outR = append(outF, m.f), append(outR, m.r)
		if m.from {
			fromBase = append(fromBase, int32(len(m.d.ends)-1))
		}
	}
	all := string(m.d.names)
	next := 0
	for i := range outF {
		if outF[i].Name == "" {
			k := fromBase[next]
			next++
			start := 0
			if k > 0 {
				start = m.d.ends[k-1]
			}
			outF[i].Name = all[start:m.d.ends[k]]
			if !validName(outF[i].Name) {
				return nil, nil, fmt.Errorf("%w: bad file name %q", errBadIndex, outF[i].Name)
			}
		}
		if i > 0 && outF[i-1].Name >= outF[i].Name {
			return nil, nil, fmt.Errorf("%w: names out of order", errBadIndex)
		}
	}
	return outF, outR, nil
}

// vouchesForAll reports whether the table of v, read lazily, is the scan's
// files with stats, each as the hash cache vouches for it (cacheVouches),
// and if so sets each file's SHA-256 and returns the rows. It makes no
// name: each is compared where it is decoded.
func (v *Version) vouchesForAll(files []File, stats []liveStat) ([]indexRow, bool) {
	c := v.changes
	if c == nil {
		return nil, false
	}
	rows, shas := make([]indexRow, len(files)), make([][32]byte, len(files))
	racy := v.scanned.Add(-racyWindow).UnixNano()
	m := newMerged(v.base, c.files, c.rows, c.drop, false) // names are compared where they are decoded, not kept
	i := 0
	for ; ; i++ {
		ok, err := m.next()
		if err != nil {
			return nil, false
		}
		if !ok {
			break
		}
		if i == len(files) {
			return nil, false
		}
		f := &files[i]
		var same bool
		if m.from {
			same = compareName(m.name, f.Name) == 0
		} else {
			same = m.f.Name == f.Name
		}
		mtime := f.ModTime.UnixNano()
		if !same || m.f.Size != f.Size || m.f.ModTime.UnixNano() != mtime || m.r.live != stats[i] || mtime >= racy {
			break
		}
		rows[i], shas[i] = m.r, m.f.SHA256
	}
	if i != len(files) {
		return nil, false
	}
	for i := range files {
		files[i].SHA256 = shas[i]
	}
	return rows, true
}

// findHeld sets, for each SHA-256 in wanted that has no stored file yet
// (""), the path of a file of v with those bytes. A table read lazily is
// walked as it is decoded; only the names found are made.
func (v *Version) findHeld(wanted map[[32]byte]string) error {
	found := func(sha [32]byte, name string) {
		if validName(name) {
			wanted[sha] = filepath.Join(v.dir, filepath.FromSlash(name))
		}
	}
	c := v.changes
	if c == nil {
		for _, f := range v.Files {
			if src, ok := wanted[f.SHA256]; ok && src == "" {
				found(f.SHA256, f.Name)
			}
		}
		return nil
	}
	m := newMerged(v.base, c.files, c.rows, c.drop, false)
	for {
		ok, err := m.next()
		if err != nil || !ok {
			return err
		}
		if src, ok := wanted[m.f.SHA256]; ok && src == "" {
			name := m.f.Name
			if m.from {
				name = string(m.name)
			}
			found(m.f.SHA256, name)
		}
	}
}

// compareName compares a name being decoded with a decoded one.
func compareName(b []byte, s string) int {
	for i := 0; i < len(b) && i < len(s); i++ {
		if b[i] != s[i] {
			if b[i] < s[i] {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(len(b), len(s))
}

// sameFields reports whether two files and rows would be written alike,
// names aside.
func sameFields(f *File, r *indexRow, g *File, s *indexRow) bool {
	return f.Size == g.Size && f.ModTime.UnixNano() == g.ModTime.UnixNano() && f.SHA256 == g.SHA256 && *r == *s
}

// diff calls add(i, nil) for each file i of files that base lacks or has
// otherwise, and add(-1, name) for each name of base that files lack (name
// is valid during the call). It walks base's records as it decodes them,
// making no table of them.
func diff(files []File, rows []indexRow, base *indexBase, add func(i int, name []byte)) error {
	m := newMerged(base, nil, nil, nil, false)
	i := 0
	for {
		ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		for ; i < len(files) && compareName(m.name, files[i].Name) > 0; i++ {
			add(i, nil)
		}
		if i < len(files) && compareName(m.name, files[i].Name) == 0 {
			if !sameFields(&files[i], &rows[i], &m.f, &m.r) {
				add(i, nil)
			}
			i++
			continue
		}
		add(-1, m.name)
	}
	for ; i < len(files); i++ {
		add(i, nil)
	}
	return nil
}
