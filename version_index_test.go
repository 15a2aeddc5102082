package stampfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// table returns a table of n files named under a few directories, with
// identities like those of a tree written at once.
func table(n int) ([]File, []indexRow) {
	files, rows := make([]File, n), make([]indexRow, n)
	t0 := time.Unix(1_700_000_000, 123)
	for i := range files {
		name := fmt.Sprintf("d%02d/file %04d.css", i%7, i)
		files[i] = File{Name: name, Size: int64(i * 37), ModTime: t0.Add(time.Duration(i) * time.Millisecond), SHA256: sha256.Sum256([]byte(name))}
		rows[i] = indexRow{live: liveStat{dev: 2049, ino: uint64(1000 + i), ctime: t0.UnixNano() + int64(i)}, stored: uint64(90_000 - i)}
	}
	sortTable(files, rows)
	return files, rows
}

func sortTable(files []File, rows []indexRow) {
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(files[a].Name, files[b].Name) })
	f, r := slices.Clone(files), slices.Clone(rows)
	for i, k := range order {
		files[i], rows[i] = f[k], r[k]
	}
}

// roundTrip writes v's index and its base, and reads them back.
func roundTrip(t *testing.T, v *Version) (index, base []byte, back *Version) {
	t.Helper()
	var bb, ib bytes.Buffer
	encodeBase(&bb, v.base)
	_, err := writeIndex(&ib, v)
	require.NoError(t, err)
	back, err = readIndex(bytes.NewReader(ib.Bytes()), func([16]byte) (*indexBase, error) {
		return readBase(bytes.NewReader(bb.Bytes()), 0)
	}, false)
	require.NoError(t, err)
	return ib.Bytes(), bb.Bytes(), back
}

func TestIndexRoundTrip(t *testing.T) {
	files, rows := table(300)
	var buf bytes.Buffer
	base, err := writeBase(&buf, files, rows)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), base.size)
	assert.Less(t, buf.Len(), 300*(32+28), "a record is its SHA-256 and a few bytes for the rest")

	// Against its own base, a table records no change.
	v := &Version{Stamp: "3f2a9c1b7d0e", Strategy: Content, Created: time.Unix(5, 6), scanned: time.Unix(7, 8), Files: files, rows: rows, base: base}
	index, _, back := roundTrip(t, v)
	assert.Less(t, len(index), 100)
	assert.Equal(t, v.Stamp, back.Stamp)
	assert.Equal(t, v.Strategy, back.Strategy)
	assert.Equal(t, v.Created.UnixNano(), back.Created.UnixNano())
	assert.Equal(t, v.scanned.UnixNano(), back.scanned.UnixNano())
	assertTable(t, files, rows, back)

	// Replaced, added, dropped and re-identified files.
	f2, r2 := append([]File(nil), files...), append([]indexRow(nil), rows...)
	f2[3].SHA256[0] ^= 1
	r2[10].live.ctime++
	r2[11].stored = 0
	f2, r2 = append(f2[:20], f2[21:]...), append(r2[:20], r2[21:]...) // dropped
	f2 = append(f2, File{Name: "zz/new.js", Size: 1, ModTime: time.Unix(0, 1)}, File{Name: "a first.js"})
	r2 = append(r2, indexRow{}, indexRow{live: liveStat{ino: 1 << 60, ctime: -5}})
	sortTable(f2, r2)
	v2 := &Version{Stamp: "x", Files: f2, rows: r2, base: base}
	n, err := writeIndex(new(bytes.Buffer), v2)
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	index, _, back = roundTrip(t, v2)
	assert.Less(t, len(index), 6*60+100)
	assertTable(t, f2, r2, back)

	// An empty table against a full base drops every name.
	v3 := &Version{Stamp: "y", base: base}
	_, _, back = roundTrip(t, v3)
	assert.Empty(t, back.Files)
}

func assertTable(t *testing.T, files []File, rows []indexRow, v *Version) {
	t.Helper()
	require.Len(t, v.Files, len(files))
	for i := range files {
		assert.True(t, files[i].Name == v.Files[i].Name && sameFields(&files[i], &rows[i], &v.Files[i], &v.rows[i]), "record %d: %+v %+v, want %+v %+v", i, v.Files[i], v.rows[i], files[i], rows[i])
	}
}

