package stampfs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs/vfstest"
)

// A deploy step: scan the directory, make its stamp link, drop old links.
func ExampleNewLinker() {
	fsys := vfstest.NewMemFS()
	_ = fsys.MkdirAll("/static/css", 0o755)
	_ = afero.WriteFile(fsys, "/static/css/site.css", []byte("body { color: teal }\n"), 0o644)

	snap, err := stampfs.Scan(fsys, "/static", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	l := stampfs.NewLinker(fsys, "/static")
	if err := l.Activate(snap.Stamp()); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := l.Prune(snap.Stamp()); err != nil {
		fmt.Println(err)
		return
	}

	target, _ := fsys.ReadlinkIfPossible("/static/" + snap.Stamp())
	css, _ := afero.ReadFile(fsys, "/static/"+snap.Stamp()+"/css/site.css")
	fmt.Printf("/static/%s -> %s\n", snap.Stamp(), target)
	fmt.Print(string(css))
	// Output:
	// /static/8913b37cd6ad -> .
	// body { color: teal }
}

// Activating a stamp again is safe: the link stays in place and its age
// starts over. A name that is not a stamp link is never replaced.
func ExampleLinker_Activate() {
	fsys := vfstest.NewMemFS()
	_ = fsys.MkdirAll("/static/v1", 0o755) // a real directory named like a stamp
	l := stampfs.NewLinker(fsys, "/static")

	fmt.Println(l.Activate("v2"))
	fmt.Println(l.Activate("v2"))
	err := l.Activate("v1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, fs.ErrExist))
	fmt.Println(errors.Is(l.Activate("../v3"), stampfs.ErrBadStamp))
	// Output:
	// <nil>
	// <nil>
	// activate /static/v1: exists and is not a stamp link: file already exists
	// true
	// true
}

// Prune keeps the current link, the Keep newest others and any younger than
// Grace.
func ExampleLinker_Prune() {
	fsys := vfstest.NewMemFS()
	_ = fsys.Mkdir("/static", 0o755)
	var now time.Time
	fsys.SetClock(func() time.Time { return now })
	l := stampfs.NewLinker(fsys, "/static")
	l.Keep, l.Grace = 1, time.Hour
	l.Now = func() time.Time { return now }

	for _, deploy := range []struct{ stamp, at string }{
		{"v1", "09:00"}, {"v2", "10:00"}, {"v3", "11:30"}, {"v4", "11:45"}, {"v5", "12:00"},
	} {
		now, _ = time.Parse("15:04", deploy.at)
		_ = l.Activate(deploy.stamp)
	}

	removed, err := l.Prune("v5") // v4 is the newest other, v3 is younger than an hour
	fmt.Println(removed, err)
	// Output:
	// [/static/v2 /static/v1] <nil>
}

// Probe tells a deploy whether stamp links work here, and whether to fall
// back to serving the stamp prefix virtually.
func ExampleLinker_Probe() {
	for _, fsys := range []afero.Fs{vfstest.NewMemFS(), afero.NewMemMapFs()} {
		_ = fsys.MkdirAll("/static", 0o755)
		err := stampfs.NewLinker(fsys, "/static").Probe()
		switch {
		case err == nil:
			fmt.Printf("%s: symlink mode\n", fsys.Name())
		case errors.Is(err, stampfs.ErrSymlinkUnsupported):
			fmt.Printf("%s: virtual mode (%v)\n", fsys.Name(), err)
		default:
			fmt.Println(err)
		}
	}
	// Output:
	// MemFS: symlink mode
	// MemMapFS: virtual mode (stampfs: symlinks unsupported: symlink /static: symlink not supported)
}
