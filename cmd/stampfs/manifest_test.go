package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

func TestManifestCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n", "b/c d.css": "b\n", ".env": "secret", "b/.cache": "x"})

	status, out, errOut := runCmd("manifest", dir)
	require.Equal(t, exitOK, status, errOut)
	assert.Empty(t, errOut)
	// sha256sum ./a "./b/c d.css" | sha256sum | cut -c1-12 gives the stamp;
	// openssl dgst -sha384 -binary | base64 the integrity values.
	assert.JSONEq(t, `{
		"version": 1,
		"stamp": "086c193393f1",
		"strategy": "content",
		"prefix": "/static/",
		"files": {
			"a": {"url": "/static/086c193393f1/a", "size": 2,
				"sha256": "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7",
				"integrity": "sha384-knsvA5XkzjJvSrdZx1ql/DmffWwwN7LetAlSecp87TynD2jzV0FIaA/FLWwVvIkU",
				"type": "application/octet-stream", "encodings": []},
			"b/c d.css": {"url": "/static/086c193393f1/b/c%20d.css", "size": 2,
				"sha256": "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f",
				"integrity": "sha384-E6YPHhunvaN64fV5fWsQI5/7zwGwOhkxml9JNlkT74jTmbtJ7i5wKjJ2Y5dBsUQl",
				"type": "text/css; charset=utf-8", "encodings": []}
		}
	}`, out)
	m, err := stampfs.ParseManifest([]byte(out))
	require.NoError(t, err, "the library reads what the command writes")
	assert.Equal(t, "086c193393f1", m.Stamp)
}

// TestManifestCommandServedNames: exactly the names the handler serves,
// each URL escaped as the handler's URL escapes it.
func TestManifestCommandServedNames(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a<b>&c.js":        "a\n",
		"odd/a b+c%#?é.js": "b\n",
		"site.css":         "a\n",
		"site.css.gz":      "gzip bytes",
		"site.css.br":      "brotli bytes",
		`back\slash.css`:   "never served",
	})
	status, out, errOut := runCmd("manifest", "-strategy", "fixed=v1.2.3", "-prefix", "/assets/", "-base", "https://cdn.example.com", dir)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, `"url": "https://cdn.example.com/assets/v1.2.3/a%3Cb%3E&c.js"`, "no HTML escaping in a deploy manifest")

	m, err := stampfs.ParseManifest([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, "v1.2.3", m.Stamp)
	assert.Equal(t, stampfs.Fixed, m.Strategy)
	assert.Equal(t, "/assets/", m.Prefix)
	var names []string
	for name := range m.Files {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"a<b>&c.js", "odd/a b+c%#?é.js", "site.css"}, names)
	assert.Equal(t, "https://cdn.example.com/assets/v1.2.3/odd/a%20b+c%25%23%3F%C3%A9.js", m.Files["odd/a b+c%#?é.js"].URL)
	assert.Equal(t, []string{"br", "gzip"}, m.Files["site.css"].Encodings)
	assert.Equal(t, int64(2), m.Files["site.css"].Size, "the base file's own size")
}

func TestManifestCommandEmptyDir(t *testing.T) {
	status, out, errOut := runCmd("manifest", t.TempDir())
	require.Equal(t, exitOK, status, errOut)
	assert.JSONEq(t, `{"version": 1, "stamp": "e3b0c44298fc", "strategy": "content", "prefix": "/static/", "files": {}}`, out)
}

func TestManifestCommandWritesFileAtomically(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n"})
	outDir := t.TempDir()
	file := filepath.Join(outDir, "manifest.json")
	require.NoError(t, os.WriteFile(file, []byte("old"), 0o600))

	status, out, errOut := runCmd("manifest", "-o", file, dir)

	require.Equal(t, exitOK, status, errOut)
	assert.Empty(t, out)
	_, printed, _ := runCmd("manifest", dir)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, printed, string(data))
	fi, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	ents, err := os.ReadDir(outDir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary file left behind")
}

