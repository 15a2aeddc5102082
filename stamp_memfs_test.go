package stampfs_test

import (
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

func TestScanMemFSStampLink(t *testing.T) {
	fsys := vfstest.NewMemFS()
	makeTree(t, fsys, "/srv/static", "css/a.css", "js/app.js", "index.html")
	before := scan(t, fsys, "/srv/static", nil)

	// What the link manager makes, and worse.
	makeTree(t, fsys, "/srv/static",
		before.Stamp()+" -> .",
		"0123456789ab -> /srv/static",
		"css/up -> ..",
		"self -> self",
		"a -> b", "b -> a",
		"page.html -> index.html",
		"etc -> /etc",
	)
	makeTree(t, fsys, "/etc", "passwd")

	for _, strategy := range []stampfs.Strategy{stampfs.Content, stampfs.Mtime} {
		t.Run(string(strategy), func(t *testing.T) {
			want := scan(t, fsys, "/srv/static", &stampfs.ScanOptions{Strategy: strategy})
			after := scan(t, fsys, "/srv/static", &stampfs.ScanOptions{Strategy: strategy, Hash: true})
			assert.Equal(t, want.Stamp(), after.Stamp())
			assert.Equal(t, []string{"css/a.css", "index.html", "js/app.js"}, names(after))
		})
	}
	assert.Equal(t, before.Stamp(), scan(t, fsys, "/srv/static", nil).Stamp())

	// Scanning through the stamp link is scanning the directory.
	through := scan(t, fsys, "/srv/static/"+before.Stamp(), nil)
	assert.Equal(t, before.Stamp(), through.Stamp())
	assert.Equal(t, before.Files(), through.Files())
}

func TestScanMemFSAgreesWithOS(t *testing.T) {
	entries := []string{
		"css/a.css=body{}", "a.c", "a/b", "empty=", "img/", "ünï/cödé.js", "a b.css", "new\nline", `back\slash`,
		".hidden", "css/.swp", "v1 -> .", "link.css -> css/a.css",
	}
	dir := t.TempDir()
	makeTree(t, afero.NewOsFs(), dir, entries...)
	mem := vfstest.NewMemFS()
	makeTree(t, mem, "static", entries...)

	onOS := scan(t, afero.NewOsFs(), dir, nil)
	inMem := scan(t, mem, "static", nil)
	assert.Equal(t, onOS.Stamp(), inMem.Stamp())
	require.Equal(t, names(onOS), names(inMem))
	for i, f := range inMem.Files() {
		g := onOS.Files()[i]
		assert.Equal(t, g.Size, f.Size, f.Name)
		assert.Equal(t, g.SHA256, f.SHA256, f.Name)
	}
}

func TestScanMemFSMtime(t *testing.T) {
	fsys := vfstest.NewMemFS()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	fsys.SetClock(func() time.Time { return now })
	makeTree(t, fsys, "static", "a.css")
	now = now.Add(time.Hour)
	makeTree(t, fsys, "static", "b.css")
	now = now.Add(time.Hour)
	makeTree(t, fsys, "static", "v1 -> .", ".hidden", "img/")

	snap := scan(t, fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Mtime})
	assert.Equal(t, "1717246800", snap.Stamp(), "b.css's time: neither the link, the hidden file nor the directory count")
}
