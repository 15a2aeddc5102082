package vfs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"testing/fstest"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs/vfs"
)

func ExampleAferoFS() {
	mem := afero.NewMemMapFs()
	_ = afero.WriteFile(mem, "css/site.css", []byte("body{}"), 0o644)
	_ = afero.WriteFile(mem, "app.js", []byte("run()"), 0o644)

	fsys := vfs.AferoFS(mem)
	_ = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		fmt.Println(name)
		return err
	})
	data, _ := fs.ReadFile(fsys, "css/site.css")
	fmt.Printf("%s\n", data)

	_, err := fsys.Open("../etc/passwd")
	fmt.Println(err)
	_, err = fsys.Open("css/missing.css")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// .
	// app.js
	// css
	// css/site.css
	// body{}
	// open ../etc/passwd: invalid argument
	// true
}

func ExamplePrefix() {
	static := fstest.MapFS{
		"css/site.css": {Data: []byte("body{}")},
	}
	fsys, err := vfs.Prefix(static, "e3b0c44298fc")
	if err != nil {
		panic(err)
	}
	entries, _ := fs.ReadDir(fsys, ".")
	fmt.Println(entries[0].Name(), len(entries))
	data, _ := fs.ReadFile(fsys, "e3b0c44298fc/css/site.css")
	fmt.Printf("%s\n", data)
	_, err = fs.ReadFile(fsys, "css/site.css")
	fmt.Println(err)

	_, err = vfs.Prefix(static, "..")
	fmt.Println(err)
	// Output:
	// e3b0c44298fc 1
	// body{}
	// read css/site.css: file does not exist
	// prefix ..: invalid argument
}

// ExamplePrefix_serve serves a tree under /static/<stamp>/ without a symlink.
func ExamplePrefix_serve() {
	static := fstest.MapFS{
		"css/site.css": {Data: []byte("body{}")},
	}
	fsys, _ := vfs.Prefix(static, "v1.2.3")
	handler := http.StripPrefix("/static/", http.FileServerFS(fsys))

	for _, url := range []string{"/static/v1.2.3/css/site.css", "/static/css/site.css"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		fmt.Println(url, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /static/v1.2.3/css/site.css 200 text/css; charset=utf-8
	// /static/css/site.css 404 text/plain; charset=utf-8
}
