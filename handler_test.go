package stampfs_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

const (
	immutable = "public, max-age=31536000, immutable"
	cssType   = "text/css; charset=utf-8"
	textPlain = "text/plain; charset=utf-8"
)

// site is the tree most tests serve.
var site = map[string]string{
	"css/a.css":       "body { color: red }\n",
	"js/app.js":       "console.log('hi')\n",
	"index.html":      "<!doctype html>\n",
	".env":            "SECRET=1\n",
	".git/config":     "[core]\n",
	"css/.hidden.css": "hidden\n",
}

// memFS writes files (name → content) under /static on a fresh MemMapFs.
func memFS(t *testing.T, files map[string]string) afero.Fs {
	t.Helper()
	fsys := afero.NewMemMapFs()
	for name, body := range files {
		require.NoError(t, afero.WriteFile(fsys, "/static/"+name, []byte(body), 0o644))
	}
	return fsys
}

// newHandler serves files from memory with opts.
func newHandler(t *testing.T, files map[string]string, opts *stampfs.Options) *stampfs.Handler {
	t.Helper()
	h, err := stampfs.New(memFS(t, files), "/static", opts)
	require.NoError(t, err)
	return h
}

// etag is the ETag the handler must send for body.
func etag(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// do runs one request against h and returns the recorded response.
func do(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// want is what a test expects of a response: the status, the body and the
// exact values of the listed headers ("" means absent).
type want struct {
	status int
	body   string
	header map[string]string
}

func check(t *testing.T, w *httptest.ResponseRecorder, wt want) {
	t.Helper()
	assert.Equal(t, wt.status, w.Code, "status")
	assert.Equal(t, wt.body, w.Body.String(), "body")
	for k, v := range wt.header {
		assert.Equal(t, v, w.Header().Get(k), "header %s", k)
	}
}

func notFoundWant() want {
	return want{status: 404, body: "404 page not found\n", header: map[string]string{
		"Cache-Control": "no-store", "Content-Type": textPlain, "X-Content-Type-Options": "nosniff",
		"ETag": "", "Content-Encoding": "", "Location": "", "Vary": "",
	}}
}

func TestServeHTTPPolicy(t *testing.T) {
	h := newHandler(t, site, nil)
	s := h.Stamp()
	css := site["css/a.css"]
	ok := func(cc string) want {
		return want{status: 200, body: css, header: map[string]string{
			"Cache-Control": cc, "Content-Type": cssType, "ETag": etag(css),
			"X-Content-Type-Options": "nosniff", "Content-Length": "20", "Vary": "",
			"Content-Encoding": "", "Last-Modified": "",
		}}
	}
	head := ok(immutable)
	head.body = ""
	notModified := want{status: 304, header: map[string]string{"ETag": etag(css), "Cache-Control": immutable}}
	partial := want{status: 206, body: "body", header: map[string]string{
		"Content-Range": "bytes 0-3/20", "Cache-Control": immutable, "ETag": etag(css), "Content-Length": "4",
	}}
	unsatisfiable := want{status: 416, body: "invalid range: failed to overlap\n", header: map[string]string{"Content-Range": "bytes */20", "Cache-Control": ""}}
	preconditionFailed := want{status: 412, header: map[string]string{
		"Cache-Control": "no-store", "Content-Length": "0", "ETag": "", "Content-Encoding": "",
	}}
	notAllowed := want{status: 405, body: "405 method not allowed\n", header: map[string]string{
		"Allow": "GET, HEAD", "Cache-Control": "", "ETag": "",
	}}

	tests := []struct {
		name, method, path string
		header             []string
		want               want
	}{
		{"current stamp", "GET", "/static/" + s + "/css/a.css", nil, ok(immutable)},
		{"current stamp HEAD", "HEAD", "/static/" + s + "/css/a.css", nil, head},
		{"no stamp", "GET", "/static/css/a.css", nil, ok("no-cache")},
		{"unknown stamp is served no-cache", "GET", "/static/0123456789ab/css/a.css", nil, ok("no-cache")},
		{"version-like stamp", "GET", "/static/v1.2.3/css/a.css", nil, ok("no-cache")},
		{"If-None-Match", "GET", "/static/" + s + "/css/a.css", []string{"If-None-Match", etag(css)}, notModified},
		{"If-None-Match other", "GET", "/static/" + s + "/css/a.css", []string{"If-None-Match", `"x"`}, ok(immutable)},
		{"If-Match", "GET", "/static/" + s + "/css/a.css", []string{"If-Match", `"x", ` + etag(css)}, ok(immutable)},
		{"If-Match star", "GET", "/static/" + s + "/css/a.css", []string{"If-Match", "*"}, ok(immutable)},
		{"If-Match other", "GET", "/static/" + s + "/css/a.css", []string{"If-Match", `"x"`}, preconditionFailed},
		{"If-Match weak", "GET", "/static/" + s + "/css/a.css", []string{"If-Match", "W/" + etag(css)}, preconditionFailed},
		{"If-Match unstamped", "GET", "/static/css/a.css", []string{"If-Match", `"x"`}, preconditionFailed},
		{"Range", "GET", "/static/" + s + "/css/a.css", []string{"Range", "bytes=0-3"}, partial},
		{"Range unsatisfiable", "GET", "/static/" + s + "/css/a.css", []string{"Range", "bytes=100-200"}, unsatisfiable},
		{"not counted", "GET", "/static/" + s + "/css/b.css", nil, notFoundWant()},
		{"dot file", "GET", "/static/" + s + "/.env", nil, notFoundWant()},
		{"dot file unstamped", "GET", "/static/.env", nil, notFoundWant()},
		{"dot directory", "GET", "/static/.git/config", nil, notFoundWant()},
		{"hidden file", "GET", "/static/css/.hidden.css", nil, notFoundWant()},
		{"directory", "GET", "/static/" + s + "/css", nil, notFoundWant()},
		{"directory slash", "GET", "/static/css/", nil, notFoundWant()},
		{"prefix only", "GET", "/static/", nil, notFoundWant()},
		{"stamp only", "GET", "/static/" + s + "/", nil, notFoundWant()},
		{"outside prefix", "GET", "/css/a.css", nil, notFoundWant()},
		{"stamp twice", "GET", "/static/" + s + "/" + s + "/css/a.css", nil, notFoundWant()},
		{"bad stamp segment", "GET", "/static/.git/css/a.css", nil, notFoundWant()},
		{"dotdot", "GET", "/static/" + s + "/../css/a.css", nil, notFoundWant()},
		{"encoded slash", "GET", "/static/" + s + "/css%2fa.css", nil, notFoundWant()},
		{"encoded backslash", "GET", "/static/" + s + "%5ccss/a.css", nil, notFoundWant()},
		{"encoded slash upper case", "GET", "/static/" + s + "/css%2Fa.css", nil, notFoundWant()},
		{"encoded slash unstamped", "GET", "/static/css%2fa.css", nil, notFoundWant()},
		{"encoded dotdot", "GET", "/static/" + s + "/%2e%2e/css/a.css", nil, notFoundWant()},
		{"dot segment", "GET", "/static/" + s + "/./css/a.css", nil, notFoundWant()},
		{"double slash", "GET", "/static/" + s + "//css/a.css", nil, notFoundWant()},
		{"double slash after prefix", "GET", "/static//css/a.css", nil, notFoundWant()},
		{"NUL", "GET", "/static/" + s + "/css/a.css%00", nil, notFoundWant()},
		{"stamp twice, dot file", "GET", "/static/" + s + "/" + s + "/.env", nil, notFoundWant()},
		{"404 on HEAD has no body", "HEAD", "/static/nope", nil, want{status: 404, header: map[string]string{"Cache-Control": "no-store"}}},
		{"POST", "POST", "/static/" + s + "/css/a.css", nil, notAllowed},
		{"PUT", "PUT", "/static/css/a.css", nil, notAllowed},
		{"DELETE unknown", "DELETE", "/static/nope", nil, notAllowed},
		{"OPTIONS", "OPTIONS", "/static/", nil, notAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, do(t, h, tt.method, tt.path, tt.header...), tt.want)
		})
	}
}

