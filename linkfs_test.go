package stampfs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// linkFS is one file system the symlink tests run on.
type linkFS struct {
	name string
	// make returns a fresh file system and an empty directory on it.
	make func(t *testing.T) (afero.Fs, string)
	// agedSymlink makes the symbolic link name -> target whose own
	// modification time is mtime.
	agedSymlink func(fsys afero.Fs, target, name string, mtime time.Time) error
}

var osLinkFS = linkFS{
	name: "os",
	make: func(t *testing.T) (afero.Fs, string) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "static")
		require.NoError(t, os.Mkdir(dir, 0o755))
		return afero.NewOsFs(), dir
	},
	agedSymlink: func(_ afero.Fs, target, name string, mtime time.Time) error {
		if err := os.Symlink(target, name); err != nil {
			return err
		}
		return lchtimes(name, mtime)
	},
}

var memLinkFS = linkFS{
	name: "memory",
	make: func(t *testing.T) (afero.Fs, string) {
		t.Helper()
		fsys := vfstest.NewMemFS()
		require.NoError(t, fsys.Mkdir("/static", 0o755))
		return fsys, "/static"
	},
	agedSymlink: func(fsys afero.Fs, target, name string, mtime time.Time) error {
		m := fsys.(*vfstest.MemFS)
		m.SetClock(func() time.Time { return mtime })
		defer m.SetClock(nil)
		return m.SymlinkIfPossible(target, name)
	},
}

// linkFSes lists the file systems every symlink test runs on.
func linkFSes() []linkFS {
	return []linkFS{osLinkFS, memLinkFS}
}

// makeLinkTree creates entries in dir in makeTree's syntax, plus two forms
// for links: "v1 -> . @2h" is a symbolic link whose own modification time is
// two hours ago, and "$DIR" in a link target stands for dir.
func makeLinkTree(t *testing.T, lfs linkFS, fsys afero.Fs, dir string, entries ...string) {
	t.Helper()
	now := time.Now()
	for _, e := range entries {
		name, target, isLink := strings.Cut(e, " -> ")
		if !isLink {
			makeTree(t, fsys, dir, e)
			continue
		}
		target = strings.ReplaceAll(target, "$DIR", dir)
		target, age, aged := strings.Cut(target, " @")
		if !aged {
			makeTree(t, fsys, dir, name+" -> "+target)
			continue
		}
		d, err := time.ParseDuration(age)
		require.NoError(t, err)
		err = lfs.agedSymlink(fsys, target, filepath.Join(dir, filepath.FromSlash(name)), now.Add(-d))
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("cannot set a link's own mtime on %s here", lfs.name)
		}
		require.NoError(t, err)
	}
}

