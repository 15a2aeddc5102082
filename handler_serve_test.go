package stampfs_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

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
// TestServeHTTPPastStamps: with a store, every retained version's stamp
// serves that version's own bytes, immutable; without one (a read-only
// directory) only files whose bytes are unchanged since this process served
// them under the old stamp.
func TestServeHTTPPastStamps(t *testing.T) {
	for _, store := range []bool{true, false} {
		t.Run(map[bool]string{true: "store", false: "no store"}[store], func(t *testing.T) {
			fsys := memFS(t, map[string]string{"a.css": "a1", "b.css": "b1"})
			served := fsys
			if !store {
				served = afero.NewReadOnlyFs(fsys)
			}
			h, err := stampfs.New(served, "/static", &stampfs.Options{Stale: stampfs.StaleNotFound})
			require.NoError(t, err)
			old := h.Stamp()
			require.NoError(t, afero.WriteFile(fsys, "/static/b.css", []byte("b2"), 0o644))
			require.NoError(t, h.Refresh())
			require.NotEqual(t, old, h.Stamp())

			w := do(t, h, "GET", "/static/"+old+"/a.css")
			check(t, w, want{status: 200, body: "a1", header: map[string]string{"Cache-Control": immutable}})
			if store {
				check(t, do(t, h, "GET", "/static/"+old+"/b.css"), want{status: 200, body: "b1", header: map[string]string{"Cache-Control": immutable}})
			} else {
				check(t, do(t, h, "GET", "/static/"+old+"/b.css"), notFoundWant())
			}
			check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/b.css"), want{status: 200, body: "b2", header: map[string]string{"Cache-Control": immutable}})

			// A new process sharing the directory knows the old stamp from the store.
			h2, err := stampfs.New(served, "/static", &stampfs.Options{Stale: stampfs.StaleNotFound})
			require.NoError(t, err)
			if store {
				check(t, do(t, h2, "GET", "/static/"+old+"/b.css"), want{status: 200, body: "b1", header: map[string]string{"Cache-Control": immutable}})
			} else {
				check(t, do(t, h2, "GET", "/static/"+old+"/a.css"), notFoundWant())
			}
		})
	}
}

// TestServeHTTPPastStampsSiblings: under a past stamp, immutable covers the
// representation actually sent: with a store it is the version's own; without
// one a sibling whose bytes changed is stale even though its base file did not
// change.
func TestServeHTTPPastStampsSiblings(t *testing.T) {
	for _, store := range []bool{true, false} {
		t.Run(map[bool]string{true: "store", false: "no store"}[store], func(t *testing.T) {
			fsys := memFS(t, map[string]string{"a.css": "plain", "a.css.gz": "gz1", "a.css.br": "br1"})
			served := fsys
			if !store {
				served = afero.NewReadOnlyFs(fsys)
			}
			h, err := stampfs.New(served, "/static", &stampfs.Options{Stale: stampfs.StaleNotFound})
			require.NoError(t, err)
			old := "/static/" + h.Stamp() + "/a.css"
			require.NoError(t, afero.WriteFile(fsys, "/static/a.css.gz", []byte("gz2"), 0o644))
			require.NoError(t, h.Refresh())
			require.NotEqual(t, old, "/static/"+h.Stamp()+"/a.css")

			if store {
				check(t, do(t, h, "GET", old, "Accept-Encoding", "gzip"), want{status: 200, body: "gz1", header: map[string]string{"Cache-Control": immutable, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}})
			} else {
				stale := notFoundWant()
				stale.header["Vary"] = "Accept-Encoding"
				check(t, do(t, h, "GET", old, "Accept-Encoding", "gzip"), stale)
			}
			check(t, do(t, h, "GET", old), want{status: 200, body: "plain", header: map[string]string{"Cache-Control": immutable}})
			check(t, do(t, h, "GET", old, "Accept-Encoding", "br"), want{status: 200, body: "br1", header: map[string]string{"Cache-Control": immutable, "Content-Encoding": "br"}})
		})
	}
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

			// A live file changed behind the handler's back changes nothing
			// under the stamp: its version keeps the bytes.
			require.NoError(t, afero.WriteFile(fsys, "/static/big.js", []byte("short"), 0o644))
			check(t, do(t, h, "GET", s+"big.js"), want{status: 200, body: big, header: map[string]string{"Cache-Control": immutable}})
			old := h.Stamp()
			require.NoError(t, h.Refresh())
			check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/big.js"), want{status: 200, body: "short"})
			check(t, do(t, h, "GET", s+"big.js"), want{status: 200, body: big, header: map[string]string{"Cache-Control": immutable}})

			// A stored file changed behind the handler's back is not served
			// under its old ETag.
			stored := "/static/.stampfs/" + old + "/big.js"
			require.NoError(t, fsys.Remove(stored))
			require.NoError(t, afero.WriteFile(fsys, stored, []byte("tampered"), 0o644))
			check(t, do(t, h, "GET", s+"big.js"), notFoundWant())
		})
	}
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
