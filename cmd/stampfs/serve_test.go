package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
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
	return startServeWith(t, defaultLimits, nil, args...)
}

// startServeWith is startServe with the limits lim and SIGHUP arriving on hup.
func startServeWith(t *testing.T, lim limits, hup <-chan os.Signal, args ...string) (string, *syncBuffer) {
	t.Helper()
	addr := make(chan string, 1)
	listening = func(a string) { addr <- a }
	t.Cleanup(func() { listening = func(string) {} })
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	status := make(chan int, 1)
	go func() {
		status <- serve(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, stderr, hup, lim)
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

// TestServeSignal: kill -HUP rescans and serve goes on; SIGTERM ends it
// with status 0.
func TestServeSignal(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "a{}"})
	addr := make(chan string, 1)
	listening = func(a string) { addr <- a }
	defer func() { listening = func(string) {} }()
	status := make(chan int, 1)
	stderr := &syncBuffer{}
	go func() {
		status <- runServe([]string{"-addr", "127.0.0.1:0", "-mode", "virtual", dir}, io.Discard, stderr)
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.css"), []byte("b{}"), 0o644))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "reason=SIGHUP") }, 10*time.Second, 10*time.Millisecond)
	resp, body := get(t, base+"/")
	assert.Equal(t, 200, resp.StatusCode, "still serving after SIGHUP")
	assert.Contains(t, string(body), "/b.css")

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case got := <-status:
		assert.Equal(t, exitOK, got)
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not stop serve")
	}
}

// TestServeReload: a rescan on SIGHUP logs the old and new stamps, the files
// and the time, and the index shows the new URLs; a failed one logs the
// error and keeps the old stamp.
func TestServeReload(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "a{}"})
	hup := make(chan os.Signal)
	base, stderr := startServeWith(t, defaultLimits, hup, "-mode", "virtual", dir)
	old := stampOf(t, "content", dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.css"), []byte("b{}"), 0o644))
	stamp := stampOf(t, "content", dir)

	hup <- syscall.SIGHUP
	hup <- syscall.SIGHUP // the first has been handled once the second is taken
	assert.Regexp(t, `level=INFO msg="stampfs: rescanned" reason=SIGHUP old=`+old+` stamp=`+stamp+` files=2 took=\S+\n`, stderr.String())
	_, body := get(t, base+"/")
	assert.Contains(t, string(body), "/static/"+stamp+"/b.css\n")

	// The second rescan may still run: the directory goes once it is done.
	require.Eventually(t, func() bool { return strings.Count(stderr.String(), `msg="stampfs: rescanned"`) == 2 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, os.Rename(dir, dir+".gone"))
	hup <- syscall.SIGHUP
	hup <- syscall.SIGHUP
	assert.Contains(t, stderr.String(), `level=WARN msg="stampfs: rescan failed; serving the old stamp" reason=SIGHUP stamp=`+stamp+` took=`)
	assert.Contains(t, stderr.String(), "no such file or directory")
	_, body = get(t, base+"/")
	assert.Contains(t, string(body), "/static/"+stamp+"/b.css\n", "the old snapshot is served")
}

// stampOf is what `stampfs stamp -strategy strategy dir` prints.
func stampOf(t *testing.T, strategy, dir string) string {
	t.Helper()
	status, out, errOut := runCmd("stamp", "-strategy", strategy, dir)
	require.Equal(t, exitOK, status, errOut)
	return strings.TrimSpace(out)
}

// TestServeWatch: with -watch an edit shows on the next page load.
func TestServeWatch(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "a{}"})
	base, stderr := startServe(t, "-watch", "-mode", "virtual", dir)
	_, before := get(t, base+"/")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a{color:red}"), 0o644))
	want := stampOf(t, "content", dir)
	require.Eventually(t, func() bool {
		_, body := get(t, base+"/")
		return strings.Contains(string(body), "/static/"+want+"/a.css\n")
	}, 10*time.Second, 50*time.Millisecond, "before: %s", before)
	// The line follows the swap, after pruning.
	assert.Eventually(t, func() bool {
		return strings.Contains(stderr.String(), `msg="stampfs: rescanned" reason="files changed" old=`) &&
			strings.Contains(stderr.String(), " stamp="+want+" files=1 took=")
	}, 5*time.Second, 10*time.Millisecond, stderr)
}

// TestServeDemoRescan: the embedded demo, whose files have no times, can
// be watched and rescanned; nothing changes.
func TestServeDemoRescan(t *testing.T) {
	hup := make(chan os.Signal)
	base, stderr := startServeWith(t, defaultLimits, hup, "-watch")
	hup <- syscall.SIGHUP
	hup <- syscall.SIGHUP
	resp, page := get(t, base+"/")
	assert.Equal(t, 200, resp.StatusCode)
	m := regexp.MustCompile(`id="stamp">([0-9a-f]{12})<`).FindSubmatch(page)
	require.NotNil(t, m)
	assert.Contains(t, stderr.String(), "watch=true")
	assert.Contains(t, stderr.String(), `msg="stampfs: rescanned" reason=SIGHUP old=`+string(m[1])+` stamp=`+string(m[1])+` files=3 took=`)
	assert.NotContains(t, stderr.String(), "level=WARN")
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

// TestServeCurrent: with -current, serve takes the stamp from a published
// manifest: it serves that version from the store, renders the CDN's URLs
// with -base, and reads the manifest again on SIGHUP.
func TestServeCurrent(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "css"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "a.css"), []byte("a{}"), 0o644))
	status, stamp, stderr := runCmd("link", "-q", dir)
	require.Equal(t, exitOK, status, stderr)
	stamp = strings.TrimSpace(stamp)
	current := filepath.Join(t.TempDir(), "current.json")
	require.NoError(t, os.WriteFile(current, []byte(`{"version":1,"stamp":"`+stamp+`","strategy":"content","prefix":"/static/","files":{"css/a.css":{"url":"x","size":3,"sha256":"`+sha256hex("a{}")+`","integrity":"sha384-x","type":"text/css; charset=utf-8","encodings":[]}}}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "a.css"), []byte("b{}"), 0o644)) // the live tree moved on; the bucket did not

	hup := make(chan os.Signal, 1)
	base, _ := startServeWith(t, defaultLimits, hup, "-current", current, "-base", "https://cdn.example", dir)
	resp, body := get(t, base+"/static/"+stamp+"/css/a.css")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "a{}", string(body), "the version the manifest names")
	_, body = get(t, base+"/")
	assert.Contains(t, string(body), "https://cdn.example/static/"+stamp+"/css/a.css")

	require.NoError(t, os.WriteFile(current, []byte(`{"version":1,"stamp":"v9","strategy":"fixed","prefix":"/static/","files":{"css/a.css":{"size":3,"sha256":"`+sha256hex("c{}")+`"}}}`), 0o644))
	hup <- syscall.SIGHUP
	require.Eventually(t, func() bool {
		_, body := get(t, base+"/")
		return strings.Contains(string(body), "https://cdn.example/static/v9/css/a.css")
	}, 10*time.Second, 20*time.Millisecond)
	resp, _ = get(t, base+"/static/v9/css/a.css")
	assert.Equal(t, 404, resp.StatusCode, "bytes this server does not hold")
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
