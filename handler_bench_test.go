package stampfs_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// discard is a reusable ResponseWriter, so the benchmarks measure the
// handlers and not a recorder.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) WriteHeader(code int)        { w.code = code }
func (w *discard) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// benchDir writes a 4 KB stylesheet and a few neighbours to a fresh
// directory, which the caller removes.
func benchDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "stampfs-bench-")
	require.NoError(tb, err)
	for name, size := range map[string]int{"css/site.css": 4096, "js/app.js": 2000, "img/logo.svg": 900} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(tb, os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644))
	}
	return dir
}

// serveLoop runs b.N GETs of path against h and checks the last answer.
func serveLoop(b *testing.B, h http.Handler, path string) {
	r, err := http.NewRequest("GET", path, nil)
	require.NoError(b, err)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, r)
	}
	b.StopTimer()
	if w.code != 200 || w.n != 4096 {
		b.Fatalf("GET %s: status %d, %d bytes", path, w.code, w.n)
	}
}

// BenchmarkServeHTTP serves a stamped 4 KB stylesheet in process, and
// http.FileServerFS serving the same file from the same kind of directory in
// the same run first; x-FileServerFS is how many times faster the Handler
// is (run both sub-benchmarks together for it).
func BenchmarkServeHTTP(b *testing.B) {
	dir := benchDir(b)
	b.Cleanup(func() { os.RemoveAll(dir) })
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
	require.NoError(b, err)
	u, err := h.URL("css/site.css")
	require.NoError(b, err)
	var peerNs float64 // the last run of the peer, measured first
	b.Run("FileServerFS", func(b *testing.B) {
		serveLoop(b, http.FileServerFS(os.DirFS(dir)), "/css/site.css")
		peerNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("stampfs", func(b *testing.B) {
		serveLoop(b, h, u)
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if peerNs > 0 {
			b.ReportMetric(peerNs/ns, "x-FileServerFS")
		}
	})
}

// BenchmarkURL is the cost of one URL lookup (the goal: under 100 ns, at
// most one allocation).
func BenchmarkURL(b *testing.B) {
	dir := benchDir(b)
	b.Cleanup(func() { os.RemoveAll(dir) })
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.URL("css/site.css"); err != nil {
			b.Fatal(err)
		}
	}
}
