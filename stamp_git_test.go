package stampfs_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// Object ids for hand-built repositories.
const (
	idMain    = "1111111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idOther   = "2222222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idTag     = "3333333333cccccccccccccccccccccccccccccc"
	idPeeled  = "4444444444dddddddddddddddddddddddddddddd"
	idSHA256  = "5555555555eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	idPrefix  = "6666666666ffffffffffffffffffffffffffffff"
	packedHdr = "# pack-refs with: peeled fully-peeled sorted \n"
)

func TestScanGitInMemory(t *testing.T) {
	packed := packedHdr +
		idTag + " refs/tags/v1\n" +
		"^" + idPeeled + "\n" +
		idPrefix + " refs/heads/main-old\n" +
		idMain + " refs/heads/main\n" +
		"^" + idPeeled + "\n" +
		idOther + " refs/heads/other\n"

	tests := []struct {
		name    string
		entries []string // under /
		dir     string   // scanned
		want    string
	}{
		{
			name:    "loose ref",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/static/a.css"},
			dir:     "/repo/static", want: idMain[:12],
		},
		{
			name:    "repository at the directory itself",
			entries: []string{"static/.git/HEAD=ref: refs/heads/main\n", "static/.git/refs/heads/main=" + idMain + "\n", "static/a.css"},
			dir:     "/static", want: idMain[:12],
		},
		{
			name:    "several parents up",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/web/public/static/a.css"},
			dir:     "/repo/web/public/static", want: idMain[:12],
		},
		{
			name:    "nearest repository wins",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/sub/.git/HEAD=" + idOther + "\n", "repo/sub/static/a.css"},
			dir:     "/repo/sub/static", want: idOther[:12],
		},
		{
			name:    ".git directory without HEAD is not a repository",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/static/.git/config=", "repo/static/a.css"},
			dir:     "/repo/static", want: idMain[:12],
		},
		{
			name:    "packed ref with peeled lines",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/packed-refs=" + packed, "repo/.git/refs/heads/", "repo/static/"},
			dir:     "/repo/static", want: idMain[:12],
		},
		{
			name:    "packed ref without header or final newline",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/other", "repo/.git/packed-refs=" + idMain + " refs/heads/main\n" + idOther + " refs/heads/other", "repo/static/"},
			dir:     "/repo/static", want: idOther[:12],
		},
		{
			name:    "loose ref wins over packed",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/packed-refs=" + packed, "repo/.git/refs/heads/main=" + idOther + "\n", "repo/static/"},
			dir:     "/repo/static", want: idOther[:12],
		},
		{
			name:    "detached HEAD",
			entries: []string{"repo/.git/HEAD=" + idOther + "\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/static/"},
			dir:     "/repo/static", want: idOther[:12],
		},
		{
			name:    "symbolic ref chain",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/alias\n", "repo/.git/refs/heads/alias=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/static/"},
			dir:     "/repo/static", want: idMain[:12],
		},
		{
			name:    "branch with slashes",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/feature/x\n", "repo/.git/refs/heads/feature/x=" + idOther + "\n", "repo/static/"},
			dir:     "/repo/static", want: idOther[:12],
		},
		{
			name:    "SHA-256 repository",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idSHA256 + "\n", "repo/static/"},
			dir:     "/repo/static", want: idSHA256[:12],
		},
		{
			name:    "CRLF line ends",
			entries: []string{"repo/.git/HEAD=ref: refs/heads/main\r\n", "repo/.git/refs/heads/main=" + idMain + "\r\n", "repo/static/"},
			dir:     "/repo/static", want: idMain[:12],
		},
		{
			name: "worktree, absolute gitdir",
			entries: []string{
				"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n", "repo/.git/refs/heads/feature=" + idOther + "\n",
				"repo/.git/worktrees/wt/HEAD=ref: refs/heads/feature\n", "repo/.git/worktrees/wt/commondir=../..\n",
				"wt/.git=gitdir: /repo/.git/worktrees/wt\n", "wt/static/a.css",
			},
			dir: "/wt/static", want: idOther[:12],
		},
		{
			name: "worktree, relative gitdir, packed refs in the common dir",
			entries: []string{
				"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/packed-refs=" + packed,
				"repo/.git/worktrees/wt/HEAD=ref: refs/heads/other\n", "repo/.git/worktrees/wt/commondir=../..\n",
				"wt/.git=gitdir: ../repo/.git/worktrees/wt\n", "wt/static/a.css",
			},
			dir: "/wt/static", want: idOther[:12],
		},
		{
			name: "worktree, absolute commondir, detached",
			entries: []string{
				"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=" + idMain + "\n",
				"repo/.git/worktrees/wt/HEAD=" + idTag + "\n", "repo/.git/worktrees/wt/commondir=/repo/.git\n",
				"wt/.git=gitdir: /repo/.git/worktrees/wt\n", "wt/static/",
			},
			dir: "/wt/static", want: idTag[:12],
		},
		{
			name: "worktree-private ref",
			entries: []string{
				"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/worktree/x=" + idMain + "\n",
				"repo/.git/worktrees/wt/HEAD=ref: refs/worktree/x\n", "repo/.git/worktrees/wt/refs/worktree/x=" + idOther + "\n", "repo/.git/worktrees/wt/commondir=../..\n",
				"wt/.git=gitdir: /repo/.git/worktrees/wt\n", "wt/static/",
			},
			dir: "/wt/static", want: idOther[:12],
		},
		{
			name:    "submodule gitdir file",
			entries: []string{"super/.git/modules/sub/HEAD=" + idMain + "\n", "super/sub/.git=gitdir: ../.git/modules/sub\n", "super/sub/static/"},
			dir:     "/super/sub/static", want: idMain[:12],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, fsys := range []afero.Fs{afero.NewMemMapFs(), vfstest.NewMemFS()} {
				makeTree(t, fsys, "/", tt.entries...)
				snap := scan(t, fsys, tt.dir, &stampfs.ScanOptions{Strategy: stampfs.Git})
				assert.Equal(t, tt.want, snap.Stamp(), fsys.Name())
				assert.Equal(t, stampfs.Git, snap.Strategy())
			}
		})
	}
}