// listTop returns the entries directly in dir in makeLinkTree's syntax, without
// ages, sorted.
func listTop(t *testing.T, fsys afero.Fs, dir string) []string {
	t.Helper()
	f, err := fsys.Open(dir)
	require.NoError(t, err)
	names, err := f.Readdirnames(-1)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	out := make([]string, 0, len(names))
	for _, n := range names {
		p := filepath.Join(dir, n)
		fi, _, err := fsys.(afero.Lstater).LstatIfPossible(p)
		require.NoError(t, err)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := fsys.(afero.LinkReader).ReadlinkIfPossible(p)
			require.NoError(t, err)
			out = append(out, n+" -> "+strings.ReplaceAll(target, dir, "$DIR"))
		case fi.IsDir():
			out = append(out, n+"/")
		default:
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func TestLinkerActivate(t *testing.T) {
	tests := []struct {
		name      string
		tree      []string
		stamp     string
		noVersion bool     // activate without publishing first
		want      []string // the directory afterwards
		wantErr   error
	}{
		{"new link", []string{"css/a.css"}, "v1", false, []string{".stampfs/", "css/", "v1 -> .stampfs/v1"}, nil},
		{"same stamp again", []string{"css/a.css", "v1 -> .stampfs/v1 @2h"}, "v1", false, []string{".stampfs/", "css/", "v1 -> .stampfs/v1"}, nil},
		{"beside an older link", []string{"css/a.css", "v0 -> .stampfs/v0 @2h"}, "v1", false, []string{".stampfs/", "css/", "v0 -> .stampfs/v0", "v1 -> .stampfs/v1"}, nil},
		{"a link of the older form", []string{"css/a.css", "v1 -> . @2h"}, "v1", false, []string{".stampfs/", "css/", "v1 -> .stampfs/v1"}, nil},
		{"absolute link to the directory", []string{"css/a.css", "v1 -> $DIR"}, "v1", false, []string{".stampfs/", "css/", "v1 -> .stampfs/v1"}, nil},
		{"dot slash link", []string{"css/a.css", "v1 -> ./"}, "v1", false, []string{".stampfs/", "css/", "v1 -> .stampfs/v1"}, nil},
		{"stamp with dots", []string{"css/a.css"}, "v1.2.3", false, []string{".stampfs/", "css/", "v1.2.3 -> .stampfs/v1.2.3"}, nil},
		{"no version", []string{"css/a.css"}, "v1", true, []string{"css/"}, fs.ErrNotExist},
		{"file in the way", []string{"css/a.css", "v1"}, "v1", false, []string{".stampfs/", "css/", "v1"}, fs.ErrExist},
		{"directory in the way", []string{"css/a.css", "v1/"}, "v1", false, []string{".stampfs/", "css/", "v1/"}, fs.ErrExist},
		{"link to a subdirectory", []string{"css/a.css", "v1 -> css"}, "v1", false, []string{".stampfs/", "css/", "v1 -> css"}, fs.ErrExist},
		{"link to another version", []string{"css/a.css", "v1 -> .stampfs/v0"}, "v1", false, []string{".stampfs/", "css/", "v1 -> .stampfs/v0"}, fs.ErrExist},
		{"link to the parent", []string{"css/a.css", "v1 -> .."}, "v1", false, []string{".stampfs/", "css/", "v1 -> .."}, fs.ErrExist},
		{"dot dot through a link", []string{"css/a.css", "css/sub/", "up -> css/sub", "v1 -> up/.."}, "v1", false, []string{".stampfs/", "css/", "up -> css/sub", "v1 -> up/.."}, fs.ErrExist},
		{"absolute dot dot through a link", []string{"css/a.css", "css/sub/", "up -> css/sub", "v1 -> $DIR/up/.."}, "v1", false, []string{".stampfs/", "css/", "up -> css/sub", "v1 -> $DIR/up/.."}, fs.ErrExist},
		{"absolute link elsewhere", []string{"css/a.css", "v1 -> $DIR/css"}, "v1", false, []string{".stampfs/", "css/", "v1 -> $DIR/css"}, fs.ErrExist},
		{"dangling link", []string{"css/a.css", "v1 -> gone"}, "v1", false, []string{".stampfs/", "css/", "v1 -> gone"}, fs.ErrExist},
		{"empty stamp", []string{"css/a.css"}, "", true, []string{"css/"}, stampfs.ErrBadStamp},
		{"dot", []string{"css/a.css"}, ".", true, []string{"css/"}, stampfs.ErrBadStamp},
		{"dot dot", []string{"css/a.css"}, "..", true, []string{"css/"}, stampfs.ErrBadStamp},
		{"hidden", []string{"css/a.css"}, ".git", true, []string{"css/"}, stampfs.ErrBadStamp},
		{"slash", []string{"css/a.css"}, "css/v1", true, []string{"css/"}, stampfs.ErrBadStamp},
		{"traversal", []string{"css/a.css"}, "../v1", true, []string{"css/"}, stampfs.ErrBadStamp},
		{"too long", []string{"css/a.css"}, strings.Repeat("a", 65), true, []string{"css/"}, stampfs.ErrBadStamp},
	}
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					fsys, dir := lfs.make(t)
					makeLinkTree(t, lfs, fsys, dir, tt.tree...)
					l := stampfs.NewLinker(fsys, dir)
					if !tt.noVersion {
						publish(t, l, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: tt.stamp})
					}
					start := time.Now()

					err := l.Activate(tt.stamp)

					assert.Equal(t, tt.want, listTop(t, fsys, dir))
					if tt.wantErr != nil {
						require.ErrorIs(t, err, tt.wantErr)
						if tt.wantErr == fs.ErrExist {
							var pe *fs.PathError
							require.ErrorAs(t, err, &pe)
							assert.Equal(t, filepath.Join(dir, tt.stamp), pe.Path)
						}
						return
					}
					require.NoError(t, err)
					name := filepath.Join(dir, tt.stamp)
					got, err := afero.ReadFile(fsys, filepath.Join(name, "css", "a.css"))
					require.NoError(t, err)
					assert.Equal(t, "css/a.css\n", string(got))
					fi, _, err := fsys.(afero.Lstater).LstatIfPossible(name)
					require.NoError(t, err)
					assert.WithinRange(t, fi.ModTime(), start.Add(-time.Second), time.Now().Add(time.Second),
						"the link's own mtime is its activation time")
				})
			}
		})
	}
}

