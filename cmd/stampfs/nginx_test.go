package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/vfs"
)

func TestNginx(t *testing.T) {
	dir, err := filepath.EvalSymlinks(staticDir(t))
	require.NoError(t, err)
	tests := []struct {
		name     string
		args     []string
		prefix   string // as printed
		notFound string
	}{
		{"default prefix", nil, "/static/", "@stampfs_not_found_static"},
		{"prefix without trailing slash", []string{"-prefix", "/assets"}, "/assets/", "@stampfs_not_found_assets"},
		{"nested prefix", []string{"-prefix=/app/v-1/static/"}, "/app/v-1/static/", "@stampfs_not_found_app_v_1_static"},
		{"root prefix", []string{"-prefix", "/"}, "/", "@stampfs_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, stdout, stderr := runCmd(append(append([]string{"nginx"}, tt.args...), dir)...)

			require.Equal(t, exitOK, status, stderr)
			assert.Empty(t, stderr)
			for _, line := range []string{
				"location ^~ " + tt.prefix + " {",
				`    alias "` + dir + `/";`,
				"    disable_symlinks on;",
				`    add_header Cache-Control "no-cache";`,
				"    error_page 403 404 = /_stampfs$uri;",
				`    location ~ "/\.|/$" {`,
				"location ^~ /_stampfs" + tt.prefix + " {",
				`    location ~ "^/_stampfs` + tt.prefix + `([0-9A-Za-z_-][0-9A-Za-z._-]{0,63})/((?:[^./][^/]*/)*[^./][^/]*)$" {`,
				`        alias "` + dir + `/$1/$2";`,
				`        disable_symlinks on "from=` + dir + `/$1";`,
				`        if ($realpath_root != "` + dir + `/$2") {`,
				`        add_header Cache-Control "public, max-age=31536000, immutable";`,
				"        error_page 403 404 = " + tt.notFound + ";",
				`    add_header Cache-Control "no-store" always;`,
				"location " + tt.notFound + " {",
			} {
				assert.Contains(t, strings.Split(stdout, "\n"), line)
			}
			assert.Equal(t, 2, strings.Count(stdout, `add_header Cache-Control "no-store" always;`))
		})
	}
}

func TestNginxResolvesDir(t *testing.T) {
	dir, err := filepath.EvalSymlinks(staticDir(t))
	require.NoError(t, err)
	link := filepath.Join(t.TempDir(), "current")
	require.NoError(t, os.Symlink(dir, link))
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, link)
	require.NoError(t, err)

	status, stdout, stderr := runCmd("nginx", rel)

	require.Equal(t, exitOK, status, stderr)
	assert.Contains(t, stdout, `    alias "`+dir+`/";`, "a relative DIR and links in it are resolved, as $realpath_root is")
	assert.NotContains(t, stdout, link)
}

// TestStampPatternIsValidSegment holds the nginx regular expression to the
// stamp rule, so that nginx serves exactly the stamps link makes.
func TestStampPatternIsValidSegment(t *testing.T) {
	re := regexp.MustCompile("^" + stampPattern + "$")
	for _, s := range []string{
		"", ".", "..", ".git", "a", "0", "v1.2.3", "e3b0c44298fc", "-x", "_x", "a.", "a..b",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "a/b", `a\b`, "a b", "é", "a%2f", "a\n", "a\x00",
	} {
		assert.Equalf(t, vfs.ValidSegment(s), re.MatchString(s), "%q", s)
	}
}

func TestNginxDirNotADirectory(t *testing.T) {
	file := filepath.Join(staticDir(t), "css", "site.css")
	_, err := nginxDir(file)
	assert.ErrorIs(t, err, syscall.ENOTDIR)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, file, pe.Path)
}

func TestNginxErrors(t *testing.T) {
	dir := staticDir(t)
	odd := filepath.Join(t.TempDir(), "a$b")
	require.NoError(t, os.Mkdir(odd, 0o755))
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{"no DIR", nil, exitUsage, "want exactly one DIR, got 0 arguments"},
		{"two DIRs", []string{dir, dir}, exitUsage, "want exactly one DIR, got 2 arguments"},
		{"relative prefix", []string{"-prefix", "static/", dir}, exitUsage, `-prefix "static/": want a path starting with /`},
		{"dot dot in prefix", []string{"-prefix", "/a/../b/", dir}, exitUsage, `segment ".."`},
		{"hidden prefix", []string{"-prefix", "/.well-known/", dir}, exitUsage, `segment ".well-known"`},
		{"empty segment", []string{"-prefix", "//static/", dir}, exitUsage, `segment ""`},
		{"space in prefix", []string{"-prefix", "/my static/", dir}, exitUsage, `segment "my static"`},
		{"variable in prefix", []string{"-prefix", "/$host/", dir}, exitUsage, `segment "$host"`},
		{"missing DIR", []string{filepath.Join(dir, "missing")}, exitError, "no such file or directory"},
		{"DIR is a file", []string{filepath.Join(dir, "css", "site.css")}, exitError, "not a directory"},
		{"dollar in DIR", []string{odd}, exitError, "cannot go into an nginx configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, stdout, stderr := runCmd(append([]string{"nginx"}, tt.args...)...)

			assert.Equal(t, tt.wantStatus, status)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tt.wantErr)
		})
	}
}

// TestNginxSyntax has nginx check the blocks, two prefixes in one server.
// The e2e module serves through them.
func TestNginxSyntax(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
		if _, err := os.Stat(nginx); err != nil {
			t.Skip("nginx not installed: the e2e module's TestNginx needs it as well")
		}
	}
	dir := staticDir(t)
	var blocks []string
	for _, prefix := range []string{"/static/", "/", "/app/v-1/static/"} {
		status, stdout, stderr := runCmd("nginx", "-prefix", prefix, dir)
		require.Equal(t, exitOK, status, stderr)
		blocks = append(blocks, stdout)
	}
	prefix := t.TempDir()
	conf := filepath.Join(prefix, "nginx.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"pid %s/nginx.pid;\nevents {}\nhttp {\n server {\n listen 127.0.0.1:8;\n%s\n }\n}\n",
		prefix, strings.Join(blocks, "\n"))), 0o644))

	out, err := exec.Command(nginx, "-t", "-q", "-p", prefix, "-e", filepath.Join(prefix, "error.log"), "-c", conf).CombinedOutput()

	assert.NoErrorf(t, err, "nginx -t: %s", out)
}
