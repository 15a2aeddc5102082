package examples_test

import (
	"html/template"
	"log"

	"github.com/labstack/echo/v4"

	"github.com/stampfs/stampfs"
)

// Example_echo mounts the handler on an echo server with echo.WrapHandler.
// Route every method to it (Any), so it answers 405 with its own Allow header,
// and keep the full path: no Group prefix stripping, no e.Static.
func Example_echo() {
	static, err := stampfs.New(siteFS(), "static", nil)
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("page").Funcs(static.FuncMap()).Parse(pageText))

	e := echo.New()
	e.Any("/static/*", echo.WrapHandler(static))
	e.GET("/", func(c echo.Context) error {
		return page.Execute(c.Response(), nil)
	})

	visit(e)
	// Output:
	// <link rel="stylesheet" href="/static/4ea07d9b390e/css/app.css">
	// GET /static/4ea07d9b390e/css/app.css: 200 public, max-age=31536000, immutable
	// body { color: #333; }
}