func TestManifestCommandErrors(t *testing.T) {
	// The scan errors manifest shares with stamp are in TestScanCommandErrors.
	dir := writeFiles(t, map[string]string{"ok.css": "x"})
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{"no DIR", nil, exitUsage, "stampfs manifest: want exactly one DIR, got 0 arguments"},
		{"bad strategy", []string{"-strategy", "newest", dir}, exitUsage, `stampfs manifest: unknown strategy "newest": want content, mtime, git or fixed=VALUE`},
		{"prefix without slashes", []string{"-prefix", "static", dir}, exitUsage, `stampfs manifest: -prefix "static": want a path that starts and ends with /`},
		{"prefix that needs escaping", []string{"-prefix", "/my static/", dir}, exitUsage, `segment "my static"`},
		{"base not an origin", []string{"-base", "cdn.example.com", dir}, exitUsage, `stampfs manifest: -base "cdn.example.com": want an origin starting with https://, http:// or //`},
		{"missing DIR", []string{filepath.Join(dir, "missing")}, exitError, "stampfs manifest: "},
		{"-o in a missing directory", []string{"-o", filepath.Join(dir, "no", "m.json"), dir}, exitError, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errOut := runCmd(append([]string{"manifest"}, tt.args...)...)
			assert.Equal(t, tt.wantStatus, status)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}

func TestManifestCommandNameNotUTF8(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ok.css": "x", "caf\xe9.css": "latin-1 name"})
	status, out, errOut := runCmd("manifest", dir)
	assert.Equal(t, exitError, status)
	assert.Empty(t, out)
	assert.Equal(t, "stampfs manifest: file name \"caf\\xe9.css\": not valid UTF-8, which JSON cannot hold; rename it\n", errOut)
}

// TestLinkWritesManifest: link -manifest writes, from the scan that made
// the version, exactly what manifest prints, and nothing on stdout but the
// stamp.
func TestLinkWritesManifest(t *testing.T) {
	dir := writeFiles(t, map[string]string{"css/site.css": "a\n", "css/site.css.gz": "gz", "a b.js": "b\n"})
	file := filepath.Join(t.TempDir(), "manifest.json")

	status, out, errOut := runCmd("link", "-q", "-manifest", file, "-prefix", "/assets/", "-base", "//cdn.example.com", dir)

	require.Equal(t, exitOK, status, errOut)
	_, printed, _ := runCmd("manifest", "-prefix", "/assets/", "-base", "//cdn.example.com", dir)
	m, err := stampfs.ParseManifest([]byte(printed))
	require.NoError(t, err)
	assert.Equal(t, m.Stamp+"\n", out)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, printed, string(data))
	assert.Equal(t, "//cdn.example.com/assets/"+m.Stamp+"/a%20b.js", m.Files["a b.js"].URL)
}

func TestLinkManifestFlagErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n"})
	status, out, errOut := runCmd("link", "-manifest", filepath.Join(dir, "m.json"), "-prefix", "assets", dir)
	assert.Equal(t, exitUsage, status)
	assert.Empty(t, out)
	assert.Contains(t, errOut, `stampfs link: -prefix "assets": want a path that starts and ends with /`)
	_, err := os.Stat(filepath.Join(dir, ".stampfs"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing published on a usage error")
}

// TestManifestOfStoredVersion: manifest -version prints a retained
// version's manifest from its stored bytes, also after the live tree has
// moved on, and refuses a stamp the store does not hold.
func TestManifestOfStoredVersion(t *testing.T) {
	dir := writeFiles(t, map[string]string{"css/site.css": "old\n", "a b.js": "b\n"})
	status, _, errOut := runCmd("link", "-q", dir)
	require.Equal(t, exitOK, status, errOut)
	_, before, _ := runCmd("manifest", "-base", "//cdn.example.com", dir)
	old, err := stampfs.ParseManifest([]byte(before))
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "site.css"), []byte("new\n"), 0o644))
	status, _, errOut = runCmd("link", "-q", dir)
	require.Equal(t, exitOK, status, errOut)

	status, out, errOut := runCmd("manifest", "-version", old.Stamp, "-base", "//cdn.example.com", dir)
	require.Equal(t, exitOK, status, errOut)
	assert.Equal(t, before, out, "the old version's manifest, not the live tree's")

	status, out, errOut = runCmd("manifest", "-version", "0123456789ab", dir)
	assert.Equal(t, exitError, status)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "0123456789ab")
	status, _, errOut = runCmd("manifest", "-version", old.Stamp, "-strategy", "mtime", dir)
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "drop -strategy")
	status, _, errOut = runCmd("manifest", "-store", dir, dir)
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "-store is for -version")
}
