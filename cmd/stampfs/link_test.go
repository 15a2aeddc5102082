package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staticDir returns a new directory holding css/site.css and the symbolic
// links given as "name -> target".
func staticDir(t *testing.T, links ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "static")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "css"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "site.css"), []byte("body { color: teal }\n"), 0o644))
	for _, l := range links {
		name, target, ok := strings.Cut(l, " -> ")
		require.True(t, ok, l)
		require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
	}
	return dir
}

// entries lists dir's top level as "name", "name/" or "name -> target".
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, de := range des {
		switch {
		case de.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(dir, de.Name()))
			require.NoError(t, err)
			out = append(out, de.Name()+" -> "+target)
		case de.IsDir():
			out = append(out, de.Name()+"/")
		default:
			out = append(out, de.Name())
		}
	}
	slices.Sort(out)
	return out
}

// The content stamp of staticDir's files, as the sha256sum pipeline gives it.
const staticStamp = "8913b37cd6ad"

func TestLink(t *testing.T) {
	tests := []struct {
		name  string
		links []string
		args  []string
		stamp string
		want  []string // DIR's top level afterwards
	}{
		{"content stamp", nil, nil, staticStamp, []string{".stampfs/", "8913b37cd6ad -> .stampfs/8913b37cd6ad", "css/"}},
		{"fixed stamp", nil, []string{"-strategy", "fixed=v1.2.3"}, "v1.2.3", []string{".stampfs/", "css/", "v1.2.3 -> .stampfs/v1.2.3"}},
		{
			"young links survive by default", []string{"101 -> .", "102 -> .", "v3 -> ."}, nil, staticStamp,
			[]string{".stampfs/", "101 -> .", "102 -> .", "8913b37cd6ad -> .stampfs/8913b37cd6ad", "css/", "v3 -> ."},
		},
		{
			"keep 0 and grace 0 leave only the current link",
			[]string{"101 -> .", "102 -> .", "other -> css", "latest -> .", "8913b37cd6ad -> ."}, []string{"-keep", "0", "-grace", "0"}, staticStamp,
			[]string{".stampfs/", "8913b37cd6ad -> .stampfs/8913b37cd6ad", "css/", "latest -> .", "other -> css"},
		},
		{
			"keep 1, grace 0", []string{"101 -> ."}, []string{"-keep=1", "-grace=0s", "-strategy=fixed=v2"}, "v2",
			[]string{".stampfs/", "101 -> .", "css/", "v2 -> .stampfs/v2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := staticDir(t, tt.links...)

			status, stdout, stderr := runCmd(append(append([]string{"link"}, tt.args...), dir)...)

			require.Equal(t, exitOK, status, stderr)
			assert.Equal(t, tt.stamp+"\n", stdout)
			assert.Equal(t, tt.want, entries(t, dir))
			assert.Contains(t, stderr, `msg="link created" link=`+filepath.Join(dir, tt.stamp))
			got, err := os.ReadFile(filepath.Join(dir, tt.stamp, "css", "site.css"))
			require.NoError(t, err)
			assert.Equal(t, "body { color: teal }\n", string(got))
		})
	}
}

func TestLinkLogsRemovals(t *testing.T) {
	dir := staticDir(t, "101 -> .")

	status, _, stderr := runCmd("link", "-keep", "0", "-grace", "0", dir)

	require.Equal(t, exitOK, status, stderr)
	assert.Contains(t, stderr, `msg="link removed" link=`+filepath.Join(dir, "101"))
}

// TestLinkVersions: an in-place edit makes a new stamp whose link serves the
// new bytes, while the old stamp's link keeps serving the old ones; a
// rollback finds the old version again; versions lists them.
func TestLinkVersions(t *testing.T) {
	dir := staticDir(t)
	css := filepath.Join(dir, "css", "site.css")
	status, a, stderr := runCmd("link", "-q", dir)
	require.Equal(t, exitOK, status, stderr)
	require.NoError(t, os.WriteFile(css, []byte("body { color: red }\n"), 0o644))
	status, b, stderr := runCmd("link", "-q", dir)
	require.Equal(t, exitOK, status, stderr)
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	require.NotEqual(t, a, b)
	for stamp, body := range map[string]string{a: "body { color: teal }\n", b: "body { color: red }\n"} {
		got, err := os.ReadFile(filepath.Join(dir, stamp, "css", "site.css"))
		require.NoError(t, err)
		assert.Equal(t, body, string(got), stamp)
	}

	status, stdout, stderr := runCmd("versions", dir)
	require.Equal(t, exitOK, status, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 2)
	assert.Regexp(t, `^`+b+`\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t1\t20\tcurrent$`, lines[0])
	assert.Regexp(t, `^`+a+`\t\S+\t1\t21$`, lines[1])

	require.NoError(t, os.WriteFile(css, []byte("body { color: teal }\n"), 0o644))
	status, back, stderr := runCmd("link", "-q", dir)
	require.Equal(t, exitOK, status, stderr)
	assert.Equal(t, a+"\n", back)
	status, stdout, _ = runCmd("versions", "-json", dir)
	require.Equal(t, exitOK, status)
	assert.Contains(t, stdout, `"stamp": "`+a+`"`)
	assert.Regexp(t, `(?s)^\[\s*\{\s*"stamp": "`+a+`".*"current": true`, stdout, "the rollback is current")
}

