// Command serveratio runs the in-process serving benchmark of every side in
// one process and prints, as a Markdown table, ns/op, allocations and how
// many times faster stampfs is than each peer.
//
// Usage:
//
//	go run ./serve/cmd/serveratio [-count 5] [-benchtime 1s] [-recorder]   (from bench/)
//
// Each side is measured -count times, interleaved, and the median ns/op is
// kept, so a burst of load on a shared machine hits every side alike.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stampfs/stampfs/bench/serve"
)

func main() {
	testing.Init()
	count := flag.Int("count", 5, "measurements per side; the median is kept")
	benchtime := flag.Duration("benchtime", time.Second, "run time of one measurement")
	recorder := flag.Bool("recorder", false, "write each response into a fresh httptest.ResponseRecorder instead of a reused discarding writer")
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fmt.Fprintln(os.Stderr, "serveratio:", err)
		os.Exit(2)
	}
	if err := run(os.Stdout, *count, *recorder); err != nil {
		fmt.Fprintln(os.Stderr, "serveratio:", err)
		os.Exit(1)
	}
}

type result struct {
	nsPerOp     []float64
	allocsPerOp int64
	bytesPerOp  int64
}

func (r *result) median() float64 {
	s := slices.Clone(r.nsPerOp)
	slices.Sort(s)
	return s[len(s)/2]
}

func run(out io.Writer, count int, recorder bool) error {
	dir, err := os.MkdirTemp("", "serveratio-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := serve.WriteFixture(dir); err != nil {
		return err
	}
	sides, err := serve.Sides(dir)
	if err != nil {
		return err
	}
	for _, side := range sides {
		w := &serve.Discard{}
		side.Handler.ServeHTTP(w, serve.NewRequest(side.Path))
		if w.Status != http.StatusOK || w.Bytes != serve.AssetSize {
			return fmt.Errorf("side %s: GET %s: status %d, %d bytes; want 200, %d bytes",
				side.Name, side.Path, w.Status, w.Bytes, serve.AssetSize)
		}
	}
	bench, writer := serve.Bench, "a reused discarding writer"
	if recorder {
		bench, writer = serve.BenchRecorder, "a fresh httptest.ResponseRecorder per request"
	}
	results := make([]result, len(sides))
	for range max(count, 1) {
		for i, side := range sides {
			br := testing.Benchmark(func(b *testing.B) { bench(b, side) })
			results[i].nsPerOp = append(results[i].nsPerOp, float64(br.T)/float64(br.N))
			results[i].allocsPerOp = br.AllocsPerOp()
			results[i].bytesPerOp = br.AllocedBytesPerOp()
		}
	}

	base := -1
	for i, side := range sides {
		if side.Name == "stampfs" {
			base = i
		}
	}
	fmt.Fprintln(out, "| side | ns/op | B/op | allocs/op | stampfs is faster by |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|")
	for i, side := range sides {
		ratio := "-"
		if base >= 0 && i != base {
			ratio = fmt.Sprintf("%.2f×", results[i].median()/results[base].median())
		}
		fmt.Fprintf(out, "| %s | %.0f | %d | %d | %s |\n", side.Name, results[i].median(),
			results[i].bytesPerOp, results[i].allocsPerOp, ratio)
	}
	fmt.Fprintf(out, "\nGET %s (%d bytes) into %s: median ns/op of %d runs per side, interleaved; GOMAXPROCS=%d\n",
		serve.Asset, serve.AssetSize, writer, max(count, 1), runtime.GOMAXPROCS(0))
	return nil
}
