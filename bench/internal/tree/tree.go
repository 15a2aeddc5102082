// Package tree generates the deterministic static trees the benchmarks of
// this module measure: files spread evenly over directories d0000…, named
// f000000.css and so on, of pseudo-random bytes and sizes and distinct
// mtimes, all derived from the file's index so that every run and machine
// gets the same tree.
package tree

import (
	"cmp"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

var exts = []string{".css", ".js", ".svg", ".png", ".woff2", ".json", ".map", ".html"}

// base is the mtime of file 0; file i is i seconds (and a fraction) later.
var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Name returns the slash path of file i inside a tree of dirs directories.
func Name(i, dirs int) string {
	return fmt.Sprintf("d%04d/f%06d%s", i%dirs, i, exts[i%len(exts)])
}

// spec returns the size and mtime of file i for a mean size.
func spec(i, size int) (int, time.Time) {
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	n := size/2 + rng.IntN(size+1)
	return n, base.Add(time.Duration(i)*time.Second + time.Duration(rng.IntN(1e9)))
}

// Generate makes (or completes) the tree of files files in dirs directories
// of mean size size in dir. A file already there with the right size and
// mtime is kept; it removes nothing. It returns the total size.
func Generate(dir string, files, dirs, size int) (int64, error) {
	jobs := make(chan int)
	var (
		mu    sync.Mutex
		first error
		total int64
		wg    sync.WaitGroup
	)
	for range max(8, runtime.NumCPU()*2) {
		wg.Go(func() {
			var buf []byte
			var sum int64
			for d := range jobs {
				err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("d%04d", d)), 0o755)
				for i := d; i < files && err == nil; i += dirs {
					n, mtime := spec(i, size)
					path := filepath.Join(dir, filepath.FromSlash(Name(i, dirs)))
					sum += int64(n)
					if info, e := os.Lstat(path); e == nil && info.Mode().IsRegular() && info.Size() == int64(n) && info.ModTime().Equal(mtime) {
						continue
					}
					buf = slices.Grow(buf[:0], n)[:n]
					rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}).Read(buf)
					if err = os.WriteFile(path, buf, 0o644); err == nil {
						err = os.Chtimes(path, mtime, mtime)
					}
				}
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
			mu.Lock()
			total += sum
			mu.Unlock()
		})
	}
	for d := range dirs {
		jobs <- d
	}
	close(jobs)
	wg.Wait()
	return total, first
}

// Rewrite gives n distinct files of the tree, picked by seed, new
// pseudo-random bytes (derived from seed) of their generated size, and the
// current time as mtime, as a deploy that changes them would. It returns
// their slash paths. Generate restores them.
func Rewrite(dir string, files, dirs, size, n int, seed uint64) ([]string, error) {
	rng := rand.New(rand.NewPCG(seed, 0xc4a9e))
	picks := rng.Perm(files)[:min(n, files)]
	names := make([]string, 0, len(picks))
	var buf []byte
	for _, i := range picks {
		sz, _ := spec(i, size)
		buf = slices.Grow(buf[:0], sz)[:sz]
		var key [32]byte
		for j := range 8 {
			key[j] = byte(seed >> (8 * j))
			key[8+j] = byte(uint64(i) >> (8 * j))
		}
		key[31] = 0xff // never a key Generate uses
		rand.NewChaCha8(key).Read(buf)
		name := Name(i, dirs)
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), buf, 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// Spec is the shape of a tree, as the -files, -dirs and -size flags of the
// benchmarks set it.
type Spec struct {
	Files, Dirs, Size int
}

// Flags defines -files, -dirs and -size on fl, with the defaults of the
// benchmarks: 100,000 files of 4 KiB on average in 1,000 directories.
func (s *Spec) Flags(fl *flag.FlagSet) {
	fl.IntVar(&s.Files, "files", 100_000, "number of files in the tree")
	fl.IntVar(&s.Dirs, "dirs", 1_000, "number of directories they are spread over")
	fl.IntVar(&s.Size, "size", 4096, "mean file size in bytes (sizes vary from half to one and a half times it)")
}