func TestServeHTTPContentTypes(t *testing.T) {
	files := map[string]string{
		"a.js": "1", "a.mjs": "2", "a.css": "3", "a.svg": "<svg/>", "a.wasm": "\x00asm",
		"a.json": "{}", "a.js.map": "{}", "a.unknownext": "?", "a.png": "png",
	}
	h := newHandler(t, files, nil)
	tests := map[string]string{
		"a.js":         "text/javascript; charset=utf-8",
		"a.mjs":        "text/javascript; charset=utf-8",
		"a.css":        cssType,
		"a.svg":        "image/svg+xml",
		"a.wasm":       "application/wasm",
		"a.json":       "application/json",
		"a.js.map":     "application/json",
		"a.unknownext": "application/octet-stream",
		"a.png":        "image/png",
	}
	for name, ct := range tests {
		t.Run(name, func(t *testing.T) {
			w := do(t, h, "GET", "/static/"+h.Stamp()+"/"+name)
			assert.Equal(t, 200, w.Code)
			assert.Equal(t, ct, w.Header().Get("Content-Type"))
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
		})
	}
}

func TestServeHTTPStalePolicy(t *testing.T) {
	tests := []struct {
		policy stampfs.StalePolicy
		want   want
	}{
		{"", want{status: 200, body: site["css/a.css"], header: map[string]string{"Cache-Control": "no-cache", "ETag": etag(site["css/a.css"])}}},
		{stampfs.StaleServe, want{status: 200, body: site["css/a.css"], header: map[string]string{"Cache-Control": "no-cache", "ETag": etag(site["css/a.css"])}}},
		{stampfs.StaleNotFound, notFoundWant()},
		{stampfs.StaleRedirect, want{status: 302, header: map[string]string{"Cache-Control": "no-store", "ETag": "", "Location": "/assets/{stamp}/css/a.css"}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			h := newHandler(t, site, &stampfs.Options{Prefix: "/assets/", Stale: tt.policy, Base: "https://cdn.example.com"})
			if loc := tt.want.header["Location"]; loc != "" {
				tt.want.header["Location"] = strings.ReplaceAll(loc, "{stamp}", h.Stamp())
			}
			check(t, do(t, h, "GET", "/assets/0123456789ab/css/a.css"), tt.want)
			// The current stamp is never subject to the policy.
			assert.Equal(t, immutable, do(t, h, "GET", "/assets/"+h.Stamp()+"/css/a.css").Header().Get("Cache-Control"))
		})
	}
}

