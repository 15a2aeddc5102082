package examples_test

import (
	"html/template"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/stampfs/stampfs"
)

// Example_gin mounts the handler on a gin engine with gin.WrapH, under a
// catch-all route that keeps the full path, and gives gin's HTML renderer the
// static helper.
func Example_gin() {
	gin.SetMode(gin.ReleaseMode) // debug mode prints every route to stdout
	static, err := stampfs.New(siteFS(), "static", nil)
	if err != nil {
		log.Fatal(err)
	}

	r := gin.New()
	r.SetHTMLTemplate(template.Must(template.New("index.html").Funcs(static.FuncMap()).Parse(pageText)))
	r.Any("/static/*path", gin.WrapH(static))
	r.GET("/", func(c *gin.Context) {
		c.HTML(http.StatusOK, "index.html", nil)
	})

	visit(r)
	// Output:
	// <link rel="stylesheet" href="/static/4ea07d9b390e/css/app.css">
	// GET /static/4ea07d9b390e/css/app.css: 200 public, max-age=31536000, immutable
	// body { color: #333; }
}
