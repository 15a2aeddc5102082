package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApache(t *testing.T) {
	dir := storeDir(t)
	for _, prefix := range []string{"/static/", "/app/v-1/static/", "/"} {
		t.Run(prefix, func(t *testing.T) {
			status, stdout, stderr := runCmd("apache", "-prefix", prefix, dir)

			require.Equal(t, exitOK, status, stderr)
			assert.Empty(t, stderr)
			p := "^" + regexp.QuoteMeta(prefix)
			lines := strings.Split(stdout, "\n")
			for _, line := range []string{
				"RewriteEngine On",
				`RewriteRule "` + p + `" - [R=405,L]`,
				`RewriteCond "` + dir + `/.stampfs/$1/$2" -f`,
				`RewriteRule "` + p + `([0-9A-Za-z_-][0-9A-Za-z._-]{0,63})/(.+)$" "` + dir + `/.stampfs/$1/$2?" [L,QSL,UnsafeAllow3F,E=STAMPFS_STAMPED:1]`,
				`RewriteRule "` + p + `(.*)$" "` + dir + `/$1?" [L,QSL,UnsafeAllow3F]`,
				`<Directory "` + dir + `">`,
				"    Options None",
				`Header set Cache-Control "public, max-age=31536000, immutable" "expr=-n reqenv('STAMPFS_STAMPED') && %{REQUEST_URI} =~ m#` + p + `#"`,
				`Header always set Cache-Control "no-store" "expr=%{REQUEST_STATUS} -ge 400 && %{REQUEST_URI} =~ m#` + p + `#"`,
			} {
				assert.Contains(t, lines, line)
			}
		})
	}
}

// TestApacheSyntax has Apache check the directives, three prefixes in one
// virtual host, with only the modules the README names. The e2e module
// serves through them.
func TestApacheSyntax(t *testing.T) {
	apache, err := exec.LookPath("apache2")
	if err != nil {
		apache = "/usr/sbin/apache2"
	}
	modules := "/usr/lib/apache2/modules"
	if _, err := os.Stat(filepath.Join(modules, "mod_rewrite.so")); err != nil {
		t.Skip("Apache (Debian's apache2) not installed: the e2e module's TestApache needs it as well")
	}
	if _, err := os.Stat(apache); err != nil {
		t.Skip("apache2 not installed: the e2e module's TestApache needs it as well")
	}
	dir := storeDir(t)
	var blocks []string
	for _, prefix := range []string{"/static/", "/app/v-1/static/", "/"} {
		status, stdout, stderr := runCmd("apache", "-prefix", prefix, dir)
		require.Equal(t, exitOK, status, stderr)
		blocks = append(blocks, stdout)
	}
	prefix := t.TempDir()
	var loads []string
	for _, m := range []string{"mpm_event", "authz_core", "mime", "rewrite", "headers"} {
		loads = append(loads, fmt.Sprintf("LoadModule %s_module %s/mod_%s.so", m, modules, m))
	}
	conf := filepath.Join(prefix, "httpd.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"ServerRoot %[1]s\nServerName localhost\nDefaultRuntimeDir %[1]s\nPidFile %[1]s/httpd.pid\nErrorLog %[1]s/error.log\nTypesConfig /dev/null\nListen 127.0.0.1:8\n%[2]s\n<VirtualHost 127.0.0.1:8>\n%[3]s\n</VirtualHost>\n",
		prefix, strings.Join(loads, "\n"), strings.Join(blocks, "\n"))), 0o644))

	out, err := exec.Command(apache, "-t", "-f", conf).CombinedOutput()

	assert.NoErrorf(t, err, "apache2 -t: %s", out)
}