// TestIndexDamage: every index or base cut short, or with any byte
// changed, is an error wrapping errBadIndex, never a table.
func TestIndexDamage(t *testing.T) {
	files, rows := table(20)
	var buf bytes.Buffer
	base, err := writeBase(&buf, files, rows)
	require.NoError(t, err)
	f2, r2 := append([]File(nil), files[1:]...), append([]indexRow(nil), rows[1:]...)
	f2[0].Size++
	index, baseData, _ := roundTrip(t, &Version{Stamp: "s", Files: f2, rows: r2, base: base})

	read := func(index, baseData []byte) error {
		_, err := readIndex(bytes.NewReader(index), func([16]byte) (*indexBase, error) {
			return readBase(bytes.NewReader(baseData), 0)
		}, false)
		return err
	}
	require.NoError(t, read(index, baseData))
	for _, file := range []string{"index", "base"} {
		data := index
		if file == "base" {
			data = baseData
		}
		damaged := func(d []byte) error {
			if file == "base" {
				return read(index, d)
			}
			return read(d, baseData)
		}
		for n := range len(data) {
			assert.ErrorIsf(t, damaged(data[:n]), errBadIndex, "%s cut to %d bytes", file, n)
		}
		for i := range data {
			d := bytes.Clone(data)
			d[i] ^= 0x40
			assert.ErrorIsf(t, damaged(d), errBadIndex, "%s with byte %d changed", file, i)
		}
	}

	// A count of changes that no index of this size can hold, in a file
	// whose checksum is right, is refused before anything is allocated
	// for it: drops cannot outnumber the base's files.
	var forged bytes.Buffer
	forged.WriteString(indexMagic)
	forged.Write([]byte{1, 's', 0})
	forged.Write(make([]byte, 16))
	forged.Write(base.id[:])
	forged.Write(binary.AppendUvarint(nil, 1_000_000))
	forged.Write(bytes.Repeat([]byte{1, 0, 0}, 1_000_000))
	appendCRC(&forged)
	err = read(forged.Bytes(), baseData)
	assert.ErrorIs(t, err, errBadIndex)
	assert.ErrorContains(t, err, "change count larger than the index")

	// Another base than the one the index was made against.
	other, err := writeBase(new(bytes.Buffer), files, rows)
	require.NoError(t, err)
	var ob bytes.Buffer
	encodeBase(&ob, other)
	assert.ErrorIs(t, read(index, ob.Bytes()), errBadIndex)
}

// readBoth reads an index and its base twice: decoded, and lazily.
func readBoth(index, baseData []byte) (full, lazy *Version, fullErr, lazyErr error) {
	read := func(lazy bool) (*Version, error) {
		return readIndex(bytes.NewReader(index), func([16]byte) (*indexBase, error) {
			return readBase(bytes.NewReader(baseData), int64(len(baseData)))
		}, lazy)
	}
	full, fullErr = read(false)
	lazy, lazyErr = read(true)
	return full, lazy, fullErr, lazyErr
}

// scanOf returns what a scan of the live tree a table records would find:
// its files without their SHA-256, and their identities.
func scanOf(v *Version) ([]File, []liveStat) {
	files, stats := slices.Clone(v.Files), make([]liveStat, len(v.Files))
	for i := range files {
		files[i].SHA256 = [32]byte{}
		stats[i] = v.rows[i].live
	}
	return files, stats
}