func TestLinkerPrune(t *testing.T) {
	tests := []struct {
		name        string
		tree        []string
		keep        int
		grace       time.Duration
		current     string
		want        []string // the directory afterwards
		wantRemoved []string // base names, in the order Prune returns them
	}{
		{
			name: "defaults keep the two newest",
			tree: []string{"a.css", "101 -> . @4h", "102 -> . @3h", "103 -> . @2h", "104 -> ."},
			keep: 2, grace: time.Hour, current: "104",
			want:        []string{"102 -> .", "103 -> .", "104 -> .", "a.css"},
			wantRemoved: []string{"101"},
		},
		{
			name: "keep counts by age, not by name",
			tree: []string{"a00000000000 -> . @2h", "b00000000000 -> . @4h", "c00000000000 -> . @3h", "f00000000000 -> ."},
			keep: 1, current: "f00000000000",
			want:        []string{"a00000000000 -> .", "f00000000000 -> ."},
			wantRemoved: []string{"c00000000000", "b00000000000"},
		},
		{
			name: "equal ages keep the greater name",
			tree: []string{"101 -> . @2h", "102 -> . @2h", "103 -> ."},
			keep: 1, current: "103",
			want:        []string{"102 -> .", "103 -> ."},
			wantRemoved: []string{"101"},
		},
		{
			name: "grace keeps young links",
			tree: []string{"101 -> . @2h", "102 -> . @30m", "103 -> . @59m", "104 -> ."},
			keep: 0, grace: time.Hour, current: "104",
			want:        []string{"102 -> .", "103 -> .", "104 -> ."},
			wantRemoved: []string{"101"},
		},
		{
			name:        "keep zero and grace zero leave only the current link",
			tree:        []string{"101 -> . @2h", "102 -> . @1s", "103 -> ."},
			current:     "103",
			want:        []string{"103 -> ."},
			wantRemoved: []string{"102", "101"},
		},
		{
			name:        "absolute links to the directory are stamp links",
			tree:        []string{"101 -> $DIR @2h", "102 -> ./ @2h", "103 -> ."},
			current:     "103",
			want:        []string{"103 -> ."},
			wantRemoved: []string{"102", "101"},
		},
		{
			name: "nothing else is ever removed",
			tree: []string{
				"v0", "v9/", "css/a.css", "v8 -> css @2h", "v7 -> .. @2h", "v6 -> $DIR/css @2h", "v5 -> gone @2h",
				".hidden -> . @2h", "not a stamp -> . @2h", "v3 -> .",
				// up/.. is css, not the directory, whatever filepath.Clean says.
				"css/sub/", "up -> css/sub @2h", "v4 -> up/.. @2h", "v2 -> $DIR/up/.. @2h",
			},
			current: "v3",
			want: []string{
				".hidden -> .", "css/", "not a stamp -> .", "up -> css/sub", "v0", "v2 -> $DIR/up/..", "v3 -> .",
				"v4 -> up/..", "v5 -> gone", "v6 -> $DIR/css", "v7 -> ..", "v8 -> css", "v9/",
			},
		},
		{
			name:        "links of the older form under other names stay",
			tree:        []string{"v1 -> . @2h", "latest -> . @2h", "1.2 -> $DIR @2h", "abcdef012345 -> . @2h", "ABCDEF012345 -> . @2h", "9 -> ."},
			current:     "9",
			want:        []string{"1.2 -> $DIR", "9 -> .", "ABCDEF012345 -> .", "latest -> .", "v1 -> ."},
			wantRemoved: []string{"abcdef012345"},
		},
		{
			name:        "links into the store whose version is gone",
			tree:        []string{"v1 -> .stampfs/v1 @2h", "v2 -> .stampfs/v1 @2h", "v3 -> .stampfs/v3"},
			current:     "v3",
			want:        []string{"v2 -> .stampfs/v1", "v3 -> .stampfs/v3"},
			wantRemoved: []string{"v1"},
		},
		{
			name:        "temporary links left behind",
			tree:        []string{".stampfs-tmp-old -> . @2h", ".stampfs-tmp-new -> . @30s", ".stampfs-tmp-else -> css @2h", "css/", "v1 -> ."},
			current:     "v1",
			want:        []string{".stampfs-tmp-else -> css", ".stampfs-tmp-new -> .", "css/", "v1 -> ."},
			wantRemoved: []string{".stampfs-tmp-old"},
		},
		{
			name:  "temporary links younger than grace",
			tree:  []string{".stampfs-tmp-a -> . @30m", "v1 -> ."},
			grace: time.Hour, current: "v1",
			want: []string{".stampfs-tmp-a -> .", "v1 -> ."},
		},
		{
			name: "current link missing",
			tree: []string{"v1 -> . @10m"},
			keep: 1, current: "v2",
			want: []string{"v1 -> ."},
		},
		{
			name:    "empty directory",
			current: "v1",
			want:    []string{},
		},
	}
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					fsys, dir := lfs.make(t)
					makeLinkTree(t, lfs, fsys, dir, tt.tree...)
					l := stampfs.NewLinker(fsys, dir)
					l.Keep, l.Grace = orNone(tt.keep), orNone(tt.grace)

					removed, err := l.Prune(tt.current)

					require.NoError(t, err)
					assert.Equal(t, tt.want, listTop(t, fsys, dir))
					want := make([]string, len(tt.wantRemoved))
					for i, n := range tt.wantRemoved {
						want[i] = filepath.Join(dir, n)
					}
					if len(want) == 0 {
						want = nil
					}
					assert.Equal(t, want, removed)
				})
			}
		})
	}
}

