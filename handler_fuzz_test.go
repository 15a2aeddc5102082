package stampfs_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// FuzzHandler feeds hostile paths to a handler over a real directory that
// has a stamp link, dot files, and secrets beside it. Whatever the path, the
// handler answers 200 with the bytes of a counted file or the fixed 404, is
// immutable only under the current stamp, and never answers 5xx, panics, or
// sends a byte from outside or from a dot file.
func FuzzHandler(f *testing.F) {
	tmp := f.TempDir()
	dir := filepath.Join(tmp, "static")
	counted := map[string]string{
		"css/a.css":  "COUNTED-css",
		"js/app.js":  "COUNTED-js",
		"index.html": "COUNTED-html",
	}
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(f, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(f, os.WriteFile(p, []byte(body), 0o644))
	}
	for name, body := range counted {
		write(name, body)
	}
	write(".env", "LEAK-dotfile")
	write(".git/config", "LEAK-git")
	write("css/.secret.css", "LEAK-hidden")
	require.NoError(f, os.WriteFile(filepath.Join(tmp, "secret.txt"), []byte("LEAK-outside"), 0o644))
	require.NoError(f, os.WriteFile(filepath.Join(tmp, "static-evil"), []byte("LEAK-sibling"), 0o644))

	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeSymlink})
	require.NoError(f, err)
	s := h.Stamp()
	// A link out of the tree, made after the scan.
	require.NoError(f, os.Symlink(filepath.Join(tmp, "secret.txt"), filepath.Join(dir, "out.css")))

	for _, seed := range []string{
		s + "/css/a.css", "css/a.css", "../secret.txt", s + "/../secret.txt", "%2e%2e/secret.txt",
		s + "/%2e%2e/%2e%2e/secret.txt", "css%2f..%2f..%2fsecret.txt", "css%5c..%5c..%5csecret.txt",
		`css\..\..\secret.txt`, "css/a.css%00", "css/a.css\x00.png", "//css/a.css", s + "//css/a.css",
		strings.Repeat("a", 5000) + "/css/a.css", s + "/" + s + "/css/a.css", s + "/" + s + "/" + s + "/.env",
		".env", s + "/.env", s + "/.git/config", "css/.secret.css", "out.css", s + "/out.css",
		"../static-evil", "./css/a.css", s + "/./css/a.css", "css/./a.css", "%2Fetc%2Fpasswd", "/etc/passwd",
		s + "/css/", s, "", ".", "..", s + "/..%2fsecret.txt",
	} {
		f.Add(seed, "")
		f.Add(seed, "gzip, br")
	}
	f.Fuzz(func(t *testing.T, p, accept string) {
		check := func(r *http.Request) {
			if accept != "" {
				r.Header.Set("Accept-Encoding", accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r) // a panic fails the fuzz run
			body := w.Body.String()
			if w.Code >= 500 {
				t.Fatalf("%q: status %d", r.URL.Path, w.Code)
			}
			if strings.Contains(body, "LEAK") {
				t.Fatalf("%q: leaked %q", r.URL.Path, body)
			}
			if cc := w.Header().Get("Cache-Control"); cc == "public, max-age=31536000, immutable" && !strings.HasPrefix(r.URL.Path, "/static/"+s+"/") {
				t.Fatalf("%q: immutable outside the current stamp", r.URL.Path)
			}
			switch w.Code {
			case 200:
				found := false
				for _, c := range counted {
					found = found || body == c
				}
				if !found {
					t.Fatalf("%q: 200 with %q, not a counted file", r.URL.Path, body)
				}
			case 404:
				if body != "404 page not found\n" || w.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("%q: 404 with body %q, Cache-Control %q", r.URL.Path, body, w.Header().Get("Cache-Control"))
				}
			default:
				t.Fatalf("%q: unexpected status %d", r.URL.Path, w.Code)
			}
		}
		// As a decoded path, the way a router hands it over.
		check(&http.Request{Method: "GET", URL: &url.URL{Path: "/static/" + p}, Header: http.Header{}})
		// As a raw request target, escapes and all.
		if u, err := url.ParseRequestURI("/static/" + p); err == nil {
			check(&http.Request{Method: "GET", URL: u, Header: http.Header{}})
		}
	})
}
