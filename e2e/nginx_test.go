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

// TestNginx serves a directory with a real nginx and exactly the location
// blocks "stampfs nginx" prints, through links "stampfs link" makes.
func TestNginx(t *testing.T) {
	nginx := findProgram(t, "nginx", "/usr/sbin/nginx")
	stampfs := stampfsBin(t)
	root := t.TempDir()
	static := filepath.Join(root, "site", "static")
	require.NoError(t, os.MkdirAll(filepath.Join(static, "css"), 0o755))
	site := filepath.Join(static, "css", "site.css")
	require.NoError(t, os.WriteFile(site, []byte("body { color: teal }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(static, ".env"), []byte("SECRET=1\n"), 0o644))
	require.NoError(t, os.Symlink("css", filepath.Join(static, "vendor")))                // a link, but not a stamp link
	require.NoError(t, os.Symlink("site.css", filepath.Join(static, "css", "alias.css"))) // never served
	require.NoError(t, os.Symlink(root, filepath.Join(static, "out")))                    // nor this

	block := runStampfs(t, stampfs, "nginx", "-prefix", "/static/", static)
	base := startNginx(t, nginx, root, block)

	const immutable = "public, max-age=31536000, immutable"
	stamp1 := strings.TrimSpace(runStampfs(t, stampfs, "link", static))
	require.NotEmpty(t, stamp1)
	checkGet(t, base+"/static/"+stamp1+"/css/site.css", 200, immutable, "body { color: teal }\n")
	checkGet(t, base+"/static/css/site.css", 200, "no-cache", "body { color: teal }\n")
	checkGet(t, base+"/static/.env", 404, "no-store", "")
	checkGet(t, base+"/static/"+stamp1+"/.env", 404, "no-store", "")
	checkGet(t, base+"/static/"+stamp1+"/css/missing.css", 404, "no-store", "")
	checkGet(t, base+"/static/"+stamp1+"/"+stamp1+"/css/site.css", 404, "no-store", "")
	checkGet(t, base+"/static/css/", 404, "no-store", "")
	checkGet(t, base+"/static/vendor/site.css", 404, "no-store", "")
	checkGet(t, base+"/static/css/alias.css", 404, "no-store", "")
	checkGet(t, base+"/static/"+stamp1+"/css/alias.css", 404, "no-store", "")
	checkGet(t, base+"/static/out/site/static/css/site.css", 404, "no-store", "")
	checkGet(t, base+"/_stampfs/static/"+stamp1+"/css/site.css", 404, "no-store", "")

	// A change gives a new stamp; its URL serves the new bytes.
	require.NoError(t, os.WriteFile(site, []byte("body { color: navy }\n"), 0o644))
	stamp2 := strings.TrimSpace(runStampfs(t, stampfs, "link", static))
	require.NotEqual(t, stamp1, stamp2)
	checkGet(t, base+"/static/"+stamp2+"/css/site.css", 200, immutable, "body { color: navy }\n")
	checkGet(t, base+"/static/"+stamp1+"/css/site.css", 200, immutable, "body { color: navy }\n") // kept: younger than the grace period

	// Pruning with keep 0 and no grace period retires the old URL.
	assert.Equal(t, stamp2+"\n", runStampfs(t, stampfs, "link", "-keep", "0", "-grace", "0", static))
	checkGet(t, base+"/static/"+stamp1+"/css/site.css", 404, "no-store", "")
	checkGet(t, base+"/static/"+stamp2+"/css/site.css", 200, immutable, "body { color: navy }\n")
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
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    types { text/css css; }
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
