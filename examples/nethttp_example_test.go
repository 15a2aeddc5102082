package examples_test

import (
	"html/template"
	"log"
	"net/http"

	"github.com/stampfs/stampfs"
)

// Example_netHTTP mounts the handler on a standard library ServeMux at
// /static/, the prefix it reads, without http.StripPrefix.
func Example_netHTTP() {
	static, err := stampfs.New(siteFS(), "static", nil)
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("page").Funcs(static.FuncMap()).Parse(pageText))

	mux := http.NewServeMux()
	mux.Handle("/static/", static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if err := page.Execute(w, nil); err != nil {
			http.Error(w, "page failed", http.StatusInternalServerError)
		}
	})

	visit(mux)
	// Output:
	// <link rel="stylesheet" href="/static/4ea07d9b390e/css/app.css">
	// GET /static/4ea07d9b390e/css/app.css: 200 public, max-age=31536000, immutable
	// body { color: #333; }
}
