package stampfs_test

import (
	"fmt"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

func ExampleScan() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "static/css/site.css", []byte("body{}\n"), 0o644)
	afero.WriteFile(fsys, "static/js/app.js", []byte("console.log(1)\n"), 0o644)
	afero.WriteFile(fsys, "static/.DS_Store", []byte("not counted"), 0o644)

	snap, err := stampfs.Scan(fsys, "static", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Strategy(), snap.Stamp())
	for _, f := range snap.Files() {
		fmt.Printf("%s %d %x\n", f.Name, f.Size, f.SHA256[:6])
	}
	// Output:
	// content 48498a878f7d
	// css/site.css 7 2708d73bf31c
	// js/app.js 15 3879a5d930ae
}

func ExampleScan_mtime() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "static/a.css", nil, 0o644)
	afero.WriteFile(fsys, "static/b.css", nil, 0o644)
	fsys.Chtimes("static/a.css", time.Time{}, time.Unix(1700000000, 0))
	fsys.Chtimes("static/b.css", time.Time{}, time.Unix(1718000000, 500))

	snap, err := stampfs.Scan(fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Mtime})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Stamp())
	// Output:
	// 1718000000
}

func ExampleScan_git() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "/app/.git/HEAD", []byte("ref: refs/heads/main\n"), 0o644)
	afero.WriteFile(fsys, "/app/.git/refs/heads/main", []byte("9fceb02d0ae598e95dc970b74767f19372d61af8\n"), 0o644)
	afero.WriteFile(fsys, "/app/static/app.js", []byte("console.log(1)\n"), 0o644)

	snap, err := stampfs.Scan(fsys, "/app/static", &stampfs.ScanOptions{Strategy: stampfs.Git})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Stamp())
	// Output:
	// 9fceb02d0ae5
}

func ExampleScan_fixed() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "static/app.js", []byte("console.log(1)\n"), 0o644)

	snap, err := stampfs.Scan(fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1.4.2"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Stamp())

	_, err = stampfs.Scan(fsys, "static", &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "../v1"})
	fmt.Println(err)
	// Output:
	// v1.4.2
	// stampfs: bad stamp: fixed version "../v1" is not 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot
}

func ExampleSnapshot_Lookup() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "static/css/site.css", []byte("body{}\n"), 0o644)

	snap, err := stampfs.Scan(fsys, "static", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, ok := snap.Lookup("css/site.css")
	fmt.Println(f.Name, f.Size, ok)
	_, ok = snap.Lookup("css")
	fmt.Println(ok)
	// Output:
	// css/site.css 7 true
	// false
}
