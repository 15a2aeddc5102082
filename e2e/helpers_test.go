package e2e_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMain runs the tests, then removes the directories that the builds of
// the commands went into.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*binBuild{&build, &publishBuild} {
		if b.dir != "" {
			_ = os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// binBuild is the one build of a command per test binary.
type binBuild struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	out  []byte
	err  error
}

// get builds pkg into a directory of its own as name, once, and returns
// its path.
func (b *binBuild) get(t *testing.T, pkg, name string) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "stampfs-e2e-bin-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, pkg)
		b.out, b.err = cmd.CombinedOutput()
	})
	require.NoError(t, b.err, "go build %s:\n%s", pkg, b.out)
	return b.path
}

// build is the stampfs command's, publishBuild stampfs-publish's.
var build, publishBuild binBuild

// stampfsBin builds the stampfs command of this checkout once per test binary
// and returns its path.
func stampfsBin(t *testing.T) string {
	t.Helper()
	return build.get(t, "github.com/stampfs/stampfs/cmd/stampfs", "stampfs")
}

// findProgram returns the path of the program name, looked up in PATH and
// then at the paths in other (nginx lives in /usr/sbin, which a user's PATH
// may lack). Without one it fails the test on CI (CI=true), which must install
// it, and skips it elsewhere.
func findProgram(t *testing.T, name string, other ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range other {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	where := strings.Join(append([]string{"PATH"}, other...), " or ")
	msg := fmt.Sprintf("%s not found in %s: install it (apt-get install -y %s)", name, where, name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true must run this test")
	}
	t.Skip(msg + " to run this test")
	return ""
}

// freeAddr returns an address of 127.0.0.1 whose port nothing listened on a
// moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startServer starts cmd, a server that listens on addr until it receives
// stop, and returns "http://"+addr once addr accepts connections. It fails
// the test when the server exits first or does not listen within 20 s.
//
// The server's output goes to a file, not a pipe: a server's children
// (nginx's workers) would keep a pipe open after it is gone. When the test
// ends, startServer sends stop and requires a clean exit within 10 s (then it
// kills the server), and logs the output if the test failed.
func startServer(t *testing.T, cmd *exec.Cmd, addr string, stop os.Signal) string {
	t.Helper()
	name := filepath.Base(cmd.Path)
	outPath := filepath.Join(t.TempDir(), name+".log")
	out, err := os.Create(outPath)
	require.NoError(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(stop)
		select {
		case err := <-exited:
			if err != nil && !t.Failed() {
				t.Errorf("%s exited with %v after %v", name, err, stop)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not exit within 10 s of %v; killing it", name, stop)
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(outPath)
			t.Logf("%s output:\n%s", name, log)
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 20 s: %v", name, addr, err)
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("%s exited before it listened on %s: %v", name, addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// client is the HTTP client of the tests: a server that stops answering
// fails the test rather than hanging it.
var client = &http.Client{Timeout: 30 * time.Second}

// get fetches url and returns the response with its body read and closed.
func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %s: body", url)
	return resp, body
}
