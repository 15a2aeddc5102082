package examples_test

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// readerProgram returns the path of python3 or node. Without it the test
// fails on CI (CI=true), which must install it, and skips elsewhere.
func readerProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found in PATH: install it to run the manifest reader's test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true must run it")
	}
	t.Skip(msg)
	return ""
}

// TestManifestReaders runs the Python and Node readers in this directory
// on a manifest the library wrote, and requires each tag they print to
// hold exactly the manifest's URL and integrity value.
func TestManifestReaders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	for name, data := range map[string]string{
		"css/site.css":     "body { color: teal }\n",
		"js/app.js":        "console.log(1)\n",
		"js/a b&c'd\"é.js": "console.log(2)\n",
		"css/site.css.gz":  "not really gzip",
		`js/back\slash.js`: "never served",
		".env":             "SECRET=1\n",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	}
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &stampfs.ScanOptions{Hash: true})
	require.NoError(t, err)
	m, err := stampfs.NewManifest(os.DirFS(dir), snap, &stampfs.ManifestOptions{Base: "https://cdn.example.com"})
	require.NoError(t, err)
	data, err := m.MarshalIndent()
	require.NoError(t, err)
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	require.NoError(t, os.WriteFile(manifest, data, 0o644))
	names := []string{"css/site.css", "js/app.js", "js/a b&c'd\"é.js"}

	for _, tt := range []struct{ program, script string }{
		{"python3", "manifest_reader.py"},
		{"node", "manifest_reader.mjs"},
	} {
		t.Run(tt.program, func(t *testing.T) {
			bin := readerProgram(t, tt.program)
			out, err := exec.Command(bin, append([]string{tt.script, manifest}, names...)...).Output()
			require.NoError(t, err, "%s %s", tt.program, tt.script)
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			require.Len(t, lines, len(names), "%s", out)
			attr := regexp.MustCompile(`(href|src|integrity)="([^"]*)"`)
			for i, name := range names {
				got := map[string]string{}
				for _, a := range attr.FindAllStringSubmatch(lines[i], -1) {
					got[a[1]] = html.UnescapeString(a[2])
				}
				f := m.Files[name]
				want := map[string]string{"integrity": f.Integrity, "src": f.URL}
				if strings.HasSuffix(name, ".css") {
					want = map[string]string{"integrity": f.Integrity, "href": f.URL}
					assert.True(t, strings.HasPrefix(lines[i], `<link rel="stylesheet" `), lines[i])
				} else {
					assert.True(t, strings.HasPrefix(lines[i], `<script `), lines[i])
				}
				assert.Equal(t, want, got, "%s: %s", name, lines[i])
			}

			cmd := exec.Command(bin, tt.script, manifest, "js/back\\slash.js")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err = cmd.Run()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "a name the handler does not serve is an error")
			assert.Equal(t, 1, exit.ExitCode())
			assert.Contains(t, stderr.String(), `stampfs manifest: no served file`)
		})
	}
}
