package stampfs_test

import (
	"fmt"
	"testing"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// benchTree writes a generated static tree to fsys under dir: files files in
// directories of 25, sizes cycling from 100 B to 24 KiB (about 8.6 MB for
// 1000 files), plus hidden files and a stamp link where the Fs has links. It
// returns the bytes of the counted files.
func benchTree(b *testing.B, fsys afero.Fs, dir string, files int) int64 {
	b.Helper()
	sizes := []int{100, 1 << 10, 3 << 10, 8 << 10, 24 << 10}
	var total int64
	for i := range files {
		name := fmt.Sprintf("%s/d%03d/e%02d/f%04d.js", dir, i/100, i/25%4, i)
		size := sizes[i%len(sizes)]
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i + j)
		}
		if err := fsys.MkdirAll(name[:len(name)-len("/f0000.js")], 0o755); err != nil {
			b.Fatal(err)
		}
		if err := afero.WriteFile(fsys, name, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(size)
	}
	if err := fsys.MkdirAll(dir+"/.git/refs/heads", 0o755); err != nil {
		b.Fatal(err)
	}
	if err := afero.WriteFile(fsys, dir+"/.git/HEAD", []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := afero.WriteFile(fsys, dir+"/.git/refs/heads/main", []byte("9fceb02d0ae598e95dc970b74767f19372d61af8\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if l, ok := fsys.(afero.Linker); ok {
		if err := l.SymlinkIfPossible(".", dir+"/0123456789ab"); err != nil {
			b.Fatal(err)
		}
	}
	return total
}

// BenchmarkScan scans a generated in-memory tree of 1000 files with each
// strategy, on afero's MemMapFs and on vfstest.MemFS:
//
//	go test -run '^$' -bench BenchmarkScan -benchtime 20x -cpu 1,2 -v .
//
// -cpu 1,2 shows what hashing on several goroutines buys; -v prints the
// ratios between peers of the same run (content against mtime, MemFS against
// MemMapFs), which load on a shared machine distorts less than the times.
func BenchmarkScan(b *testing.B) {
	const files = 1000
	perOp := map[string]float64{} // ns per scan, by sub-benchmark name
	for _, fs := range []struct {
		name string
		new  func() afero.Fs
	}{
		{"MemMapFs", afero.NewMemMapFs},
		{"MemFS", func() afero.Fs { return vfstest.NewMemFS() }},
	} {
		fsys := fs.new()
		total := benchTree(b, fsys, "/static", files)
		for _, opts := range []stampfs.ScanOptions{
			{Strategy: stampfs.Content},
			{Strategy: stampfs.Mtime},
			{Strategy: stampfs.Git},
			{Strategy: stampfs.Fixed, Version: "v1"},
		} {
			b.Run(fs.name+"/"+string(opts.Strategy), func(b *testing.B) {
				if opts.Strategy == stampfs.Content {
					b.SetBytes(total)
				}
				b.ReportAllocs()
				for b.Loop() {
					snap, err := stampfs.Scan(fsys, "/static", &opts)
					if err != nil {
						b.Fatal(err)
					}
					if n := len(snap.Files()); n != files {
						b.Fatalf("%d files counted, want %d", n, files)
					}
				}
				b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
				perOp[fs.name+"/"+string(opts.Strategy)] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
		}
	}
	// Ratios between peers of this one run, which load on the machine
	// distorts less than the absolute times.
	for _, fs := range []string{"MemMapFs", "MemFS"} {
		if c, m := perOp[fs+"/content"], perOp[fs+"/mtime"]; c > 0 && m > 0 {
			b.Logf("%s: content scan takes %.1fx the time of an mtime scan (hashing %d files)", fs, c/m, files)
		}
	}
	for _, s := range []string{"content", "mtime"} {
		if a, m := perOp["MemFS/"+s], perOp["MemMapFs/"+s]; a > 0 && m > 0 {
			b.Logf("%s: vfstest.MemFS takes %.2fx the time of MemMapFs", s, a/m)
		}
	}
}