func TestLinkErrors(t *testing.T) {
	tests := []struct {
		name       string
		links      []string
		args       func(dir string) []string
		wantStatus int
		wantErr    string // in stderr
	}{
		{"no DIR", nil, func(string) []string { return nil }, exitUsage, "want exactly one DIR, got 0"},
		{"two DIRs", nil, func(dir string) []string { return []string{dir, dir} }, exitUsage, "want exactly one DIR, got 2"},
		{"unknown flag", nil, func(dir string) []string { return []string{"-force", dir} }, exitUsage, "flag provided but not defined: -force"},
		{"negative keep", nil, func(dir string) []string { return []string{"-keep", "-1", dir} }, exitUsage, "-keep -1: want 0 or more"},
		{"negative grace", nil, func(dir string) []string { return []string{"-grace", "-1h", dir} }, exitUsage, "-grace -1h0m0s: want 0 or more"},
		{"bad grace", nil, func(dir string) []string { return []string{"-grace", "soon", dir} }, exitUsage, `invalid value "soon" for flag -grace`},
		{"bad strategy", nil, func(dir string) []string { return []string{"-strategy", "sha1", dir} }, exitUsage, `stampfs link: unknown strategy "sha1": want content, mtime, git or fixed=VALUE` + "\n"},
		{"bad strategy after DIR", nil, func(dir string) []string { return []string{dir, "-strategy", "sha1"} }, exitUsage, `stampfs link: unknown strategy "sha1": want content, mtime, git or fixed=VALUE` + "\n"},
		{"bad fixed stamp", nil, func(dir string) []string { return []string{"-strategy", "fixed=../x", dir} }, exitUsage, "stampfs link: -strategy fixed=../x: bad stamp \"../x\""},
		{"missing DIR", nil, func(dir string) []string { return []string{filepath.Join(dir, "missing")} }, exitError, "no such file or directory"},
		{
			"link elsewhere in the way", []string{"v1 -> css"},
			func(dir string) []string { return []string{"-strategy", "fixed=v1", dir} },
			exitError, "stampfs link: activate $DIR/v1: exists and is not a stamp link: file already exists\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := staticDir(t, tt.links...)
			before := entries(t, dir)

			status, stdout, stderr := runCmd(append([]string{"link"}, tt.args(dir)...)...)

			assert.Equal(t, tt.wantStatus, status)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, strings.ReplaceAll(tt.wantErr, "$DIR", dir))
			if tt.wantStatus == exitUsage {
				assert.Contains(t, stderr, "usage: stampfs link")
			}
			assert.Equal(t, before, slices.DeleteFunc(entries(t, dir), func(e string) bool { return e == ".stampfs/" }), "no link changed")
		})
	}
}

// noLinkFS is the OS file system where every link fails with err, as
// symlink(2) does on a file system without links (EPERM) or in a directory
// the user may not write (EACCES), which a test run as root cannot make.
type noLinkFS struct {
	afero.OsFs
	err error
}

func (fsys noLinkFS) SymlinkIfPossible(oldname, newname string) error {
	return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: fsys.err}
}

func TestLinkNoSymlinks(t *testing.T) {
	tests := []struct {
		name   string
		fsys   afero.Fs
		status int
		stdout string
		stderr string
	}{
		{"read-only afero Fs", afero.NewReadOnlyFs(afero.NewOsFs()), exitError, "",
			"stampfs link: mkdir static/.stampfs: operation not permitted\n"},
		{"EPERM: no links on this file system", noLinkFS{err: syscall.EPERM}, exitNoSymlinks, staticStamp + "\n",
			"stampfs link: make the stamp link static/" + staticStamp + ": symlinks unsupported: symlink .stampfs/" + staticStamp + " static/.stampfs-tmp-X: operation not permitted\n"},
		{"EROFS", noLinkFS{err: syscall.EROFS}, exitNoSymlinks, staticStamp + "\n",
			"stampfs link: make the stamp link static/" + staticStamp + ": symlinks unsupported: symlink .stampfs/" + staticStamp + " static/.stampfs-tmp-X: read-only file system\n"},
		{"EACCES: a directory the user may not write", noLinkFS{err: syscall.EACCES}, exitError, "",
			"stampfs link: make the stamp link static/" + staticStamp + ": permission denied\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := staticDir(t)
			t.Chdir(filepath.Dir(dir))
			linkFS = tt.fsys
			t.Cleanup(func() { linkFS = afero.NewOsFs() })

			status, stdout, stderr := runCmd("link", "-q", "static")

			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.stdout, stdout, "the stamp, to be served virtually")
			assert.Equal(t, tt.stderr, regexp.MustCompile(`stampfs-tmp-[0-9a-f]+`).ReplaceAllString(stderr, "stampfs-tmp-X"))
			assert.Equal(t, []string{"css/"}, slices.DeleteFunc(entries(t, dir), func(e string) bool { return e == ".stampfs/" }), "no link is left")
		})
	}
}

func TestLinkQuiet(t *testing.T) {
	dir := staticDir(t, "101 -> .")
	status, stdout, stderr := runCmd("link", dir, "-q", "-keep=0", "-grace=0")
	require.Equal(t, exitOK, status, stderr)
	assert.Equal(t, staticStamp+"\n", stdout)
	assert.Empty(t, stderr, "no info lines with -q")
	assert.Equal(t, []string{".stampfs/", staticStamp + " -> .stampfs/" + staticStamp, "css/"}, entries(t, dir))
}

func TestLinkHelpShowsLinkerDefaults(t *testing.T) {
	status, stdout, stderr := runCmd("link", "-h")

	assert.Equal(t, exitOK, status)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "usage: stampfs link")
	assert.Regexp(t, `-keep int\n.*\(default 2\)`, stdout)
	assert.Regexp(t, `-grace duration\n.*\(default 1h0m0s\)`, stdout)
}