// TestServeHTTPPastStamps: a stamp served earlier keeps immutable caching
// for files whose bytes did not change, and only for those.
func TestServeHTTPPastStamps(t *testing.T) {
	fsys := memFS(t, map[string]string{"a.css": "a1", "b.css": "b1"})
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{Stale: stampfs.StaleNotFound})
	require.NoError(t, err)
	old := h.Stamp()
	require.NoError(t, afero.WriteFile(fsys, "/static/b.css", []byte("b2"), 0o644))
	require.NoError(t, h.Refresh())
	require.NotEqual(t, old, h.Stamp())

	w := do(t, h, "GET", "/static/"+old+"/a.css")
	check(t, w, want{status: 200, body: "a1", header: map[string]string{"Cache-Control": immutable}})
	check(t, do(t, h, "GET", "/static/"+old+"/b.css"), notFoundWant())
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/b.css"), want{status: 200, body: "b2", header: map[string]string{"Cache-Control": immutable}})
}

// TestServeHTTPPastStampsSiblings: under a past stamp, immutable covers the
// representation actually sent, so a sibling whose bytes changed is stale
// even though its base file did not change.
func TestServeHTTPPastStampsSiblings(t *testing.T) {
	fsys := memFS(t, map[string]string{"a.css": "plain", "a.css.gz": "gz1", "a.css.br": "br1"})
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{Stale: stampfs.StaleNotFound})
	require.NoError(t, err)
	old := "/static/" + h.Stamp() + "/a.css"
	require.NoError(t, afero.WriteFile(fsys, "/static/a.css.gz", []byte("gz2"), 0o644))
	require.NoError(t, h.Refresh())
	require.NotEqual(t, old, "/static/"+h.Stamp()+"/a.css")

	stale := notFoundWant()
	stale.header["Vary"] = "Accept-Encoding"
	check(t, do(t, h, "GET", old, "Accept-Encoding", "gzip"), stale)
	check(t, do(t, h, "GET", old), want{status: 200, body: "plain", header: map[string]string{"Cache-Control": immutable}})
	check(t, do(t, h, "GET", old, "Accept-Encoding", "br"), want{status: 200, body: "br1", header: map[string]string{"Cache-Control": immutable, "Content-Encoding": "br"}})
}

