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

// storeDir returns staticDir with an (empty) version store, as link leaves
// it.
func storeDir(t *testing.T) string {
	t.Helper()
	dir := staticDir(t)
	require.NoError(t, os.Mkdir(filepath.Join(dir, storeName), 0o755))
	return dir
}

func TestNginx(t *testing.T) {
	dir := storeDir(t)
	tests := []struct {
		name   string
		args   []string
		prefix string // as printed
		suffix string // of the named locations
	}{
		{"default prefix", nil, "/static/", "_static"},
		{"nested prefix", []string{"-prefix=/app/v-1/static/"}, "/app/v-1/static/", "_app_v_1_static"},
		{"root prefix", []string{"-prefix", "/"}, "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, stdout, stderr := runCmd(append(append([]string{"nginx"}, tt.args...), dir)...)

			require.Equal(t, exitOK, status, stderr)
			assert.Empty(t, stderr)
			lines := strings.Split(stdout, "\n")
			for _, line := range []string{
				"location ^~ " + tt.prefix + " {",
				`    alias "` + dir + `/";`,
				`    disable_symlinks on "from=` + dir + `";`,
				"    gzip_static on;",
				"    error_page 403 404 = @stampfs_404" + tt.suffix + ";",
				`    add_header Cache-Control "no-cache";`,
				`    add_header X-Content-Type-Options "nosniff" always;`,
				`        add_header Allow "GET, HEAD" always;`,
				`    location ~ "/\.|\\\\|/$" {`,
				`    location ~ "^` + regexp.QuoteMeta(tt.prefix) + `(?<stampfs_rest>(?<stampfs_stamp>[0-9A-Za-z_-][0-9A-Za-z._-]{0,63})/(?<stampfs_name>.+))$" {`,
				`        alias "` + dir + `/.stampfs/$stampfs_stamp/$stampfs_name";`,
				"        error_page 403 404 = @stampfs_live" + tt.suffix + ";",
				`        add_header Cache-Control "public, max-age=31536000, immutable";`,
				"location @stampfs_live" + tt.suffix + " {",
				`    root "` + dir + `";`,
				"location @stampfs_404" + tt.suffix + " {",
				`    add_header Cache-Control "no-store" always;`,
			} {
				assert.Contains(t, lines, line)
			}
			assert.Equal(t, 4, strings.Count(stdout, "return 405;"), "the prefix, dot, live and 405 locations; a version's file is refused by nginx itself")
			assert.Contains(t, lines, "        error_page 405 = @stampfs_405"+tt.suffix+";")
			assert.Equal(t, 2, strings.Count(stdout, `disable_symlinks on "from=`+dir+`";`), "every location that opens files")
			assert.NotContains(t, stdout, "brotli_static")
		})
	}
}

func TestNginxBrotli(t *testing.T) {
	status, stdout, stderr := runCmd("nginx", "-brotli", storeDir(t))

	require.Equal(t, exitOK, status, stderr)
	assert.Equal(t, 2, strings.Count(stdout, "\n    brotli_static on;\n"), "beside each gzip_static")
	assert.Equal(t, 2, strings.Count(stdout, "\n    gzip_static on;\n"))
}

// TestNginxKeepsDirLinks: DIR is printed as given (made absolute), links
// and all, so that nginx follows a "current -> releases/N" switch without
// a reload.
func TestNginxKeepsDirLinks(t *testing.T) {
	dir := storeDir(t)
	link := filepath.Join(t.TempDir(), "current")
	require.NoError(t, os.Symlink(dir, link))
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, link)
	require.NoError(t, err)

	status, stdout, stderr := runCmd("nginx", rel)

	require.Equal(t, exitOK, status, stderr)
	assert.Contains(t, stdout, `    alias "`+link+`/";`)
	assert.Contains(t, stdout, `    disable_symlinks on "from=`+link+`";`)
	assert.Contains(t, stdout, `        alias "`+link+`/.stampfs/$stampfs_stamp/$stampfs_name";`)
}

// TestFrontNoStoreYet: nginx and apache print the configuration (it works
// once link has run, without a reload), with a note on stderr.
func TestFrontNoStoreYet(t *testing.T) {
	dir := staticDir(t)
	for cmd, line := range map[string]string{"nginx": "location ^~ /static/ {", "apache": "RewriteEngine On"} {
		status, stdout, stderr := runCmd(cmd, dir)

		require.Equal(t, exitOK, status, stderr)
		assert.Contains(t, strings.Split(stdout, "\n"), line)
		assert.Equal(t, "stampfs "+cmd+": note: no version store "+dir+"/.stampfs yet: stamped URLs answer 404 until \"stampfs link\" publishes one; no reload is needed then\n", stderr)
	}
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

func TestFrontDirNotADirectory(t *testing.T) {
	file := filepath.Join(staticDir(t), "css", "site.css")
	_, err := frontDir(file, "an nginx configuration")
	assert.ErrorIs(t, err, syscall.ENOTDIR)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, file, pe.Path)
}