func TestLinkerPruneBadStamp(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			for _, current := range []string{"", ".", "..", ".stampfs-tmp-x", "a/b"} {
				fsys, dir := lfs.make(t)
				makeLinkTree(t, lfs, fsys, dir, "v1 -> . @2h", ".stampfs-tmp-x -> . @2h")
				l := stampfs.NewLinker(fsys, dir)
				l.Keep, l.Grace = -1, -1

				removed, err := l.Prune(current)

				require.ErrorIsf(t, err, stampfs.ErrBadStamp, "Prune(%q)", current)
				assert.Empty(t, removed)
				assert.Equal(t, []string{".stampfs-tmp-x -> .", "v1 -> ."}, listTop(t, fsys, dir))
			}
		})
	}
}

func TestNewLinkerDefaults(t *testing.T) {
	l := stampfs.NewLinker(afero.NewMemMapFs(), "static")
	assert.Zero(t, l.Keep, "zero means DefaultKeep")
	assert.Zero(t, l.Grace, "zero means DefaultGrace")
	assert.Equal(t, 2, stampfs.DefaultKeep)
	assert.Equal(t, time.Hour, stampfs.DefaultGrace)
	assert.Nil(t, l.Logger)
	assert.Nil(t, l.Now)
}

func TestLinkerNow(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeLinkTree(t, lfs, fsys, dir, "101 -> .", "102 -> .")
			l := stampfs.NewLinker(fsys, dir)
			l.Keep = -1

			removed, err := l.Prune("102")
			require.NoError(t, err)
			require.Empty(t, removed, "101 is younger than the grace period")

			l.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			removed, err = l.Prune("102")
			require.NoError(t, err)
			assert.Equal(t, []string{filepath.Join(dir, "101")}, removed)
		})
	}
}

