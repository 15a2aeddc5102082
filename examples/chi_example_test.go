package examples_test

import (
	"html/template"
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stampfs/stampfs"
)

// Example_chi mounts the handler on a chi router. chi leaves r.URL.Path
// whole, so the handler sees /static/<stamp>/… as it expects.
func Example_chi() {
	static, err := stampfs.New(siteFS(), "static", nil)
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("page").Funcs(static.FuncMap()).Parse(pageText))

	r := chi.NewRouter()
	r.Handle("/static/*", static)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		if err := page.Execute(w, nil); err != nil {
			http.Error(w, "page failed", http.StatusInternalServerError)
		}
	})

	visit(r)
	// Output:
	// <link rel="stylesheet" href="/static/4ea07d9b390e/css/app.css">
	// GET /static/4ea07d9b390e/css/app.css: 200 public, max-age=31536000, immutable
	// body { color: #333; }
}
