package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dial opens a TCP connection to the server at base ("http://host:port")
// whose reads give up after 5 s, so a server that holds it fails the test
// rather than hanging it.
func dial(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	return c
}

// roundTrip sends raw on c and reads one response, body included.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, raw string) (*http.Response, string) {
	t.Helper()
	_, err := io.WriteString(c, raw)
	require.NoError(t, err)
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// assertClosed checks that the server closes c (a read sees EOF) before the
// read deadline of dial.
func assertClosed(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	_, err := io.ReadAll(br)
	assert.NoError(t, err, "the server held the connection")
}

// TestServePathsUnderPrefix sends paths that net/http's ServeMux would clean,
// redirect or answer itself: the stampfs handler or the command answers
// each, with a 404 that is no-store, and nothing is a redirect.
func TestServePathsUnderPrefix(t *testing.T) {
	dir := writeFiles(t, map[string]string{"css/a.css": "a{}", ".env": "secret"})
	base, _ := startServe(t, "-mode", "virtual", "-stale", "notfound", dir)
	stamp := stampOf(t, "content", dir)
	for _, target := range []string{
		"/static%2f.env", "/static/%2e%2e/.env", "/static/" + stamp + "%2fcss/a.css", "/static/../static/css/a.css",
		"/static//css/a.css", "//static/css/a.css", "/STATIC/css/a.css", "/static", "/static/css/../css/a.css",
		"/static/./css/a.css", "/a/../static/css/a.css", "/nope", "/static/", "/static/css/", "/index.html",
	} {
		t.Run(target, func(t *testing.T) {
			c := dial(t, base)
			resp, body := roundTrip(t, c, bufio.NewReader(c), "GET "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
			assert.Equal(t, 404, resp.StatusCode)
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "404 page not found\n", body)
		})
	}
	// The sound spellings are served.
	c := dial(t, base)
	br := bufio.NewReader(c)
	resp, body := roundTrip(t, c, br, "GET /static/"+stamp+"/css/a.css HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "a{}", body)
	resp, _ = roundTrip(t, c, br, "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

// testLimits are small enough for a test to outlast.
var testLimits = limits{header: 200 * time.Millisecond, body: 200 * time.Millisecond, idle: 200 * time.Millisecond, stall: 300 * time.Millisecond}

func TestServeIdleConnectionClosed(t *testing.T) {
	base, _ := startServeWith(t, testLimits, nil)
	c := dial(t, base)
	br := bufio.NewReader(c)
	resp, _ := roundTrip(t, c, br, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.False(t, resp.Close, "kept alive")
	start := time.Now()
	assertClosed(t, c, br)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestServeSlowHeadersCutOff(t *testing.T) {
	base, _ := startServeWith(t, testLimits, nil)
	c := dial(t, base)
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	require.NoError(t, err)
	assertClosed(t, c, bufio.NewReader(c))
}

// TestServeSlowBodyCutOff: a client that announces a body and stops
// sending it is cut off; net/http would otherwise wait for the body to
// reuse the connection.
func TestServeSlowBodyCutOff(t *testing.T) {
	base, _ := startServeWith(t, testLimits, nil)
	for _, target := range []string{"/static/css/site.css", "/", "/nope"} {
		c := dial(t, base)
		br := bufio.NewReader(c)
		_, err := io.WriteString(c, "POST "+target+" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err, target)
		assert.True(t, resp.StatusCode == 405 || resp.StatusCode == 404, target)
		assert.True(t, resp.Close, "%s: the connection is closed after the answer", target)
		assertClosed(t, c, br)
	}
}

// bigDir is a directory holding big.bin, size bytes the handler streams.
func bigDir(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), bytes.Repeat([]byte("0123456789abcdef"), size/16), 0o644))
	return dir
}

// slowServer serves a 2 MiB file with small socket buffers, so that a
// client's pace is the server's.
func slowServer(t *testing.T) (base, target string) {
	t.Helper()
	dir := bigDir(t, 2<<20)
	lim := testLimits
	lim.sndbuf = 16 << 10
	base, _ = startServeWith(t, lim, nil, "-q", "-mode", "virtual", dir)
	return base, "/static/" + stampOf(t, "content", dir) + "/big.bin"
}

func smallReadBuffer(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.(*net.TCPConn).SetReadBuffer(16<<10))
}

// TestServeStoppedReaderCutOff: a client that stops reading the response is
// cut off once the server's writes stop moving.
func TestServeStoppedReaderCutOff(t *testing.T) {
	base, target := slowServer(t)
	c := dial(t, base)
	smallReadBuffer(t, c)
	br := bufio.NewReader(c)
	_, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	time.Sleep(time.Second) // more than three stalls
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	got, err := io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the server gave up on the response")
	assert.Less(t, len(got), 2<<20)
}

// TestServeSlowReaderServed: a client that reads slowly but steadily gets
// the whole file, though it takes several times the stall limit.
func TestServeSlowReaderServed(t *testing.T) {
	base, target := slowServer(t)
	c := dial(t, base)
	smallReadBuffer(t, c)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	br := bufio.NewReaderSize(c, 16<<10)
	start := time.Now()
	_, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	var n int
	buf := make([]byte, 32<<10)
	for {
		m, err := io.ReadFull(resp.Body, buf)
		n += m
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond) // at most 3.2 MB/s
	}
	assert.Equal(t, 2<<20, n)
	assert.Greater(t, time.Since(start), 2*testLimits.stall, "the download outlasted the stall limit")
}

// TestServeShedsIdleConnections: past the high-water mark of open
// connections, keep-alives are turned off and idle connections closed, so
// the new client is answered; once the count is low again, keep-alives
// come back.
func TestServeShedsIdleConnections(t *testing.T) {
	lim := defaultLimits
	lim.highWater = 3
	idled := make(chan struct{}, 100)
	lim.connState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateIdle {
			select {
			case idled <- struct{}{}:
			default: // later clients
			}
		}
	}
	base, _ := startServeWith(t, lim, nil)
	type client struct {
		c  net.Conn
		br *bufio.Reader
	}
	var idle []client
	for range 3 {
		c := dial(t, base)
		br := bufio.NewReader(c)
		resp, _ := roundTrip(t, c, br, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
		require.False(t, resp.Close)
		idle = append(idle, client{c, br})
		<-idled // the server sees it idle, not only the client
	}
	c := dial(t, base)
	resp, body := roundTrip(t, c, bufio.NewReader(c), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "404 page not found\n", body)
	for _, cl := range idle {
		assertClosed(t, cl.c, cl.br)
	}
	assert.Eventually(t, func() bool {
		c := dial(t, base)
		defer c.Close()
		resp, _ := roundTrip(t, c, bufio.NewReader(c), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
		return !resp.Close
	}, 5*time.Second, 20*time.Millisecond, "keep-alives come back")
}

func TestServeAccessLog(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "a{}"})
	stamp := stampOf(t, "content", dir)
	tests := []struct {
		flag string
		want string // a regular expression for the line of GET a.css
	}{
		{"-access-log", `(?m)^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /static/` + stamp + `/a\.css HTTP/1\.1" 200 3$`},
		{"-access-log=common", `(?m)^127\.0\.0\.1 - - \[[^]]+\] "HEAD /nope HTTP/1\.1" 404 -$`},
		{"-access-log=slog", `(?m)^time=\S+ level=INFO msg="stampfs: request" remote=127\.0\.0\.1 method=GET uri=/static/` + stamp + `/a\.css proto=HTTP/1\.1 status=200 bytes=3 took=\S+$`},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			base, stderr := startServe(t, "-q", tt.flag, "-mode", "virtual", dir)
			get(t, base+"/static/"+stamp+"/a.css")
			request(t, "HEAD", base+"/nope")
			assert.Regexp(t, regexp.MustCompile(tt.want), stderr.String())
		})
	}
	base, stderr := startServe(t, "-q", "-mode", "virtual", dir)
	get(t, base+"/static/"+stamp+"/a.css")
	assert.Empty(t, stderr.String(), fmt.Sprintf("off by default, and -q leaves no info line: %q", stderr.String()))
}