// TestServeHTTPShadowedStamp: the first segment is a stamp only when the rest
// is not itself a counted path.
func TestServeHTTPShadowedStamp(t *testing.T) {
	h := newHandler(t, map[string]string{"v1/a.css": "inner", "a.css": "outer"}, &stampfs.Options{Scan: stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"}})
	require.Equal(t, "v1", h.Stamp())
	check(t, do(t, h, "GET", "/static/v1/a.css"), want{status: 200, body: "inner", header: map[string]string{"Cache-Control": "no-cache"}})
	check(t, do(t, h, "GET", "/static/v1/v1/a.css"), want{status: 200, body: "inner", header: map[string]string{"Cache-Control": immutable}})
	_, err := h.URL("a.css")
	assert.ErrorContains(t, err, "url a.css: stampfs: the stamped path names another counted file")
	u, err := h.URL("v1/a.css")
	require.NoError(t, err)
	assert.Equal(t, "/static/v1/v1/a.css", u)

	// A redirect to /static/v1/a.css would reach v1/a.css instead.
	h = newHandler(t, map[string]string{"v1/a.css": "inner", "a.css": "outer"}, &stampfs.Options{Stale: stampfs.StaleRedirect, Scan: stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"}})
	check(t, do(t, h, "GET", "/static/v0/a.css"), want{status: 200, body: "outer", header: map[string]string{"Cache-Control": "no-cache", "Location": ""}})
	check(t, do(t, h, "GET", "/static/v0/v1/a.css"), want{status: 302, header: map[string]string{"Location": "/static/v1/v1/a.css"}})
}

func TestServeHTTPPrecompressed(t *testing.T) {
	files := map[string]string{
		"a.css": "plain", "a.css.br": "brotli", "a.css.gz": "gzipped",
		"b.js": "only-gz", "b.js.gz": "gz-of-b",
		"c.txt": "no siblings",
		"d.gz":  "a download, no base",
	}
	h := newHandler(t, files, nil)
	s := "/static/" + h.Stamp() + "/"
	tests := []struct {
		name, path, accept string
		body, enc, vary    string
	}{
		{"no header", "a.css", "", "plain", "", "Accept-Encoding"},
		{"br preferred", "a.css", "gzip, deflate, br, zstd", "brotli", "br", "Accept-Encoding"},
		{"gzip only", "a.css", "gzip", "gzipped", "gzip", "Accept-Encoding"},
		{"x-gzip", "a.css", "x-gzip", "gzipped", "gzip", "Accept-Encoding"},
		{"q-values", "a.css", "br;q=0.5, gzip;q=0.8", "gzipped", "gzip", "Accept-Encoding"},
		{"q=0 refuses", "a.css", "br;q=0, gzip;q=0", "plain", "", "Accept-Encoding"},
		{"star", "a.css", "*", "brotli", "br", "Accept-Encoding"},
		{"star without br", "a.css", "*, br;q=0", "gzipped", "gzip", "Accept-Encoding"},
		{"identity preferred", "a.css", "gzip;q=0.5, identity", "plain", "", "Accept-Encoding"},
		{"case and spaces", "a.css", " GZIP ; Q=1 ", "gzipped", "gzip", "Accept-Encoding"},
		{"malformed q", "a.css", "br;q=2, gzip;q=abc", "plain", "", "Accept-Encoding"},
		{"only gz sibling", "b.js", "br, gzip", "gz-of-b", "gzip", "Accept-Encoding"},
		{"no siblings", "c.txt", "br, gzip", "no siblings", "", ""},
		{"gz without base is a file", "d.gz", "gzip", "a download, no base", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.accept != "" {
				hdr = []string{"Accept-Encoding", tt.accept}
			}
			w := do(t, h, "GET", s+tt.path, hdr...)
			assert.Equal(t, 200, w.Code)
			assert.Equal(t, tt.body, w.Body.String())
			assert.Equal(t, tt.enc, w.Header().Get("Content-Encoding"))
			assert.Equal(t, tt.vary, w.Header().Get("Vary"))
			assert.Equal(t, etag(tt.body), w.Header().Get("ETag"), "an ETag per encoding")
			assert.Equal(t, immutable, w.Header().Get("Cache-Control"))
		})
	}
	t.Run("content type of the base", func(t *testing.T) {
		w := do(t, h, "GET", s+"a.css", "Accept-Encoding", "br")
		assert.Equal(t, cssType, w.Header().Get("Content-Type"))
		assert.Equal(t, "6", w.Header().Get("Content-Length"))
	})
	t.Run("siblings are not served by their own names", func(t *testing.T) {
		check(t, do(t, h, "GET", s+"a.css.br"), notFoundWant())
		check(t, do(t, h, "GET", "/static/a.css.gz"), notFoundWant())
		_, err := h.URL("a.css.gz")
		assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
	})
	t.Run("conditional on an encoding", func(t *testing.T) {
		w := do(t, h, "GET", s+"a.css", "Accept-Encoding", "gzip", "If-None-Match", etag("gzipped"))
		assert.Equal(t, 304, w.Code)
		assert.Equal(t, "Accept-Encoding", w.Header().Get("Vary"))
		w = do(t, h, "GET", s+"a.css", "Accept-Encoding", "br", "If-None-Match", etag("gzipped"))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "brotli", w.Body.String())
	})
	t.Run("If-Match on an encoding", func(t *testing.T) {
		// A Content-Length without its body would break the connection.
		check(t, do(t, h, "GET", s+"a.css", "Accept-Encoding", "gzip", "If-Match", etag("plain")), want{status: 412, header: map[string]string{
			"Cache-Control": "no-store", "Content-Length": "0", "Content-Encoding": "", "Vary": "Accept-Encoding",
		}})
		check(t, do(t, h, "GET", s+"a.css", "Accept-Encoding", "gzip", "If-Match", etag("gzipped")), want{status: 200, body: "gzipped", header: map[string]string{
			"Content-Encoding": "gzip", "Content-Length": "7",
		}})
	})
	t.Run("range on an encoding", func(t *testing.T) {
		w := do(t, h, "GET", s+"a.css", "Accept-Encoding", "gzip", "Range", "bytes=0-1")
		assert.Equal(t, 206, w.Code)
		assert.Equal(t, "gz", w.Body.String())
		assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
	})
	t.Run("vary on 404 under the stale policy", func(t *testing.T) {
		h := newHandler(t, files, &stampfs.Options{Stale: stampfs.StaleNotFound})
		w := do(t, h, "GET", "/static/0123456789ab/a.css")
		assert.Equal(t, 404, w.Code)
		assert.Equal(t, "Accept-Encoding", w.Header().Get("Vary"))
	})
}

// TestServeHTTPRealGzip: a real gzip sibling decodes to the base's bytes.
func TestServeHTTPRealGzip(t *testing.T) {
	plain := strings.Repeat("body { margin: 0 }\n", 100)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write([]byte(plain))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	h := newHandler(t, map[string]string{"a.css": plain, "a.css.gz": gz.String()}, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	u, err := h.URL("a.css")
	require.NoError(t, err)
	resp, err := srv.Client().Get(srv.URL + u) // the transport asks for gzip and decodes it
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.True(t, resp.Uncompressed, "served gzip-encoded")
	assert.Equal(t, plain, string(got))
}

// TestServeHTTPStreamed: files over the memory limit are read per request
// and follow the same policy.
func TestServeHTTPStreamed(t *testing.T) {
	big := strings.Repeat("x", 5000)
	for name, opts := range map[string]*stampfs.Options{
		"over MemoryFileLimit": {MemoryFileLimit: 100},
		"MemoryLimit negative": {MemoryLimit: -1},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := memFS(t, map[string]string{"big.js": big, "small.js": "s"})
			h, err := stampfs.New(fsys, "/static", opts)
			require.NoError(t, err)
			s := "/static/" + h.Stamp() + "/"
			check(t, do(t, h, "GET", s+"big.js"), want{status: 200, body: big, header: map[string]string{
				"Cache-Control": immutable, "ETag": etag(big), "Content-Length": "5000",
				"Content-Type": "text/javascript; charset=utf-8", "X-Content-Type-Options": "nosniff",
			}})
			check(t, do(t, h, "HEAD", s+"big.js"), want{status: 200, header: map[string]string{"Content-Length": "5000"}})
			check(t, do(t, h, "GET", s+"big.js", "Range", "bytes=4998-"), want{status: 206, body: "xx"})
			check(t, do(t, h, "GET", s+"big.js", "If-None-Match", etag(big)), want{status: 304})
			check(t, do(t, h, "GET", s+"big.js", "If-Match", `"x"`), want{status: 412, header: map[string]string{"Cache-Control": "no-store"}})

			// A file changed behind the handler's back is not served under its old ETag.
			require.NoError(t, afero.WriteFile(fsys, "/static/big.js", []byte("short"), 0o644))
			check(t, do(t, h, "GET", s+"big.js"), notFoundWant())
			require.NoError(t, h.Refresh())
			check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/big.js"), want{status: 200, body: "short"})
		})
	}
}

func TestURL(t *testing.T) {
	files := map[string]string{"css/a.css": "a", "img/a b+c.png": "p", "css/a.css.gz": "z"}
	tests := []struct {
		name string
		opts *stampfs.Options
		in   string
		want string // {s} is the stamp
	}{
		{"default prefix", nil, "css/a.css", "/static/{s}/css/a.css"},
		{"leading slash", nil, "/css/a.css", "/static/{s}/css/a.css"},
		{"escaped", nil, "img/a b+c.png", "/static/{s}/img/a%20b+c.png"},
		{"prefix", &stampfs.Options{Prefix: "/assets/v/"}, "css/a.css", "/assets/v/{s}/css/a.css"},
		{"root prefix", &stampfs.Options{Prefix: "/"}, "css/a.css", "/{s}/css/a.css"},
		{"base", &stampfs.Options{Base: "https://cdn.example.com/"}, "css/a.css", "https://cdn.example.com/static/{s}/css/a.css"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, files, tt.opts)
			got, err := h.URL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, strings.ReplaceAll(tt.want, "{s}", h.Stamp()), got)
		})
	}
	h := newHandler(t, files, nil)
	for _, bad := range []string{"", "css", "css/", "css/b.css", "./css/a.css", "//css/a.css", "../css/a.css", ".env", "css/a.css.gz"} {
		t.Run("unknown "+bad, func(t *testing.T) {
			got, err := h.URL(bad)
			assert.Empty(t, got)
			assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, bad, pe.Path)
		})
	}
	t.Run("served", func(t *testing.T) {
		h := newHandler(t, files, &stampfs.Options{Prefix: "/p/"})
		u, err := h.URL("img/a b+c.png")
		require.NoError(t, err)
		r := httptest.NewRequest("GET", u, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "p", w.Body.String())
		assert.Equal(t, immutable, w.Header().Get("Cache-Control"))
	})
}

