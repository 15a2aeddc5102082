package vfs_test

import (
	"fmt"
	"io/fs"
	"log"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/vfs"
)

func ExampleNewMemFS() {
	fsys := vfs.NewMemFS()
	if err := fsys.MkdirAll("static/css", 0o755); err != nil {
		log.Fatal(err)
	}
	if err := afero.WriteFile(fsys, "static/css/site.css", []byte("body{margin:0}"), 0o644); err != nil {
		log.Fatal(err)
	}
	// The stamp link of symlink mode: static/v1 -> . (relative to static).
	if err := fsys.SymlinkIfPossible(".", "static/v1"); err != nil {
		log.Fatal(err)
	}

	data, err := afero.ReadFile(fsys, "static/v1/css/site.css")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", data)

	target, err := fsys.ReadlinkIfPossible("static/v1")
	if err != nil {
		log.Fatal(err)
	}
	fi, _, err := fsys.LstatIfPossible("static/v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fi.Mode().Type() == fs.ModeSymlink, target)
	// Output:
	// body{margin:0}
	// true .
}