// TestVouchesForAll: the comparison of a scan with a lazily read table
// agrees with the table decoded, file by file, and fails on any
// difference: a name, a size, a time, an identity, a file more or less, or
// a file modified too close to the scan that recorded it.
func TestVouchesForAll(t *testing.T) {
	files, rows := table(500)
	var bb, ib bytes.Buffer
	base, err := writeBase(&bb, files, rows)
	require.NoError(t, err)
	f2, r2 := slices.Clone(files), slices.Clone(rows)
	f2[7].SHA256[3] ^= 1
	r2[9].stored++
	f2, r2 = slices.Delete(f2, 30, 31), slices.Delete(r2, 30, 31)
	scanned := time.Unix(1_800_000_000, 0) // long after every mtime
	_, err = writeIndex(&ib, &Version{Stamp: "s", scanned: scanned, Files: f2, rows: r2, base: base})
	require.NoError(t, err)
	full, _, err, _ := readBoth(ib.Bytes(), bb.Bytes())
	require.NoError(t, err)

	lazy := func() *Version {
		_, v, _, err := readBoth(ib.Bytes(), bb.Bytes())
		require.NoError(t, err)
		return v
	}
	live, stats := scanOf(full)
	got, ok := lazy().vouchesForAll(live, stats)
	require.True(t, ok)
	assert.Equal(t, full.rows, got)
	for i := range live {
		assert.Equal(t, full.Files[i].SHA256, live[i].SHA256, "the table's SHA-256 is set")
	}

	for name, change := range map[string]func(f []File, s []liveStat) ([]File, []liveStat){
		"name": func(f []File, s []liveStat) ([]File, []liveStat) { f[40].Name += "x"; return f, s },
		"size": func(f []File, s []liveStat) ([]File, []liveStat) { f[0].Size++; return f, s },
		"mtime": func(f []File, s []liveStat) ([]File, []liveStat) {
			f[len(f)-1].ModTime = f[len(f)-1].ModTime.Add(1)
			return f, s
		},
		"ctime":    func(f []File, s []liveStat) ([]File, []liveStat) { s[7].ctime++; return f, s },
		"inode":    func(f []File, s []liveStat) ([]File, []liveStat) { s[9].ino++; return f, s },
		"one less": func(f []File, s []liveStat) ([]File, []liveStat) { return f[:len(f)-1], s[:len(s)-1] },
		"one more": func(f []File, s []liveStat) ([]File, []liveStat) {
			return append(f, File{Name: "zzz"}), append(s, liveStat{})
		},
		"none":      func(f []File, s []liveStat) ([]File, []liveStat) { return nil, nil },
		"racy file": func(f []File, s []liveStat) ([]File, []liveStat) { return f, s }, // with the scan moved, below
	} {
		t.Run(name, func(t *testing.T) {
			live, stats := scanOf(full)
			live, stats = change(live, stats)
			v := lazy()
			if name == "racy file" {
				v.scanned = live[100].ModTime.Add(racyWindow / 2)
			}
			_, ok := v.vouchesForAll(live, stats)
			assert.False(t, ok)
			for i := range live {
				assert.Zero(t, live[i].SHA256, "nothing set on a miss")
			}
		})
	}
}

// FuzzReadIndex: no input makes the readers panic or return a table of
// invalid or unsorted names, and the lazy read agrees with the decoded one:
// a scan that finds exactly the decoded table is vouched for, and no scan
// is vouched for where the table cannot be decoded.
func FuzzReadIndex(f *testing.F) {
	files, rows := table(5)
	var bb, ib bytes.Buffer
	base, err := writeBase(&bb, files, rows)
	require.NoError(f, err)
	_, err = writeIndex(&ib, &Version{Stamp: "s", scanned: time.Unix(1_800_000_000, 0), Files: files[1:], rows: rows[1:], base: base})
	require.NoError(f, err)
	f.Add(ib.Bytes(), bb.Bytes())
	f.Fuzz(func(t *testing.T, index, baseData []byte) {
		full, lazy, fullErr, lazyErr := readBoth(index, baseData)
		if lazyErr != nil {
			require.Error(t, fullErr, "a lazy read checks less, never more")
			return
		}
		if fullErr != nil {
			_, ok := lazy.vouchesForAll(files, make([]liveStat, len(files)))
			assert.False(t, ok)
			return
		}
		for i := range full.Files {
			require.True(t, validName(full.Files[i].Name))
			if i > 0 {
				require.Less(t, full.Files[i-1].Name, full.Files[i].Name)
			}
		}
		live, stats := scanOf(full)
		racy := false
		for _, f := range live {
			racy = racy || !f.ModTime.Before(full.scanned.Add(-racyWindow))
		}
		_, ok := lazy.vouchesForAll(live, stats)
		assert.Equal(t, !racy, ok)
	})
}

// BenchmarkReadVersion reads the table of a 100,000-file version with 1,000
// changes against its base, as every publish does for its hash cache.
func BenchmarkReadVersion(b *testing.B) {
	files, rows := table(100_000)
	var bb bytes.Buffer
	base, err := writeBase(&bb, files, rows)
	require.NoError(b, err)
	f2, r2 := append([]File(nil), files...), append([]indexRow(nil), rows...)
	for i := 0; i < len(f2); i += 100 {
		f2[i].SHA256[0] ^= 1
		r2[i].stored++
	}
	var ib bytes.Buffer
	_, err = writeIndex(&ib, &Version{Stamp: "s", Files: f2, rows: r2, base: base})
	require.NoError(b, err)
	b.SetBytes(int64(bb.Len() + ib.Len()))
	b.ReportAllocs()
	for b.Loop() {
		v, err := readIndex(bytes.NewReader(ib.Bytes()), func([16]byte) (*indexBase, error) {
			return readBase(bytes.NewReader(bb.Bytes()), int64(bb.Len()))
		}, false)
		if err != nil || len(v.Files) != len(files) {
			b.Fatal(err, len(v.Files))
		}
	}
}
