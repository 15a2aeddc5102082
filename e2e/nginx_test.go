package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNginx serves a release directory with a real nginx and exactly the
// location blocks "stampfs nginx" prints.
func TestNginx(t *testing.T) {
	testFrontPolicy(t, nginxFront(t))
}

// nginxFront is nginx with the blocks of "stampfs nginx".
func nginxFront(t *testing.T) frontServer {
	nginx := findProgram(t, "nginx", "/usr/sbin/nginx")
	bin := stampfsBin(t)
	return frontServer{name: "nginx", allow: []string{"GET, HEAD"}, linkStatus: 404, start: func(t *testing.T, root, dir, prefix string) string {
		block := runStampfs(t, bin, "nginx", "-prefix", prefix, dir)
		return startNginx(t, nginx, root, block)
	}}
}

// runStampfs runs the stampfs command, requires success and returns stdout.
func runStampfs(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoErrorf(t, err, "stampfs %s: %s", strings.Join(args, " "), stderr.String())
	return string(out)
}

// startNginx runs nginx in the foreground on a free port of 127.0.0.1 with
// its own prefix, configuration, pid file and logs under root, serving the
// location blocks in block, and returns its base URL.
func startNginx(t *testing.T, nginx, root, block string) string {
	t.Helper()
	prefix := filepath.Join(root, "nginx")
	require.NoError(t, os.MkdirAll(prefix, 0o755))
	addr := freeAddr(t)

	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers would run as nobody and not reach the temporary directory
	}
	conf := fmt.Sprintf(`%[1]s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 64; }
http {
    log_format stampfs_e2e '$status $request_uri';
    access_log %[2]s/access.log stampfs_e2e;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    types { text/css css; application/javascript js; text/html html; }
    default_type application/octet-stream;
    server {
        listen %[3]s;
%[4]s
    }
}
`, user, prefix, addr, block)
	confPath := filepath.Join(prefix, "nginx.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))
	errorLog := filepath.Join(prefix, "error.log")

	out, err := exec.Command(nginx, "-t", "-p", prefix, "-e", errorLog, "-c", confPath).CombinedOutput()
	require.NoErrorf(t, err, "nginx -t:\n%s\nconfiguration:\n%s", out, conf)

	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(errorLog)
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	// SIGQUIT: the master stops its workers, then exits.
	cmd := exec.Command(nginx, "-p", prefix, "-e", errorLog, "-c", confPath, "-g", "daemon off;")
	return startServer(t, cmd, addr, syscall.SIGQUIT)
}

// checkGet requests url and checks the status, the Cache-Control header and,
// for a 200, the body.
func checkGet(t *testing.T, url string, status int, cacheControl, body string) {
	t.Helper()
	resp, got := get(t, url)
	assert.Equalf(t, status, resp.StatusCode, "GET %s", url)
	assert.Equalf(t, []string{cacheControl}, resp.Header.Values("Cache-Control"), "GET %s: Cache-Control", url)
	if status == http.StatusOK {
		assert.Equalf(t, body, string(got), "GET %s: body", url)
	}
}
