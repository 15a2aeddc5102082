package stampfs_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// discard is a reusable ResponseWriter, so the benchmarks measure the
// handlers and not a recorder. Like net/http's own writer it is an
// io.ReaderFrom with a buffer of its own, so io.Copy in a peer's handler
// does not allocate one per request.
type discard struct {
	h    http.Header
	code int
	n    int
	buf  []byte
}

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) WriteHeader(code int)        { w.code = code }
func (w *discard) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func (w *discard) ReadFrom(r io.Reader) (int64, error) {
	if w.buf == nil {
		w.buf = make([]byte, 32<<10)
	}
	var total int64
	for {
		n, err := r.Read(w.buf)
		total += int64(n)
		w.n += n
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// benchHandler writes a 4 KB stylesheet and a few neighbours to a fresh
// directory and serves it in virtual mode; it returns the handler, the
// directory and the stylesheet's URL.
func benchHandler(b *testing.B) (h *stampfs.Handler, dir, u string) {
	b.Helper()
	dir = b.TempDir()
	for name, size := range map[string]int{"css/site.css": 4096, "js/app.js": 2000, "img/logo.svg": 900} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644))
	}
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
	require.NoError(b, err)
	u, err = h.URL("css/site.css")
	require.NoError(b, err)
	return h, dir, u
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
	h, dir, u := benchHandler(b)
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

// BenchmarkServeHTTPOldVersion serves the 4 KB stylesheet under the stamp
// of an earlier version, from the store, and under the current stamp in the
// same run; x-current is the old stamp's speed as a share of the current's
// (the goal: at least 0.9, with no allocation either).
func BenchmarkServeHTTPOldVersion(b *testing.B) {
	h, dir, old := benchHandler(b)
	require.NoError(b, os.WriteFile(filepath.Join(dir, "js", "app.js"), []byte("changed"), 0o644))
	require.NoError(b, h.Refresh())
	cur, err := h.URL("css/site.css")
	require.NoError(b, err)
	require.NotEqual(b, cur, old)
	var curNs float64
	b.Run("current", func(b *testing.B) {
		serveLoop(b, h, cur)
		curNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("old", func(b *testing.B) {
		serveLoop(b, h, old)
		if ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N); curNs > 0 {
			b.ReportMetric(curNs/ns, "x-current")
		}
	})
}

// BenchmarkURL is the cost of one URL lookup (the goal: under 100 ns, at
// most one allocation).
func BenchmarkURL(b *testing.B) {
	h, _, _ := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.URL("css/site.css"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeHTTPLoopback is BenchmarkServeHTTP over loopback TCP: an
// http.Server in this process answers a lean keep-alive client (one
// connection per goroutine, like wrk), so the figure is the server's
// throughput, net/http included; x-FileServerFS is again the ratio to the
// peer measured first in the same run.
func BenchmarkServeHTTPLoopback(b *testing.B) {
	h, dir, u := benchHandler(b)
	var peerNs float64
	b.Run("FileServerFS", func(b *testing.B) {
		peerNs = loopback(b, http.FileServerFS(os.DirFS(dir)), "/css/site.css")
	})
	b.Run("stampfs", func(b *testing.B) {
		if ns := loopback(b, h, u); peerNs > 0 {
			b.ReportMetric(peerNs/ns, "x-FileServerFS")
		}
	})
}

// loopback runs b.N GETs of path against handler behind a real server and
// returns the time per request.
func loopback(b *testing.B, handler http.Handler, path string) float64 {
	srv := httptest.NewServer(handler)
	defer srv.Close()
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip, br\r\n\r\n")
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 16<<10)
		for pb.Next() {
			if _, err := conn.Write(req); err != nil {
				b.Error(err)
				return
			}
			if n, err := readResponse(br); err != nil || n != 4096 {
				b.Errorf("GET %s: %d bytes, %v", path, n, err)
				return
			}
		}
	})
	b.StopTimer()
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// readResponse reads one 200 response with a Content-Length and returns the
// length of its body.
func readResponse(br *bufio.Reader) (int, error) {
	status, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return 0, fmt.Errorf("status line %q", status)
	}
	size := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			size, err = strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return 0, err
			}
		}
	}
	if size < 0 {
		return 0, errors.New("no Content-Length")
	}
	_, err = br.Discard(size)
	return size, err
}