func TestIntegrity(t *testing.T) {
	big := strings.Repeat("y", 1000)
	fsys := memFS(t, map[string]string{"a.js": "alert(1)", "big.js": big})
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{MemoryFileLimit: 100})
	require.NoError(t, err)
	for name, body := range map[string]string{"a.js": "alert(1)", "big.js": big} {
		sum := sha512.Sum384([]byte(body))
		got, err := h.Integrity(name)
		require.NoError(t, err)
		assert.Equal(t, "sha384-"+base64.StdEncoding.EncodeToString(sum[:]), got)
	}
	_, err = h.Integrity("nope.js")
	assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)

	// A streamed file that changed since the scan has no trustworthy SRI.
	h, err = stampfs.New(fsys, "/static", &stampfs.Options{MemoryFileLimit: 100})
	require.NoError(t, err)
	require.NoError(t, afero.WriteFile(fsys, "/static/big.js", []byte(strings.Repeat("z", 1000)), 0o644))
	_, err = h.Integrity("big.js")
	assert.ErrorContains(t, err, "changed since the scan")
}

func TestFuncMap(t *testing.T) {
	h := newHandler(t, map[string]string{"css/site.css": "body{}"}, nil)
	sri, err := h.Integrity("css/site.css")
	require.NoError(t, err)

	page := template.Must(template.New("page").Funcs(h.FuncMap()).Parse(
		`<link rel=stylesheet href="{{static "css/site.css"}}" integrity="{{integrity "css/site.css"}}">`))
	var b strings.Builder
	require.NoError(t, page.Execute(&b, nil))
	assert.Equal(t, `<link rel=stylesheet href="/static/`+h.Stamp()+`/css/site.css" integrity="`+sri+`">`, b.String())

	missing := template.Must(template.New("page").Funcs(h.FuncMap()).Parse(`<script src="{{static "js/gone.js"}}"></script>`))
	err = missing.Execute(io.Discard, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
	assert.Contains(t, err.Error(), `js/gone.js`)
	assert.Contains(t, err.Error(), `unknown asset`)
}

func TestNewOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts stampfs.Options
		msg  string
	}{
		{"prefix without leading slash", stampfs.Options{Prefix: "static/"}, `Prefix "static/"`},
		{"prefix without trailing slash", stampfs.Options{Prefix: "/static"}, `Prefix "/static"`},
		{"prefix with dot dot", stampfs.Options{Prefix: "/a/../static/"}, `Prefix "/a/../static/" must be a clean path`},
		{"prefix with double slash", stampfs.Options{Prefix: "//static/"}, `Prefix "//static/" must be a clean path`},
		{"prefix with a space", stampfs.Options{Prefix: "/my assets/"}, `Prefix "/my assets/" must be a clean path`},
		{"base", stampfs.Options{Base: "cdn.example.com"}, `Base "cdn.example.com"`},
		{"mode", stampfs.Options{Mode: "hard"}, `Mode "hard"`},
		{"stale", stampfs.Options{Stale: "ignore"}, `Stale policy "ignore"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := stampfs.New(memFS(t, site), "/static", &tt.opts)
			assert.Nil(t, h)
			assert.ErrorContains(t, err, tt.msg)
			assert.ErrorIs(t, err, fs.ErrInvalid)
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		_, err := stampfs.New(afero.NewMemMapFs(), "/nowhere", nil)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		var pe *fs.PathError
		assert.ErrorAs(t, err, &pe)
	})
	t.Run("NewFS symlink mode", func(t *testing.T) {
		_, err := stampfs.NewFS(fstest.MapFS{}, &stampfs.Options{Mode: stampfs.ModeSymlink})
		assert.ErrorIs(t, err, stampfs.ErrSymlinkUnsupported)
	})
}

func TestNewFS(t *testing.T) {
	fsys := fstest.MapFS{
		"css/a.css": {Data: []byte(site["css/a.css"])},
		".env":      {Data: []byte("SECRET")},
		"big.bin":   {Data: bytes.Repeat([]byte{1}, 100)},
	}
	h, err := stampfs.NewFS(fsys, &stampfs.Options{MemoryFileLimit: 10})
	require.NoError(t, err)
	assert.Equal(t, stampfs.ModeVirtual, h.Mode())
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/a.css"), want{status: 200, body: site["css/a.css"], header: map[string]string{"Cache-Control": immutable, "ETag": etag(site["css/a.css"])}})
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/big.bin", "Range", "bytes=98-"), want{status: 206, body: "\x01\x01"})
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/.env"), notFoundWant())
}

// TestOSSymlinkSwap: a served file swapped for a link to a file outside the
// directory after the scan yields 404 or the old bytes, never the outside file.
func TestOSSymlinkSwap(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "static")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "css"), 0o755))
	secret := filepath.Join(tmp, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("TOP SECRET"), 0o600))
	big := strings.Repeat("b", 2000)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "small.css"), []byte("small"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "big.css"), []byte(big), 0o644))

	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryFileLimit: 1000})
	require.NoError(t, err)
	for _, name := range []string{"small.css", "big.css"} {
		p := filepath.Join(dir, "css", name)
		require.NoError(t, os.Remove(p))
		require.NoError(t, os.Symlink(secret, p))
	}
	// The directory itself swapped for a link out of the tree.
	require.NoError(t, os.Rename(filepath.Join(dir, "css"), filepath.Join(tmp, "css-moved")))
	require.NoError(t, os.Symlink(filepath.Join(tmp, "css-moved"), filepath.Join(dir, "css")))

	for _, p := range []string{"/static/" + h.Stamp() + "/css/small.css", "/static/" + h.Stamp() + "/css/big.css", "/static/css/big.css"} {
		w := do(t, h, "GET", p)
		assert.NotContains(t, w.Body.String(), "SECRET", p)
		assert.Contains(t, []int{200, 404}, w.Code, p)
		if w.Code == 200 {
			assert.Contains(t, []string{"small", big}, w.Body.String(), p)
		}
	}
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/small.css"), want{status: 200, body: "small"})
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/big.css"), notFoundWant())
}

func TestModes(t *testing.T) {
	t.Run("auto on the OS makes a link", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a1"), 0o644))
		h, err := stampfs.New(afero.NewOsFs(), dir, nil)
		require.NoError(t, err)
		assert.Equal(t, stampfs.ModeSymlink, h.Mode())
		target, err := os.Readlink(filepath.Join(dir, h.Stamp()))
		require.NoError(t, err)
		assert.Equal(t, ".", target)
		got, err := os.ReadFile(filepath.Join(dir, h.Stamp(), "a.css"))
		require.NoError(t, err)
		assert.Equal(t, "a1", string(got))

		old := h.Stamp()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a2"), 0o644))
		require.NoError(t, h.Refresh())
		require.NotEqual(t, old, h.Stamp())
		_, err = os.Readlink(filepath.Join(dir, h.Stamp()))
		assert.NoError(t, err, "Refresh links the new stamp")
		_, err = os.Readlink(filepath.Join(dir, old))
		assert.NoError(t, err, "the old link survives its grace period")
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"Cache-Control": immutable}})
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/"+old+"/a.css"), notFoundWant())
	})
	t.Run("virtual on the OS makes no link", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a1"), 0o644))
		h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
		require.NoError(t, err)
		assert.Equal(t, stampfs.ModeVirtual, h.Mode())
		_, err = os.Lstat(filepath.Join(dir, h.Stamp()))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("auto without symlinks falls back to virtual", func(t *testing.T) {
		h := newHandler(t, site, nil)
		assert.Equal(t, stampfs.ModeVirtual, h.Mode())
	})
	t.Run("symlink without symlinks fails", func(t *testing.T) {
		h, err := stampfs.New(memFS(t, site), "/static", &stampfs.Options{Mode: stampfs.ModeSymlink})
		assert.Nil(t, h)
		assert.ErrorIs(t, err, stampfs.ErrSymlinkUnsupported)
	})
}

func TestServeHTTPLeavesRequestAlone(t *testing.T) {
	h := newHandler(t, site, nil)
	for _, target := range []string{"/static/" + h.Stamp() + "/css/a.css", "/static/css/a.css", "/static/x/css/a.css", "/static/nope", "/static/css%2fa.css"} {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		before := *r.URL
		h.ServeHTTP(httptest.NewRecorder(), r)
		assert.Equal(t, before, *r.URL, target)
		assert.Equal(t, http.Header{"Accept-Encoding": {"gzip"}}, r.Header, target)
	}
}

func TestNewFSRefresh(t *testing.T) {
	fsys := fstest.MapFS{"a.css": {Data: []byte("a1")}}
	h, err := stampfs.NewFS(fsys, nil)
	require.NoError(t, err)
	old := h.Stamp()
	fsys["a.css"] = &fstest.MapFile{Data: []byte("a2")}
	require.NoError(t, h.Refresh())
	assert.NotEqual(t, old, h.Stamp())
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"Cache-Control": immutable}})
	check(t, do(t, h, "GET", "/static/"+old+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"Cache-Control": "no-cache"}})
}

// TestServeHTTPBackslash: a backslash is refused however the request spells
// it ("%5C" leaves no RawPath behind), and a file whose name holds one is
// neither served nor given a URL.
func TestServeHTTPBackslash(t *testing.T) {
	h := newHandler(t, map[string]string{`b\c.css`: "backslash", "css/a.css": "a"}, nil)
	s := "/static/" + h.Stamp() + "/"
	for _, target := range []string{s + "b%5Cc.css", s + "b%5cc.css", "/static/b%5Cc.css", s + "css%5Ca.css", "/static/" + h.Stamp() + "%5Ccss/a.css"} {
		t.Run(target, func(t *testing.T) {
			check(t, do(t, h, "GET", target), notFoundWant())
		})
	}
	t.Run("decoded", func(t *testing.T) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: s + `b\c.css`}, Header: http.Header{}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		check(t, w, notFoundWant())
	})
	_, err := h.URL(`b\c.css`)
	assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
	check(t, do(t, h, "GET", s+"css/a.css"), want{status: 200, body: "a"})
}

// TestRefreshOSRoot: on the OS, Refresh keeps one descriptor for the
// directory while it stays the same, and follows its name to a directory
// that replaced it.
func TestRefreshOSRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	write := func(body string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte(body), 0o644))
	}
	write("a1")
	// Nothing held in memory: every request opens the file through the root.
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryLimit: -1})
	require.NoError(t, err)

	t.Run("one descriptor", func(t *testing.T) {
		count := func() int {
			fds, err := os.ReadDir("/proc/self/fd")
			if err != nil {
				t.Skipf("cannot count descriptors here: %v", err)
			}
			return len(fds)
		}
		// The collector would close unreachable roots and hide a leak.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		before := count()
		for range 50 {
			require.NoError(t, h.Refresh())
		}
		assert.Less(t, count()-before, 10, "descriptors left behind by 50 Refresh calls")
	})
	t.Run("replaced directory", func(t *testing.T) {
		require.NoError(t, os.Rename(dir, dir+".old"))
		write("a2") // the same size: only the bytes tell the directories apart
		require.NoError(t, h.Refresh())
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"ETag": etag("a2")}})
	})
}

// TestNewFSUnseekable: files of an fs.FS that can neither seek nor ReadAt
// (a zip archive's) are sent whole, with the same policy headers, 304 and
// 412 included, and no Accept-Ranges.
func TestNewFSUnseekable(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"css/a.css": "plain", "css/a.css.gz": "gzipped", "js/app.js": "app"} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = io.WriteString(w, body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	f, err := zr.Open("js/app.js")
	require.NoError(t, err)
	_, seeks := f.(io.Seeker)
	_, readsAt := f.(io.ReaderAt)
	f.Close()
	require.False(t, seeks || readsAt, "zip files seek now: this test no longer reaches the streaming path")

	h, err := stampfs.NewFS(zr, &stampfs.Options{MemoryLimit: -1})
	require.NoError(t, err)
	s := "/static/" + h.Stamp() + "/"
	whole := want{status: 200, body: "app", header: map[string]string{
		"Cache-Control": immutable, "ETag": etag("app"), "Content-Length": "3", "Accept-Ranges": "",
		"Content-Type": "text/javascript; charset=utf-8", "X-Content-Type-Options": "nosniff",
	}}
	tests := []struct {
		name, method, path string
		header             []string
		want               want
	}{
		{"GET", "GET", s + "js/app.js", nil, whole},
		{"HEAD", "HEAD", s + "js/app.js", nil, want{status: 200, header: map[string]string{"Content-Length": "3", "ETag": etag("app")}}},
		{"Range is ignored", "GET", s + "js/app.js", []string{"Range", "bytes=0-0"}, whole},
		{"If-None-Match", "GET", s + "js/app.js", []string{"If-None-Match", "W/" + etag("app")}, want{status: 304, header: map[string]string{"ETag": etag("app"), "Content-Type": "", "Content-Length": ""}}},
		{"If-Match other", "GET", s + "js/app.js", []string{"If-Match", `"x"`}, want{status: 412, header: map[string]string{"Cache-Control": "no-store", "Content-Length": "0"}}},
		{"unstamped", "GET", "/static/js/app.js", nil, want{status: 200, body: "app", header: map[string]string{"Cache-Control": "no-cache"}}},
		{"gzip", "GET", s + "css/a.css", []string{"Accept-Encoding", "gzip"}, want{status: 200, body: "gzipped", header: map[string]string{
			"Content-Encoding": "gzip", "Content-Length": "7", "Vary": "Accept-Encoding", "ETag": etag("gzipped"), "Content-Type": cssType,
		}}},
		{"gzip 304", "GET", s + "css/a.css", []string{"Accept-Encoding", "gzip", "If-None-Match", etag("gzipped")}, want{status: 304, header: map[string]string{
			"Content-Encoding": "", "Vary": "Accept-Encoding",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, do(t, h, tt.method, tt.path, tt.header...), tt.want)
		})
	}
}