// symlinkErrFS is the OS file system with symbolic links that fail with err.
type symlinkErrFS struct {
	afero.OsFs
	err error
}

func (f symlinkErrFS) SymlinkIfPossible(oldname, newname string) error {
	return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: f.err}
}

// noLstatFS is the OS file system with an Lstat that follows links, as
// afero offers it for file systems without links.
type noLstatFS struct{ afero.OsFs }

func (noLstatFS) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := os.Stat(name)
	return fi, false, err
}

// noReadlinkFS is the OS file system without Readlink.
type noReadlinkFS struct{ afero.OsFs }

func (noReadlinkFS) ReadlinkIfPossible(name string) (string, error) {
	return "", &os.PathError{Op: "readlink", Path: name, Err: afero.ErrNoReadlink}
}

func TestLinkerUnsupported(t *testing.T) {
	tests := []struct {
		name        string
		fsys        func(dir string) afero.Fs
		unsupported bool
		wantErr     error
	}{
		{"no Symlinker", func(string) afero.Fs { return afero.NewMemMapFs() }, true, afero.ErrNoSymlink},
		{"MemMapFs under BasePathFs", func(string) afero.Fs { return afero.NewBasePathFs(afero.NewMemMapFs(), "/") }, true, afero.ErrNoSymlink},
		{"read-only", func(string) afero.Fs { return afero.NewReadOnlyFs(afero.NewOsFs()) }, true, afero.ErrNoSymlink},
		{"EPERM", func(string) afero.Fs { return symlinkErrFS{err: syscall.EPERM} }, true, fs.ErrPermission},
		{"EACCES", func(string) afero.Fs { return symlinkErrFS{err: syscall.EACCES} }, true, fs.ErrPermission},
		{"ENOSYS", func(string) afero.Fs { return symlinkErrFS{err: syscall.ENOSYS} }, true, errors.ErrUnsupported},
		{"EOPNOTSUPP", func(string) afero.Fs { return symlinkErrFS{err: syscall.EOPNOTSUPP} }, true, errors.ErrUnsupported},
		{"EROFS", func(string) afero.Fs { return symlinkErrFS{err: syscall.EROFS} }, true, syscall.EROFS},
		{"Lstat follows links", func(string) afero.Fs { return noLstatFS{} }, true, stampfs.ErrSymlinkUnsupported},
		{"no Readlink", func(string) afero.Fs { return noReadlinkFS{} }, true, afero.ErrNoReadlink},
		{"ENOSPC is another error", func(string) afero.Fs { return symlinkErrFS{err: syscall.ENOSPC} }, false, syscall.ENOSPC},
		{"EIO is another error", func(string) afero.Fs { return symlinkErrFS{err: syscall.EIO} }, false, syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fsys := tt.fsys(dir)
			l := stampfs.NewLinker(fsys, dir)
			// The version exists (made through the OS file system where fsys
			// cannot write), so that only the link can fail.
			v1 := &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"}
			if _, err := l.Publish(v1); err != nil {
				publish(t, stampfs.NewLinker(afero.NewOsFs(), dir), v1)
			}

			for op, err := range map[string]error{"Probe": l.Probe(), "Activate": l.Activate("v1")} {
				require.Errorf(t, err, "%s", op)
				assert.ErrorIsf(t, err, tt.wantErr, "%s", op)
				assert.Equalf(t, tt.unsupported, errors.Is(err, stampfs.ErrSymlinkUnsupported), "%s: %v", op, err)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Subset(t, []string{stampfs.DefaultStore}, dirNames(entries), "nothing is left behind")
		})
	}
}