// frontErrorCases are the bad inputs nginx and apache share, with the
// configuration's name in the error left as %s.
func frontErrorCases(t *testing.T) []struct {
	name       string
	args       []string
	wantStatus int
	wantErr    string
} {
	dir := storeDir(t)
	odd := filepath.Join(t.TempDir(), "a$b")
	require.NoError(t, os.Mkdir(odd, 0o755))
	pct := filepath.Join(t.TempDir(), "a%b")
	require.NoError(t, os.Mkdir(pct, 0o755))
	rule := "want a path that starts and ends with /, made of segments of [0-9A-Za-z._~-] not starting with a dot"
	return []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{"no DIR", nil, exitUsage, "want exactly one DIR, got 0 arguments"},
		{"two DIRs", []string{dir, dir}, exitUsage, "want exactly one DIR, got 2 arguments"},
		{"relative prefix", []string{"-prefix", "static/", dir}, exitUsage, `-prefix "static/": ` + rule},
		{"prefix without trailing slash", []string{"-prefix", "/static", dir}, exitUsage, `-prefix "/static": ` + rule},
		{"empty prefix", []string{"-prefix", "", dir}, exitUsage, `-prefix "": ` + rule},
		{"dot dot in prefix", []string{"-prefix", "/a/../b/", dir}, exitUsage, `segment "..": ` + rule},
		{"hidden prefix", []string{"-prefix", "/.well-known/", dir}, exitUsage, `segment ".well-known"`},
		{"empty segment", []string{"-prefix", "//static/", dir}, exitUsage, `segment ""`},
		{"space in prefix", []string{"-prefix", "/my static/", dir}, exitUsage, `segment "my static"`},
		{"non-ASCII prefix", []string{"-prefix", "/stätic/", dir}, exitUsage, `segment "stätic"`},
		{"variable in prefix", []string{"-prefix", "/$host/", dir}, exitUsage, `segment "$host"`},
		{"missing DIR", []string{filepath.Join(dir, "missing")}, exitError, "no such file or directory"},
		{"DIR is a file", []string{filepath.Join(dir, "css", "site.css")}, exitError, "not a directory"},
		{"dollar in DIR", []string{odd}, exitError, `a path with ", \, $, % or control characters cannot go into %s`},
		{"percent in DIR", []string{pct}, exitError, `a path with ", \, $, % or control characters cannot go into %s`},
	}
}

// TestFrontErrors runs the bad inputs through nginx and apache.
func TestFrontErrors(t *testing.T) {
	for cmd, what := range map[string]string{"nginx": "an nginx configuration", "apache": "an Apache configuration"} {
		for _, tt := range frontErrorCases(t) {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				status, stdout, stderr := runCmd(append([]string{cmd}, tt.args...)...)

				assert.Equal(t, tt.wantStatus, status)
				assert.Empty(t, stdout)
				assert.True(t, strings.HasPrefix(stderr, "stampfs "+cmd+": "), stderr)
				assert.Contains(t, stderr, strings.ReplaceAll(tt.wantErr, "%s", what))
			})
		}
	}
}

// TestNginxSyntax has nginx check the blocks, three prefixes in one server.
// The e2e module serves through them.
func TestNginxSyntax(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
		if _, err := os.Stat(nginx); err != nil {
			t.Skip("nginx not installed: the e2e module's TestNginx needs it as well")
		}
	}
	dir := storeDir(t)
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

// TestFrontStoreElsewhere: with -store outside DIR, the stamped paths map
// onto that store, and no link is followed below it either.
func TestFrontStoreElsewhere(t *testing.T) {
	dir := staticDir(t)
	store := filepath.Join(t.TempDir(), "versions")
	require.NoError(t, os.Mkdir(store, 0o755))

	status, stdout, stderr := runCmd("nginx", "-store", store, dir)
	require.Equal(t, exitOK, status, stderr)
	assert.Empty(t, stderr)
	lines := strings.Split(stdout, "\n")
	assert.Contains(t, lines, `        alias "`+store+`/$stampfs_stamp/$stampfs_name";`)
	assert.Contains(t, lines, `        disable_symlinks on "from=`+store+`";`)
	assert.Contains(t, lines, `    disable_symlinks on "from=`+dir+`";`)

	status, stdout, stderr = runCmd("apache", "-store", store, dir)
	require.Equal(t, exitOK, status, stderr)
	lines = strings.Split(stdout, "\n")
	assert.Contains(t, lines, `<Directory "`+dir+`">`)
	assert.Contains(t, lines, `<Directory "`+store+`">`)
	assert.Contains(t, lines, `RewriteCond "`+store+`/$1/$2" -f`)

	status, stdout, stderr = runCmd("nginx", dir) // the default store, inside DIR
	require.Equal(t, exitOK, status, stderr)
	assert.Equal(t, 2, strings.Count(stdout, "disable_symlinks on"), "from=DIR covers the store")
}
