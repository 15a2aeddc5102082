package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
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
	tests := []struct{ value, msg string }{
		{"", `unknown strategy "": want content, mtime, git or fixed=VALUE`},
		{"fixed", `unknown strategy "fixed": want content, mtime, git or fixed=VALUE`},
		{"Content", `unknown strategy "Content": want content, mtime, git or fixed=VALUE`},
		{"sha256", `unknown strategy "sha256": want content, mtime, git or fixed=VALUE`},
		{"content=x", `unknown strategy "content=x": want content, mtime, git or fixed=VALUE`},
		{" content", `unknown strategy " content": want content, mtime, git or fixed=VALUE`},
		{"fixed=", `-strategy fixed=: bad stamp "": want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot`},
		{"fixed=.hidden", `-strategy fixed=.hidden: bad stamp ".hidden": want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot`},
		{"fixed=a/b", `-strategy fixed=a/b: bad stamp "a/b": want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot`},
		{"fixed=a b", `-strategy fixed=a b: bad stamp "a b": want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot`},
		{"fixed=..", `-strategy fixed=..: bad stamp "..": want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseStrategy(tt.value)
			assert.ErrorIs(t, err, stampfs.ErrBadStamp, "as Scan's own errors for a bad strategy")
			assert.EqualError(t, err, tt.msg)
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
// flags and DIR go through scanFlags, and both scan. Each is one line.
func TestScanCommandErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "x"})
	t.Chdir(dir)
	tests := []struct {
		name   string
		args   []string // after the command name
		status int
		msg    string // the first line of stderr, after "stampfs CMD: "
	}{
		{"no dir", nil, exitUsage, "want exactly one DIR, got 0 arguments"},
		{"two dirs", []string{".", "."}, exitUsage, "want exactly one DIR, got 2 arguments"},
		{"bad strategy", []string{"-strategy", "sha1", "."}, exitUsage, `unknown strategy "sha1": want content, mtime, git or fixed=VALUE`},
		{"bad strategy after DIR", []string{".", "-strategy", "sha1"}, exitUsage, `unknown strategy "sha1": want content, mtime, git or fixed=VALUE`},
		{"fixed without value", []string{"-strategy", "fixed", "."}, exitUsage, `unknown strategy "fixed": want content, mtime, git or fixed=VALUE`},
		{"bad fixed", []string{"-strategy", "fixed=../x", "."}, exitUsage, `-strategy fixed=../x: bad stamp "../x": want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot`},
		{"unknown flag", []string{"-keep", "2", "."}, exitUsage, "flag provided but not defined: -keep"},
		{"missing dir", []string{"nope"}, exitError, "stat nope: no such file or directory"},
		{"file as dir", []string{"a.css"}, exitError, "scan a.css: not a directory"},
		{"no repository, relative", []string{"-strategy", "git", "."}, exitError, "git: no repository (.git) in . or any parent directory: file does not exist"},
		{"no repository, absolute", []string{"-strategy", "git", dir}, exitError, "git: no repository (.git) in " + dir + " or any parent directory: file does not exist"},
	}
	for _, cmd := range []string{"stamp", "manifest"} {
		for _, tt := range tests {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				status, out, errOut := runCmd(append([]string{cmd}, tt.args...)...)
				assert.Equal(t, tt.status, status)
				assert.Empty(t, out)
				want := "stampfs " + cmd + ": " + tt.msg + "\n"
				if tt.status == exitUsage {
					synopsis := "stampfs stamp [-q] [-strategy content|mtime|git|fixed=VALUE] DIR"
					if cmd == "manifest" {
						synopsis = manifestSynopsis
					}
					want += "usage: " + synopsis + "\nRun 'stampfs help " + cmd + "' for details.\n"
				}
				assert.Equal(t, want, errOut)
			})
		}
	}
}

func TestStampCommandFlagsAfterDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n"})
	for _, args := range [][]string{
		{"stamp", dir, "-strategy", "fixed=v1"},
		{"stamp", "-strategy", "fixed=v1", dir},
		{"stamp", "-strategy=fixed=v1", "--", dir},
	} {
		status, out, errOut := runCmd(args...)
		assert.Equal(t, exitOK, status, args)
		assert.Equal(t, "v1\n", out, args)
		assert.Empty(t, errOut, args)
	}
	// After --, a name that looks like a flag is a DIR.
	status, _, errOut := runCmd("stamp", "--", "-q")
	assert.Equal(t, exitError, status)
	assert.Equal(t, "stampfs stamp: stat -q: no such file or directory\n", errOut)
}

func TestStampCommandMtimeWarns(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.css": "a", "b.css": "b"})
	one := time.Unix(1, 0)
	for _, name := range []string{"a.css", "b.css"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), one, one))
	}
	status, out, errOut := runCmd("stamp", "-strategy", "mtime", dir)
	assert.Equal(t, exitOK, status)
	assert.Equal(t, "1\n", out, "the stamp alone on stdout")
	assert.Contains(t, errOut, "level=WARN")
	assert.Contains(t, errOut, "fake file times")

	status, out, quiet := runCmd("stamp", "-q", "-strategy", "mtime", dir)
	assert.Equal(t, exitOK, status)
	assert.Equal(t, "1\n", out)
	noTime := regexp.MustCompile(`time=\S+ `)
	assert.Equal(t, noTime.ReplaceAllString(errOut, ""), noTime.ReplaceAllString(quiet, ""), "-q keeps warnings")

	epoch := time.Unix(0, 0)
	for _, name := range []string{"a.css", "b.css"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), epoch, epoch))
	}
	status, out, errOut = runCmd("stamp", "-strategy", "mtime", dir)
	assert.Equal(t, exitError, status)
	assert.Empty(t, out, "no stamp from no times")
	assert.Contains(t, errOut, "stampfs stamp: ")
	assert.Contains(t, errOut, "use the content strategy")
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