func TestScanGitThroughSymlinkedGitDir(t *testing.T) {
	// A .git that is a link to the real git directory, as some deploy tools
	// make, is followed as git follows it.
	fsys := vfstest.NewMemFS()
	makeTree(t, fsys, "/", "store/repo.git/HEAD=ref: refs/heads/main\n", "store/repo.git/refs/heads/main="+idMain+"\n", "app/static/a.css", "app/.git -> /store/repo.git")
	assert.Equal(t, idMain[:12], scan(t, fsys, "/app/static", &stampfs.ScanOptions{Strategy: stampfs.Git}).Stamp())
}

func TestScanGitRelativeDirInMemory(t *testing.T) {
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, ".", ".git/HEAD=ref: refs/heads/main\n", ".git/refs/heads/main="+idMain+"\n", "web/static/a.css")
	snap := scan(t, fsys, "web/static", &stampfs.ScanOptions{Strategy: stampfs.Git})
	assert.Equal(t, idMain[:12], snap.Stamp())
	assert.Equal(t, []string{"a.css"}, names(snap))
}

func TestScanGitErrors(t *testing.T) {
	tests := []struct {
		name     string
		entries  []string
		is       error // the sentinel the error wraps
		contains string
	}{
		{"no repository", []string{"repo/static/a.css"}, fs.ErrNotExist, "no repository (.git) in /repo/static or any parent directory"},
		{"unborn branch", []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/", "repo/static/"}, fs.ErrNotExist, "refs/heads/main has no commit yet"},
		{"ref missing from packed-refs", []string{"repo/.git/HEAD=ref: refs/heads/gone\n", "repo/.git/packed-refs=" + idMain + " refs/heads/main\n", "repo/static/"}, fs.ErrNotExist, "refs/heads/gone has no commit yet"},
		{"HEAD not an id", []string{"repo/.git/HEAD=hello\n", "repo/static/"}, fs.ErrInvalid, `ref HEAD holds "hello", not an object id`},
		{"short id", []string{"repo/.git/HEAD=" + idMain[:12] + "\n", "repo/static/"}, fs.ErrInvalid, "not an object id"},
		{"uppercase id", []string{"repo/.git/HEAD=" + strings.ToUpper(idMain) + "\n", "repo/static/"}, fs.ErrInvalid, "not an object id"},
		{"ref not an id", []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=zzz\n", "repo/static/"}, fs.ErrInvalid, `ref refs/heads/main holds "zzz"`},
		{"empty ref", []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/refs/heads/main=", "repo/static/"}, fs.ErrInvalid, "is empty"},
		{"empty HEAD", []string{"repo/.git/HEAD=", "repo/static/"}, fs.ErrInvalid, "HEAD is empty"},
		{"packed ref not an id", []string{"repo/.git/HEAD=ref: refs/heads/main\n", "repo/.git/packed-refs=xyz refs/heads/main\n", "repo/static/"}, fs.ErrInvalid, `holds "xyz" for refs/heads/main`},
		{"ref outside refs", []string{"repo/.git/HEAD=ref: config\n", "repo/.git/config=" + idMain, "repo/static/"}, fs.ErrInvalid, `bad ref name "config"`},
		{"ref escaping the git dir", []string{"repo/.git/HEAD=ref: refs/../../static/a.css\n", "repo/static/a.css=" + idMain}, fs.ErrInvalid, "bad ref name"},
		{"symbolic ref loop", []string{"repo/.git/HEAD=ref: refs/heads/a\n", "repo/.git/refs/heads/a=ref: refs/heads/b\n", "repo/.git/refs/heads/b=ref: refs/heads/a\n", "repo/static/"}, fs.ErrInvalid, "symbolic refs nest deeper than 5"},
		{"bad .git file", []string{"repo/.git=not a gitdir line\n", "repo/static/"}, fs.ErrInvalid, `/repo/.git is not a "gitdir: PATH" file`},
		{"gitdir missing", []string{"repo/.git=gitdir: /nowhere\n", "repo/static/"}, fs.ErrNotExist, "no HEAD at /nowhere/HEAD"},
		{"reftable", []string{"repo/.git/HEAD=ref: refs/heads/.invalid\n", "repo/.git/refs/heads=this repository uses the reftable format\n", "repo/.git/reftable/tables.list=", "repo/static/"}, errors.ErrUnsupported, "reftable format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			makeTree(t, fsys, "/", tt.entries...)
			snap, err := stampfs.Scan(fsys, "/repo/static", &stampfs.ScanOptions{Strategy: stampfs.Git})
			require.Error(t, err)
			assert.Nil(t, snap)
			assert.ErrorContains(t, err, tt.contains)
			assert.ErrorIs(t, err, tt.is)
		})
	}
}

// git runs git with a fixed identity in dir and returns its trimmed output,
// skipping the test when git is not installed.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("git not installed: %v", err)
	}
	cmd := exec.Command("git", append([]string{"-c", "user.name=stampfs", "-c", "user.email=stampfs@example.invalid", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(envWithout(os.Environ(), "GIT_"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	require.NoErrorf(t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// envWithout drops the environment entries that start with prefix, so that
// a test run from a git hook does not talk to the hook's repository.
func envWithout(env []string, prefix string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func TestScanGitMatchesRevParse(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	makeTree(t, afero.NewOsFs(), repo, "static/css/a.css", "README")
	git(t, repo, "init", "-q")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "one")
	git(t, repo, "tag", "-a", "-m", "tag", "v1")
	makeTree(t, afero.NewOsFs(), repo, "static/css/a.css=changed")
	git(t, repo, "commit", "-q", "-a", "-m", "two")
	git(t, repo, "worktree", "add", "-q", "-b", "feature", filepath.Join(root, "wt"), "HEAD~1")

	static := filepath.Join(repo, "static")
	gitScan := func(dir string) string {
		t.Helper()
		return scan(t, afero.NewOsFs(), dir, &stampfs.ScanOptions{Strategy: stampfs.Git}).Stamp()
	}
	check := func(name, dir string) {
		t.Helper()
		assert.Equal(t, git(t, dir, "rev-parse", "HEAD")[:12], gitScan(dir), name)
	}

	check("loose refs", static)
	check("worktree", filepath.Join(root, "wt", "static"))
	git(t, repo, "pack-refs", "--all")
	require.NoFileExists(t, filepath.Join(repo, ".git", "refs", "heads", "main"))
	check("packed refs", static)
	check("worktree, packed refs", filepath.Join(root, "wt", "static"))
	git(t, repo, "checkout", "-q", "--detach", "v1")
	check("detached at a tag", static)

	t.Run("relative dir", func(t *testing.T) {
		t.Chdir(static)
		assert.Equal(t, git(t, static, "rev-parse", "HEAD")[:12], gitScan("."))
		assert.Equal(t, git(t, static, "rev-parse", "HEAD")[:12], gitScan("css"))
	})
}

func TestScanGitMissingDir(t *testing.T) {
	// The directory is checked before the repository, so the error names it.
	fsys := afero.NewMemMapFs()
	makeTree(t, fsys, "/", "repo/.git/HEAD="+idMain+"\n")
	_, err := stampfs.Scan(fsys, "/repo/static", &stampfs.ScanOptions{Strategy: stampfs.Git})
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "/repo/static", pe.Path)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
