package examples_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/spf13/afero"
)

// siteFS returns an in-memory static directory "static" holding one
// stylesheet, so the examples run anywhere. A real site passes
// afero.NewOsFs() instead.
func siteFS() afero.Fs {
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, "static/css/app.css", []byte("body { color: #333; }\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	return fsys
}

// pageText is the page every example renders with the static helper.
const pageText = `<link rel="stylesheet" href="{{static "css/app.css"}}">`

// visit does what a browser does with app: it gets the page, prints it, and
// gets the stylesheet the page links to, printing its status, Cache-Control
// and body.
func visit(app http.Handler) {
	page := get(app, "/")
	fmt.Println(page.Body.String())
	href := regexp.MustCompile(`href="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if href == nil {
		fmt.Println("no stylesheet in the page")
		return
	}
	css := get(app, href[1])
	body, _ := io.ReadAll(css.Body)
	fmt.Printf("GET %s: %d %s\n%s", href[1], css.Code, css.Header().Get("Cache-Control"), body)
}

// get serves one GET of path through app.
func get(app http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}
