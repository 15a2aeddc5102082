package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

func TestParseStrategy(t *testing.T) {
	tests := []struct {
		value string
		want  stampfs.ScanOptions
	}{
		{"content", stampfs.ScanOptions{Strategy: stampfs.Content}},
		{"mtime", stampfs.ScanOptions{Strategy: stampfs.Mtime}},
		{"git", stampfs.ScanOptions{Strategy: stampfs.Git}},
		{"fixed=v1.2.3", stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1.2.3"}},
		{"fixed=2024-06-01_build.7", stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "2024-06-01_build.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseStrategy(tt.value)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseStrategyBad(t *testing.T) {
	for _, value := range []string{"", "fixed", "fixed=", "fixed=.hidden", "fixed=a/b", "fixed=a b", "fixed=..", "Content", "sha256", "content=x", " content"} {
		t.Run(value, func(t *testing.T) {
			got, err := parseStrategy(value)
			assert.ErrorIs(t, err, stampfs.ErrBadStamp)
			assert.Zero(t, got)
		})
	}
}

// writeFiles writes name → content under a new temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

// runCmd runs the command line args and returns its exit status, stdout and stderr.
func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	status := run(args, &out, &errOut)
	return status, out.String(), errOut.String()
}

func TestStampCommand(t *testing.T) {
	// printf "a\n" >a; printf "b\n" >b; sha256sum ./a ./b | sha256sum | cut -c1-12
	dir := writeFiles(t, map[string]string{"a": "a\n", "b": "b\n", ".git/HEAD": "x"})
	empty := t.TempDir()

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default is content", []string{"stamp", dir}, "cd202e332bb8\n"},
		{"content", []string{"stamp", "-strategy", "content", dir}, "cd202e332bb8\n"},
		{"fixed", []string{"stamp", "-strategy=fixed=v1.2.3", dir}, "v1.2.3\n"},
		{"empty dir", []string{"stamp", empty}, "e3b0c44298fc\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errOut := runCmd(tt.args...)
			assert.Equal(t, exitOK, status)
			assert.Equal(t, tt.want, out)
			assert.Empty(t, errOut)
		})
	}
}

// TestScanCommandErrors checks the errors stamp and manifest share: their
// flags and DIR go through scanFlags, and both scan.
func TestScanCommandErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "x"})
	tests := []struct {
		name     string
		args     []string // after the command name
		status   int
		contains string
	}{
		{"no dir", nil, exitUsage, "want exactly one DIR, got 0"},
		{"two dirs", []string{dir, dir}, exitUsage, "want exactly one DIR, got 2"},
		{"bad strategy", []string{"-strategy", "sha1", dir}, exitUsage, `unknown -strategy "sha1"`},
		{"fixed without value", []string{"-strategy", "fixed", dir}, exitUsage, `unknown -strategy "fixed"`},
		{"bad fixed", []string{"-strategy", "fixed=../x", dir}, exitUsage, "bad stamp"},
		{"unknown flag", []string{"-keep", "2", dir}, exitUsage, "flag provided but not defined: -keep"},
		{"missing dir", []string{filepath.Join(dir, "nope")}, exitError, "no such file or directory"},
		{"file as dir", []string{filepath.Join(dir, "a.css")}, exitError, "not a directory"},
		{"no repository", []string{"-strategy", "git", dir}, exitError, "no repository"},
	}
	for _, cmd := range []string{"stamp", "manifest"} {
		for _, tt := range tests {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				status, out, errOut := runCmd(append([]string{cmd}, tt.args...)...)
				assert.Equal(t, tt.status, status)
				assert.Empty(t, out)
				assert.Contains(t, errOut, tt.contains)
				if tt.status == exitUsage {
					assert.Contains(t, errOut, "usage: stampfs "+cmd+" [-strategy content|mtime|git|fixed=VALUE] ")
				}
			})
		}
	}
}

func TestStampCommandHelp(t *testing.T) {
	status, out, errOut := runCmd("stamp", "-h")
	assert.Equal(t, exitOK, status)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "usage: stampfs stamp [-strategy content|mtime|git|fixed=VALUE] DIR")
}

func TestStampCommandMtimeWarns(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "a", "b.css": "b"})
	epoch := time.Unix(0, 0)
	for _, name := range []string{"a.css", "b.css"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), epoch, epoch))
	}
	status, out, errOut := runCmd("stamp", "-strategy", "mtime", dir)
	assert.Equal(t, exitOK, status)
	assert.Equal(t, "0\n", out, "the stamp alone on stdout")
	assert.Contains(t, errOut, "level=WARN")
	assert.Contains(t, errOut, "fake file times")
}

func TestStampCommandGit(t *testing.T) {
	const id = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	root := writeFiles(t, map[string]string{
		".git/HEAD":            "ref: refs/heads/main\n",
		".git/refs/heads/main": id + "\n",
		"web/static/app.js":    "x",
	})
	status, out, errOut := runCmd("stamp", "-strategy", "git", filepath.Join(root, "web", "static"))
	assert.Equal(t, exitOK, status, errOut)
	assert.Equal(t, id[:12]+"\n", out)
}
