package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestApache serves a release directory with a real Apache 2.4 from the
// distribution's packages and exactly the directives "stampfs apache"
// prints.
func TestApache(t *testing.T) {
	testFrontPolicy(t, apacheFront(t))
}

// apacheFront is Apache with the directives of "stampfs apache".
func apacheFront(t *testing.T) frontServer {
	apache := findProgram(t, "apache2", "/usr/sbin/apache2")
	modules := "/usr/lib/apache2/modules"
	if _, err := os.Stat(filepath.Join(modules, "mod_rewrite.so")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no %s/mod_rewrite.so: %v; CI=true must run this test", modules, err)
		}
		t.Skipf("no %s/mod_rewrite.so (Debian's apache2 package): %v", modules, err)
	}
	bin := stampfsBin(t)
	return frontServer{name: "apache", allow: []string{"GET, HEAD", "TRACE"}, linkStatus: 403, start: func(t *testing.T, root, dir, prefix string) string {
		block := runStampfs(t, bin, "apache", "-prefix", prefix, dir)
		return startApache(t, apache, modules, root, block)
	}}
}

// startApache runs Apache in the foreground on a free port of 127.0.0.1
// with its own minimal configuration, pid file and logs under root, the
// directives in block inside its one <VirtualHost>, and returns its base
// URL.
func startApache(t *testing.T, apache, modules, root, block string) string {
	t.Helper()
	prefix := filepath.Join(root, "apache")
	require.NoError(t, os.MkdirAll(prefix, 0o755))
	addr := freeAddr(t)
	user := ""
	if os.Geteuid() == 0 {
		// Apache refuses to serve as root; its children run as nobody,
		// who must reach the test's temporary directories.
		user = "User #65534\nGroup #65534"
		for d := root; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
			if d == os.TempDir() {
				break
			}
			require.NoError(t, os.Chmod(d, 0o755))
		}
	}
	types := filepath.Join(prefix, "mime.types")
	require.NoError(t, os.WriteFile(types, []byte("text/css css\ntext/javascript js\napplication/gzip gz\n"), 0o644))
	var loads []string
	for _, m := range []string{"mpm_event", "authz_core", "mime", "rewrite", "headers", "dir"} {
		loads = append(loads, fmt.Sprintf("LoadModule %s_module %s/mod_%s.so", m, modules, m))
	}
	conf := fmt.Sprintf(`ServerRoot %[1]s
ServerName localhost
DefaultRuntimeDir %[1]s
PidFile %[1]s/httpd.pid
ErrorLog %[1]s/error.log
LogLevel warn
Listen %[2]s
%[3]s
%[4]s
TypesConfig %[5]s
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<VirtualHost %[2]s>
%[6]s
</VirtualHost>
`, prefix, addr, strings.Join(loads, "\n"), user, types, block)
	confPath := filepath.Join(prefix, "httpd.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))

	out, err := exec.Command(apache, "-t", "-f", confPath).CombinedOutput()
	require.NoErrorf(t, err, "apache2 -t:\n%s\nconfiguration:\n%s", out, conf)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			t.Logf("apache error.log:\n%s", log)
		}
	})
	cmd := exec.Command(apache, "-f", confPath, "-DFOREGROUND")
	return startServer(t, cmd, addr, syscall.SIGTERM)
}
