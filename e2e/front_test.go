package e2e_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A front server is nginx or Apache configured by what stampfs prints for
// it. start serves dir at prefix with a configuration kept under root and
// returns the base URL.
type frontServer struct {
	name  string
	allow []string // the Allow lines of a 405
	// linkStatus answers a path through a symbolic link deeper in DIR
	// (css/lib -> ../js): 404, or 403 from Apache, which refuses such a
	// link itself.
	linkStatus int
	start      func(t *testing.T, root, dir, prefix string) string
}

// frontSite lays out a release directory as a deploy would, with
// root/srv/current -> releases/1, and returns DIR as the configuration
// names it: root/srv/current/static, reached through the link.
//
// Its static directory holds names that need escaping in a URL, a
// precompressed sibling, dot files, a name with a backslash, and links
// that lead outside DIR or back into it, none of which may be served.
func frontSite(t *testing.T, root string) string {
	t.Helper()
	release := filepath.Join(root, "srv", "releases", "1", "static")
	writeTree(t, release, map[string]string{
		"css/site.css":          "body { color: teal }\n",
		"js/app.js":             "console.log(1)\n",
		"js/late.js":            "console.log('late')\n",
		"odd/a b+c%d#e?f é.css": "odd {}\n",
		"ünï.css":               "unicode {}\n",
		`odd/back\slash.css`:    "backslash\n",
		".env":                  "SECRET=1\n",
		"css/.hidden":           "hidden\n",
	})
	writeFile(t, filepath.Join(release, "css", "site.css.gz"), gzipBytes(t, "body { color: teal }\n"))
	for name, target := range map[string]string{
		"vendor":        "css",
		"css/lib":       "../js",
		"css/alias.css": "site.css",
		"out":           "/etc",
		"passwd":        "/etc/passwd",
		"0123456789ab":  "/etc",
		"v1":            ".",
	} {
		require.NoError(t, os.Symlink(target, filepath.Join(release, filepath.FromSlash(name))))
	}
	require.NoError(t, os.Symlink("releases/1", filepath.Join(root, "srv", "current")))
	return filepath.Join(root, "srv", "current", "static")
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// do sends one request with the headers given as "Name: value" and returns
// the response with its body read.
func do(t *testing.T, method, u string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	// No transparent gzip: the test looks at the bytes the server sent.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: client.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// escapePath escapes a served name as the handler's URL does.
func escapePath(name string) string { return (&url.URL{Path: name}).EscapedPath() }

// checkNotFound requires the 404 of the policy: no-store, no Location
// (no redirect, not even a hidden one), nosniff.
func checkNotFound(t *testing.T, u string) {
	t.Helper()
	checkRefused(t, u, http.StatusNotFound)
}

// checkRefused requires an error response with status and the headers of
// the policy's 404.
func checkRefused(t *testing.T, u string, status int) {
	t.Helper()
	resp, body := do(t, "GET", u)
	assert.Equalf(t, status, resp.StatusCode, "GET %s: %s", u, body)
	assert.Equalf(t, []string{"no-store"}, resp.Header.Values("Cache-Control"), "GET %s: Cache-Control", u)
	assert.Emptyf(t, resp.Header.Values("Location"), "GET %s: Location", u)
	assert.Equalf(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "GET %s", u)
	assert.NotContainsf(t, string(body), "root:", "GET %s: bytes of /etc/passwd", u)
}

const immutable = "public, max-age=31536000, immutable"

// testFrontPolicy runs the README's policy table, row by row, through a
// front server.
func testFrontPolicy(t *testing.T, fs frontServer) {
	root := t.TempDir()
	dir := frontSite(t, root)
	const prefix = "/static/"
	base := fs.start(t, root, dir, prefix)

	m1 := publishVersion(t, dir)
	s1 := m1.Stamp
	version := filepath.Join(dir, storeName, s1)
	require.NotContains(t, m1.Files, `odd/back\slash.css`, "never served by the handler")
	require.NotContains(t, m1.Files, "css/site.css.gz", "an encoding of css/site.css")
	require.Equal(t, []string{"gzip"}, m1.Files["css/site.css"].Encodings)

	t.Run("stamped and unstamped files", func(t *testing.T) {
		for name, f := range m1.Files {
			if name == "js/late.js" {
				continue // first requested after its version is pruned
			}
			want, err := os.ReadFile(filepath.Join(version, filepath.FromSlash(name)))
			require.NoError(t, err)
			resp, body := do(t, "GET", base+f.URL)
			assert.Equalf(t, http.StatusOK, resp.StatusCode, "GET %s", f.URL)
			assert.Equalf(t, immutable, resp.Header.Get("Cache-Control"), "GET %s", f.URL)
			assert.Equalf(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "GET %s", f.URL)
			assert.Equalf(t, string(want), string(body), "GET %s", f.URL)

			u := base + prefix + escapePath(name)
			resp, body = do(t, "GET", u)
			assert.Equalf(t, http.StatusOK, resp.StatusCode, "GET %s", u)
			assert.Equalf(t, "no-cache", resp.Header.Get("Cache-Control"), "GET %s", u)
			assert.Equalf(t, string(want), string(body), "GET %s", u)
		}
	})

	site := base + m1.Files["css/site.css"].URL
	t.Run("HEAD, Range, conditional, precompressed", func(t *testing.T) {
		resp, body := do(t, "HEAD", site)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, immutable, resp.Header.Get("Cache-Control"))
		assert.Empty(t, body)

		resp, body = do(t, "GET", site+"?v=%2F/./..%2e%5C")
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the query is no part of the path checks")
		assert.Equal(t, "body { color: teal }\n", string(body))

		resp, body = do(t, "GET", site, "Range: bytes=0-3")
		assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
		assert.Equal(t, immutable, resp.Header.Get("Cache-Control"))
		assert.Equal(t, "body", string(body))

		resp, _ = do(t, "GET", site)
		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag)
		resp, _ = do(t, "GET", site, "If-None-Match: "+etag)
		assert.Equal(t, http.StatusNotModified, resp.StatusCode)
		assert.Equal(t, immutable, resp.Header.Get("Cache-Control"))

		resp, body = do(t, "GET", site, "Accept-Encoding: gzip, deflate, br")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		assert.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
		assert.Equal(t, immutable, resp.Header.Get("Cache-Control"))
		assert.Equal(t, gzipBytes(t, "body { color: teal }\n"), body)
	})

	t.Run("other methods", func(t *testing.T) {
		for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
			for _, u := range []string{site, base + prefix + "css/site.css", base + prefix + ".env"} {
				resp, _ := do(t, method, u)
				assert.Equalf(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", method, u)
				assert.Equalf(t, fs.allow, resp.Header.Values("Allow"), "%s %s", method, u)
				assert.NotContainsf(t, resp.Header.Get("Cache-Control"), "immutable", "%s %s", method, u)
			}
		}
	})

	t.Run("not found", func(t *testing.T) {
		for _, p := range []string{
			".env", "css/.hidden", s1 + "/.env", s1 + "/.stampfs-index", storeName + "/" + s1 + "/css/site.css",
			"css", "css/", s1, s1 + "/", s1 + "/css", s1 + "/css/", // directories
			s1 + "/css/alias.css", s1 + "/" + s1 + "/css/site.css",
			"0123456789ab/css/site.css", s1 + "/css/missing.css", // unknown stamp, missing file
			"css/site.css.gz/x", "css%2fsite.css", s1 + "/css%2Fsite.css", "css/..%2fcss/site.css",
			"css/%2e%2e/css/site.css", "css%5csite.css", `odd/back%5Cslash.css`, s1 + "/%2e%2e/" + s1 + "/css/site.css",
		} {
			checkNotFound(t, base+prefix+p)
		}
		for _, p := range []string{"vendor/site.css", "css/alias.css", "out/passwd", "passwd", "v1/css/site.css", "0123456789ab/passwd"} {
			checkNotFound(t, base+prefix+p)
		}
		checkRefused(t, base+prefix+"css/lib/app.js", fs.linkStatus)
	})

	// The live tree changes in place, as a build rewrites it (its
	// precompressed sibling too); the stamp's bytes do not.
	writeFile(t, filepath.Join(dir, "css", "site.css"), []byte("body { color: navy }\n"))
	writeFile(t, filepath.Join(dir, "css", "site.css.gz"), gzipBytes(t, "body { color: navy }\n"))
	checkGet(t, site, 200, immutable, "body { color: teal }\n")
	checkGet(t, base+prefix+"css/site.css", 200, "no-cache", "body { color: navy }\n")

	// A new version: both stamps are served, each with its own bytes.
	m2 := publishVersion(t, dir)
	require.NotEqual(t, s1, m2.Stamp)
	checkGet(t, base+m2.Files["css/site.css"].URL, 200, immutable, "body { color: navy }\n")
	checkGet(t, site, 200, immutable, "body { color: teal }\n")

	// Pruned: its URLs are a 404 (js/late.js was never requested, so no
	// server cache holds it).
	pruneOthers(t, dir)
	checkNotFound(t, base+m1.Files["js/late.js"].URL)

	// A deploy switches current to release 2 and publishes its stamp:
	// served with no reload.
	release2 := filepath.Join(root, "srv", "releases", "2", "static")
	writeTree(t, release2, map[string]string{"css/site.css": "body { color: olive }\n"})
	m3 := publishVersion(t, release2)
	tmp := filepath.Join(root, "srv", ".current.tmp")
	require.NoError(t, os.Symlink("releases/2", tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(root, "srv", "current")))
	checkGet(t, base+m3.Files["css/site.css"].URL, 200, immutable, "body { color: olive }\n")
	checkGet(t, base+prefix+"css/site.css", 200, "no-cache", "body { color: olive }\n")
}
