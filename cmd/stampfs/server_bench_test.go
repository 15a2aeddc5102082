package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// BenchmarkServer compares GETs of a 4 KiB stamped file over loopback from
// the server stampfs serve builds (router, deadlines, connection tracking)
// with the handler behind a ServeMux in a bare http.Server. Compare the two
// with -count and benchstat; -cpuprofile shows where the difference goes.
func BenchmarkServer(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.css"), make([]byte, 4096), 0o644); err != nil {
		b.Fatal(err)
	}
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
	if err != nil {
		b.Fatal(err)
	}
	u, err := h.URL("app.css")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serve", func(b *testing.B) {
		ln := listen(b)
		srv, sln := newServer(&router{prefix: "/static/", static: h, index: http.NotFoundHandler()}, ln, defaultLimits, discardLogger())
		benchGET(b, srv, sln, u)
	})
	b.Run("bare", func(b *testing.B) {
		mux := http.NewServeMux()
		mux.Handle("/static/", h)
		benchGET(b, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, listen(b), u)
	})
}

func listen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}

func benchGET(b *testing.B, srv *http.Server, ln net.Listener, path string) {
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	url := "http://" + ln.Addr().String() + path
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
