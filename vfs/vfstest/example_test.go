package vfstest_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"syscall"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/vfs/vfstest"
)

func ExampleNewMemFS() {
	fsys := vfstest.NewMemFS()
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

func ExampleNewFaultFS() {
	fsys := vfstest.NewFaultFS(afero.NewMemMapFs())
	_ = afero.WriteFile(fsys, "static/a.css", []byte("a{}"), 0o644)

	// Fail the first rename onto static/b.css with a read-only file system.
	fsys.Inject(vfstest.Rule{Op: vfstest.OpRename, Path: "static/b.css", Nth: 1, Err: syscall.EROFS})
	err := fsys.Rename("static/a.css", "static/b.css")
	fmt.Println(err, errors.Is(err, syscall.EROFS))
	fmt.Println(fsys.Rename("static/a.css", "static/b.css"))

	// Fail every read of one file, as an unreadable file would.
	fsys.Inject(vfstest.Rule{Op: vfstest.OpRead, Path: "static/b.css", Err: fs.ErrPermission})
	_, err = afero.ReadFile(fsys, "static/b.css")
	fmt.Println(err)
	fmt.Println(fsys.Calls(vfstest.OpRename, ""), "renames,", fsys.Calls(vfstest.OpRead, "static/b.css"), "read")
	// Output:
	// rename static/a.css static/b.css: read-only file system true
	// <nil>
	// read static/b.css: permission denied
	// 2 renames, 1 read
}
