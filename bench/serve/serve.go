// Package serve compares stampfs's handler with its peers on one request: a
// GET of a 4 KB stamped asset, as a browser sends it.
//
// Every side serves the same file of the same directory on disk, mounted at
// /static/ the way its documentation suggests:
//
//   - stampfs: stampfs.New over the OS file system in its default (auto)
//     mode, under /static/<stamp>/
//   - fileserver: http.FileServerFS(os.DirFS(dir)) behind http.StripPrefix,
//     under the plain name
//   - hashfs: hashfs.FileServer(os.DirFS(dir)) behind http.StripPrefix, under
//     the hashed name hashfs.FS.HashName gives
//   - memory: http.ServeContent of the file's bytes held in memory, the
//     ceiling for a handler built on ServeContent
//
// The benchmarks in serve_test.go, the ratio printer in cmd/serveratio and the
// loopback servers of cmd/peer all take their sides from Sides, so the numbers
// they print compare exactly these handlers.
package serve

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/hashfs"
	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// Asset is the slash-separated name of the benchmarked file inside the directory.
const Asset = "css/app.css"

// AssetSize is the size of Asset in bytes.
const AssetSize = 4096

// Prefix is the URL path under which every side is mounted.
const Prefix = "/static/"

// AssetBytes returns the content of Asset: AssetSize bytes of plausible CSS,
// the same on every call.
func AssetBytes() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < AssetSize; i++ {
		fmt.Fprintf(&b, ".c%04d { margin: %dpx; color: #%06x; }\n", i, i%32, i*2654435761%0xffffff)
	}
	return b.Bytes()[:AssetSize]
}

// WriteFixture writes Asset into dir, creating its parent directory, with
// permissions that let an unprivileged server (an nginx worker) read it.
func WriteFixture(dir string) error {
	name := filepath.Join(dir, filepath.FromSlash(Asset))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, AssetBytes(), 0o644)
}

// Side is one handler under test and the URL path it serves Asset under.
type Side struct {
	Name    string       // stampfs, fileserver, hashfs or memory
	Handler http.Handler // mounted at Prefix, reads the full request path
	Path    string       // the URL path of Asset on this side
}

// Peers returns the sides that are not stampfs, serving dir, which must
// already hold Asset (see WriteFixture).
func Peers(dir string) ([]Side, error) {
	fsys := os.DirFS(dir)
	data, err := fs.ReadFile(fsys, Asset)
	if err != nil {
		return nil, err
	}
	hfs := hashfs.NewFS(fsys)
	hashed := hfs.HashName(Asset)
	if hashed == Asset {
		return nil, &fs.PathError{Op: "hash", Path: Asset, Err: fs.ErrInvalid}
	}
	strip := strings.TrimSuffix(Prefix, "/")
	return []Side{
		{Name: "fileserver", Handler: http.StripPrefix(strip, http.FileServerFS(fsys)), Path: Prefix + Asset},
		{Name: "hashfs", Handler: http.StripPrefix(strip, hashfs.FileServer(hfs)), Path: Prefix + hashed},
		{Name: "memory", Handler: memoryHandler(Prefix+Asset, data), Path: Prefix + Asset},
	}, nil
}

// memoryHandler serves data at path with http.ServeContent, the least a
// handler built on ServeContent can do per request, and 404 elsewhere.
func memoryHandler(path string, data []byte) http.Handler {
	modtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, Asset, modtime, bytes.NewReader(data))
	})
}

// NewRequest returns the request every side is measured with: a GET of path
// carrying the headers a current desktop browser sends for a stylesheet.
func NewRequest(path string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range BrowserHeaders {
		r.Header.Set(k, v)
	}
	return r
}

// BrowserHeaders are the request headers of NewRequest, also sent by the
// loopback benchmark through wrk.
var BrowserHeaders = map[string]string{
	"Accept":          "text/css,*/*;q=0.1",
	"Accept-Encoding": "gzip, deflate, br, zstd",
	"Accept-Language": "en-US,en;q=0.9",
	"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Referer":         "http://127.0.0.1/",
	"Sec-Fetch-Dest":  "style",
	"Sec-Fetch-Mode":  "no-cors",
	"Sec-Fetch-Site":  "same-origin",
}

// Sides returns every side serving dir, stampfs first. dir must already hold
// Asset (see WriteFixture).
func Sides(dir string) ([]Side, error) {
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Prefix: Prefix})
	if err != nil {
		return nil, err
	}
	url, err := h.URL(Asset)
	if err != nil {
		return nil, err
	}
	peers, err := Peers(dir)
	if err != nil {
		return nil, err
	}
	return append([]Side{{Name: "stampfs", Handler: h, Path: url}}, peers...), nil
}
