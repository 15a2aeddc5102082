package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"html"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer the server's logger and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `stampfs serve args` on a free loopback port until the test
// ends, and returns its base URL and its stderr.
func startServe(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	addr := make(chan string, 1)
	listening = func(a string) { addr <- a }
	t.Cleanup(func() { listening = func(string) {} })
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	status := make(chan int, 1)
	go func() {
		status <- serve(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, stderr, nil, defaultLimits)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case got := <-status:
			assert.Equal(t, exitOK, got, "exit status after shutdown")
		case <-time.After(10 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, stderr
	case got := <-status:
		t.Fatalf("serve exited with %d: %s", got, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return request(t, "GET", url, header...)
}

func request(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func sri(b []byte) string {
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestServeDemo(t *testing.T) {
	base, stderr := startServe(t)
	resp, page := get(t, base+"/")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	m := regexp.MustCompile(`id="stamp">([0-9a-f]{12})<`).FindSubmatch(page)
	require.NotNil(t, m, "the page shows the stamp")
	stamp := string(m[1])
	assert.Contains(t, stderr.String(), "stamp="+stamp)
	assert.Contains(t, stderr.String(), "mode=virtual")

	// Every stamped asset the page links with SRI is served immutable, and
	// its integrity attribute matches the bytes.
	tags := regexp.MustCompile(`(?:href|src)="(/static/`+stamp+`/[^"]+)" integrity="([^"]+)"`).FindAllSubmatch(page, -1)
	require.Len(t, tags, 2, "stylesheet and script carry SRI")
	for _, tag := range tags {
		resp, body := get(t, base+string(tag[1]))
		assert.Equal(t, 200, resp.StatusCode, string(tag[1]))
		assert.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		// html/template writes + as &#43; in attributes; the browser decodes it.
		assert.Equal(t, sri(body), html.UnescapeString(string(tag[2])), "SRI of %s", tag[1])
	}
	assert.Contains(t, string(page), "curl -sI "+base+"/static/"+stamp+"/css/site.css")

	resp, _ = get(t, base+"/static/css/site.css")
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	resp, _ = get(t, base+"/static/"+stamp+"/nope.css")
	assert.Equal(t, 404, resp.StatusCode)
	resp, _ = get(t, base+"/nope")
	assert.Equal(t, 404, resp.StatusCode)
	assertNotAllowed(t, base+"/")
}

// assertNotAllowed checks that POST url is refused as the handler refuses it.
func assertNotAllowed(t *testing.T, url string) {
	t.Helper()
	resp, body := request(t, "POST", url)
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	assert.Equal(t, "405 method not allowed\n", string(body))
}

// TestDemoFiles: the demo's precompressed stylesheet is the stylesheet, and
// its script marks the page so a browser test can see that SRI passed.
func TestDemoFiles(t *testing.T) {
	css, err := fs.ReadFile(demo, "demo/static/css/site.css")
	require.NoError(t, err)
	gz, err := demo.Open("demo/static/css/site.css.gz")
	require.NoError(t, err)
	zr, err := gzip.NewReader(gz)
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, string(css), string(unzipped), "site.css.gz is stale: run gzip -9 -n -k -f cmd/stampfs/demo/static/css/site.css")

	js, err := fs.ReadFile(demo, "demo/static/js/app.js")
	require.NoError(t, err)
	assert.Contains(t, string(js), `document.body.dataset.stampfs = "ok"`)
}

func TestServeDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "css"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "a.css"), []byte("a{}"), 0o644))
	base, stderr := startServe(t, "-prefix", "/assets/", "-stale", "redirect", "-strategy", "fixed=v7", dir)

	resp, body := get(t, base+"/assets/v7/css/a.css")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "a{}", string(body))
	assert.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))

	resp, _ = get(t, base+"/assets/v6/css/a.css")
	assert.Equal(t, 302, resp.StatusCode)
	assert.Equal(t, "/assets/v7/css/a.css", resp.Header.Get("Location"))

	resp, body = get(t, base+"/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), "/assets/v7/css/a.css")
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assertNotAllowed(t, base+"/")

	target, err := os.Readlink(filepath.Join(dir, "v7"))
	require.NoError(t, err, "auto mode made the stamp link")
	assert.Equal(t, ".stampfs/v7", target)
	assert.Contains(t, stderr.String(), "mode=symlink")
}

func TestServeSignal(t *testing.T) {
	addr := make(chan string, 1)
	listening = func(a string) { addr <- a }
	defer func() { listening = func(string) {} }()
	status := make(chan int, 1)
	go func() { status <- runServe([]string{"-addr", "127.0.0.1:0"}, io.Discard, io.Discard) }()
	select {
	case <-addr:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case got := <-status:
		assert.Equal(t, exitOK, got)
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not stop serve")
	}
}

func TestServeErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("file", nil, 0o644))
	tests := []struct {
		name   string
		args   []string
		status int
		msg    string // the first line of stderr, after "stampfs serve: "
	}{
		{"bad mode", []string{"-mode", "hard"}, exitUsage, `unknown mode "hard": want auto, symlink or virtual`},
		{"bad stale", []string{"-stale", "ignore"}, exitUsage, `unknown stale policy "ignore": want serve, notfound or redirect`},
		{"bad prefix", []string{"-prefix", "static"}, exitUsage, `-prefix "static": want a path that starts and ends with /`},
		{"bad strategy", []string{"-strategy", "sha1"}, exitUsage, `unknown strategy "sha1": want content, mtime, git or fixed=VALUE`},
		{"bad access log", []string{"-access-log=json"}, exitUsage, `invalid boolean value "json" for -access-log: want common, slog or off`},
		{"two dirs", []string{"a", "b"}, exitUsage, "want at most one DIR, got 2 arguments"},
		{"symlink demo", []string{"-mode", "symlink"}, exitUsage, "-mode symlink needs a DIR: the demo site is embedded and served virtually"},
		{"unknown flag", []string{"-port", "1"}, exitUsage, "flag provided but not defined: -port"},
		{"unknown flag after DIR", []string{".", "-port", "1"}, exitUsage, "flag provided but not defined: -port"},
		{"missing dir", []string{"nope"}, exitError, "stat nope: no such file or directory"},
		{"file as dir", []string{"file"}, exitError, "stat file: not a directory"},
		{"bad address", []string{"-q", "-addr", "127.0.0.1:99999"}, exitError, "listen tcp: address 99999: invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a server that did start stops at once
			got := serve(ctx, tt.args, io.Discard, &stderr, nil, defaultLimits)
			assert.Equal(t, tt.status, got)
			first, rest, _ := strings.Cut(stderr.String(), "\n")
			assert.Equal(t, "stampfs serve: "+tt.msg, first)
			if tt.status == exitUsage {
				assert.True(t, strings.HasPrefix(rest, "usage: stampfs serve [-q] "), rest)
			} else {
				assert.Empty(t, rest)
			}
		})
	}
}
