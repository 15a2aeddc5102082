package stampfs_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"testing/fstest"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

func ExampleNew() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "static/css/site.css", []byte("body { margin: 0 }\n"), 0o644)

	h, err := stampfs.New(fsys, "static", &stampfs.Options{Mode: stampfs.ModeVirtual})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", h)

	u, _ := h.URL("css/site.css")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", u, nil))
	fmt.Println(u)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	// Output:
	// /static/dc7c4cab1fda/css/site.css
	// 200 public, max-age=31536000, immutable
}

func ExampleNewFS() {
	site := fstest.MapFS{ // an embed.FS works the same way
		"js/app.js": {Data: []byte("console.log('hi')\n")},
	}
	h, err := stampfs.NewFS(site, &stampfs.Options{Prefix: "/assets/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Stamp(), h.Mode())
	for _, path := range []string{"/assets/" + h.Stamp() + "/js/app.js", "/assets/js/app.js", "/assets/js/nope.js"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(w.Code, w.Header().Get("Cache-Control"), path)
	}
	// Output:
	// 11a71a425ee4 virtual
	// 200 public, max-age=31536000, immutable /assets/11a71a425ee4/js/app.js
	// 200 no-cache /assets/js/app.js
	// 404 no-store /assets/js/nope.js
}

func ExampleHandler_URL() {
	site := fstest.MapFS{"img/logo.svg": {Data: []byte("<svg/>")}}
	h, _ := stampfs.NewFS(site, &stampfs.Options{Base: "https://cdn.example.com"})

	u, err := h.URL("img/logo.svg")
	fmt.Println(u, err)
	_, err = h.URL("img/missing.svg")
	fmt.Println(err)
	// Output:
	// https://cdn.example.com/static/c5326bef67f8/img/logo.svg <nil>
	// url img/missing.svg: stampfs: unknown asset (file does not exist)
}

func ExampleHandler_FuncMap() {
	site := fstest.MapFS{"css/site.css": {Data: []byte("body{}")}}
	h, _ := stampfs.NewFS(site, nil)

	page := template.Must(template.New("page").Funcs(h.FuncMap()).Parse(
		`<link rel="stylesheet" href="{{static "css/site.css"}}" integrity="{{integrity "css/site.css"}}" crossorigin="anonymous">` + "\n"))
	if err := page.Execute(os.Stdout, nil); err != nil {
		fmt.Println(err)
	}

	broken := template.Must(template.New("broken").Funcs(h.FuncMap()).Parse(`{{static "css/old.css"}}`))
	fmt.Println(broken.Execute(os.Stdout, nil))
	// Output:
	// <link rel="stylesheet" href="/static/411fcd3461d1/css/site.css" integrity="sha384-myyg/hQ74aSgjBBvVME/QXAXEkT4Y9dHbVQ5C0lIyGpldvNLJV2IWc5ElXbqLi06" crossorigin="anonymous">
	// template: broken:1:2: executing "broken" at <static "css/old.css">: error calling static: url css/old.css: stampfs: unknown asset (file does not exist)
}
