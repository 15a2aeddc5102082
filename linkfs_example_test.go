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

// A deploy step: publish the directory's version, link its stamp, drop old
// versions. A later edit of the live file leaves the stamp's bytes alone.
func ExampleNewLinker() {
	fsys := vfstest.NewMemFS()
	_ = fsys.MkdirAll("/static/css", 0o755)
	_ = afero.WriteFile(fsys, "/static/css/site.css", []byte("body { color: teal }\n"), 0o644)

	l := stampfs.NewLinker(fsys, "/static")
	v, err := l.Publish(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := l.Activate(v.Stamp); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := l.Prune(v.Stamp); err != nil {
		fmt.Println(err)
		return
	}
	_ = afero.WriteFile(fsys, "/static/css/site.css", []byte("body { color: red }\n"), 0o644)

	target, _ := fsys.ReadlinkIfPossible("/static/" + v.Stamp)
	css, _ := afero.ReadFile(fsys, "/static/"+v.Stamp+"/css/site.css")
	fmt.Printf("/static/%s -> %s\n", v.Stamp, target)
	fmt.Print(string(css))
	// Output:
	// /static/8913b37cd6ad -> .stampfs/8913b37cd6ad
	// body { color: teal }
}

// Activating a stamp again is safe: the link stays in place and its age
// starts over. A name that is not a stamp link is never replaced, and a
// stamp needs its version first.
func ExampleLinker_Activate() {
	fsys := vfstest.NewMemFS()
	_ = fsys.MkdirAll("/static/v1", 0o755) // a real directory named like a stamp
	l := stampfs.NewLinker(fsys, "/static")
	for _, stamp := range []string{"v1", "v2"} {
		_, _ = l.Publish(&stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: stamp})
	}

	fmt.Println(l.Activate("v2"))
	fmt.Println(l.Activate("v2"))
	err := l.Activate("v1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, fs.ErrExist))
	fmt.Println(errors.Is(l.Activate("v3"), fs.ErrNotExist))
	fmt.Println(errors.Is(l.Activate("../v3"), stampfs.ErrBadStamp))
	// Output:
	// <nil>
	// <nil>
	// activate /static/v1: exists and is not a stamp link: file already exists
	// true
	// true
	// true
}

// Prune keeps the current version, the Keep most recently activated others
// and any activated within Grace, and removes the others with their links.
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
		_, _ = l.Publish(&stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: deploy.stamp})
		_ = l.Activate(deploy.stamp)
	}

	removed, err := l.Prune("v5") // v4 is the newest other, v3 is younger than an hour
	fmt.Println(removed, err)
	// Output:
	// [/static/v2 /static/.stampfs/v2 /static/v1 /static/.stampfs/v1] <nil>
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
