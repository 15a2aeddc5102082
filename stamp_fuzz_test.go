package stampfs_test

import (
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

var twelveHex = regexp.MustCompile(`^[0-9a-f]{12}$`)

// FuzzScanGitRefs feeds hostile HEAD and ref contents to the git reader: it
// must never panic, and never return an id read from outside the git
// directory (the file /secret holds one).
func FuzzScanGitRefs(f *testing.F) {
	f.Add("ref: refs/heads/main\n", idMain+"\n", "refs/heads/main")
	f.Add(idOther+"\n", "", "refs/heads/main")
	f.Add("ref: refs/heads/a\n", "ref: refs/heads/a\n", "refs/heads/a")
	f.Add("ref: refs/../../../secret\n", "", "refs/heads/x")
	f.Add("ref: /secret\n", "", "refs/heads/x")
	f.Add("ref: refs/heads/../../../../secret", "", "refs/heads/x")
	f.Add("ref: refs/heads/.invalid\n", "", "refs/heads/x")
	f.Add("ref:refs/heads/main", idMain, "refs/heads/main")
	f.Fuzz(func(t *testing.T, head, ref, refName string) {
		fsys := vfstest.NewMemFS()
		makeTree(t, fsys, "/", "secret="+idOther+"\n", "repo/static/a.css", "repo/.git/refs/heads/")
		if err := afero.WriteFile(fsys, "/repo/.git/HEAD", []byte(head), 0o644); err != nil {
			t.Skip()
		}
		refFile := path.Join("/repo/.git", refName)
		if strings.HasPrefix(refFile, "/repo/.git/refs/") {
			_ = fsys.MkdirAll(path.Dir(refFile), 0o755)
			_ = afero.WriteFile(fsys, refFile, []byte(ref), 0o644)
		}
		snap, err := stampfs.Scan(fsys, "/repo/static", &stampfs.ScanOptions{Strategy: stampfs.Git})
		if err != nil {
			return
		}
		stamp := snap.Stamp()
		if !twelveHex.MatchString(stamp) {
			t.Fatalf("stamp %q is not 12 lowercase hex", stamp)
		}
		if !strings.Contains(head, stamp) && !strings.Contains(ref, stamp) {
			t.Fatalf("stamp %q read from outside HEAD and the ref (HEAD %q, ref %q)", stamp, head, ref)
		}
	})
}

// FuzzScanNames checks that any name a file system accepts is counted
// exactly when no segment starts with a dot, and found again by Lookup.
func FuzzScanNames(f *testing.F) {
	for _, name := range []string{"a.css", "a b/c", ".env", "a/.b/c", "a\nb", `a\b`, "ünï/cödé", "a/b/../c", "./a", "a//b", "a\rb"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		fsys := vfstest.NewMemFS()
		if err := fsys.MkdirAll("/static", 0o755); err != nil {
			t.Fatal(err)
		}
		clean := path.Clean("/static/" + name)
		rel, ok := strings.CutPrefix(clean, "/static/")
		if !ok || strings.ContainsRune(name, 0) {
			t.Skip()
		}
		if err := fsys.MkdirAll(path.Dir(clean), 0o755); err != nil {
			t.Skip()
		}
		if err := afero.WriteFile(fsys, clean, []byte("x"), 0o644); err != nil {
			t.Skip()
		}
		snap, err := stampfs.Scan(fsys, "/static", nil)
		if err != nil {
			t.Fatalf("Scan after creating %q: %v", clean, err)
		}
		hidden := strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.")
		_, found := snap.Lookup(rel)
		switch {
		case hidden && len(snap.Files()) != 0:
			t.Fatalf("%q counted: %v", rel, snap.Files())
		case !hidden && !found:
			t.Fatalf("%q not found in %v", rel, snap.Files())
		case !hidden && snap.Stamp() == emptyStamp:
			t.Fatalf("%q counted but the stamp is that of nothing", rel)
		}
	})
}