func TestLinkerBasePathFsRewritesTargets(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "static"), 0o755))
	l := stampfs.NewLinker(afero.NewBasePathFs(afero.NewOsFs(), root), "/static")
	publish(t, l, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"})

	for op, err := range map[string]error{"Probe": l.Probe(), "Activate": l.Activate("v1")} {
		require.ErrorIsf(t, err, stampfs.ErrSymlinkUnsupported, "%s", op)
		assert.ErrorContainsf(t, err, "rewrote the link target", "%s", op)
	}
	entries, err := os.ReadDir(filepath.Join(root, "static"))
	require.NoError(t, err)
	assert.Equal(t, []string{stampfs.DefaultStore}, dirNames(entries), "nothing is left behind")
}

func TestLinkerProbe(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeLinkTree(t, lfs, fsys, dir, "a.css")
			require.NoError(t, stampfs.NewLinker(fsys, dir).Probe())
			assert.Equal(t, []string{"a.css"}, listTop(t, fsys, dir), "the probe link is gone")

			err := stampfs.NewLinker(fsys, filepath.Join(dir, "missing")).Probe()
			assert.ErrorIs(t, err, fs.ErrNotExist)
			assert.NotErrorIs(t, err, stampfs.ErrSymlinkUnsupported)
		})
	}
}

func TestLinkerLogs(t *testing.T) {
	for _, lfs := range linkFSes() {
		t.Run(lfs.name, func(t *testing.T) {
			fsys, dir := lfs.make(t)
			makeLinkTree(t, lfs, fsys, dir, "100 -> . @30m", "101 -> . @3h", "102 -> . @2h", "103 -> . @10m", "latest -> . @5h")
			var buf bytes.Buffer
			l := stampfs.NewLinker(fsys, dir)
			l.Keep = 1
			old := publish(t, l, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v0"})
			require.NoError(t, l.Activate("v0"))
			require.NoError(t, fsys.Chtimes(old.Dir(), time.Now().Add(-4*time.Hour), time.Now().Add(-4*time.Hour)))
			publish(t, l, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"})
			require.NoError(t, fsys.Chtimes(filepath.Join(dir, stampfs.DefaultStore, "v1"), time.Now().Add(-3*time.Hour), time.Now().Add(-3*time.Hour)))
			publish(t, l, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v4"})
			l.Logger = slog.New(slog.NewJSONHandler(&buf, nil))

			require.NoError(t, l.Activate("v4"))
			_, err := l.Prune("v4")
			require.NoError(t, err)

			var got []string
			for line := range strings.Lines(buf.String()) {
				var rec map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &rec))
				what, _ := rec["link"].(string)
				if v, ok := rec["version"].(string); ok {
					what = v
				}
				s := rec["msg"].(string) + " " + filepath.ToSlash(strings.TrimPrefix(what, dir+string(filepath.Separator)))
				if r, ok := rec["reason"]; ok {
					s += ": " + r.(string)
				}
				got = append(got, s)
			}
			assert.Equal(t, []string{
				"link created v4",
				"version kept .stampfs/v4: current",
				"version kept .stampfs/v1: newest",
				"link removed v0",
				"version removed .stampfs/v0",
				"link kept v4: current",
				"link kept 103: newest",
				"link kept 100: younger than grace period",
				"link removed 102",
				"link removed 101",
			}, got)
		})
	}
}

func dirNames(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// orNone turns a test table's 0 ("none") into the negative value that means
// none to a Linker, whose zero means the default.
func orNone[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
