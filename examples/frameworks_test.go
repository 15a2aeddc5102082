package examples_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// TestFrameworksPassTheFullPath checks that each framework's mount, as the
// examples write it, hands the handler the whole request: the full path (so
// stamped, unstamped and unknown paths get their own answers) and every method
// (so the handler, not the router, answers 405).
func TestFrameworksPassTheFullPath(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	mounts := map[string]func(h http.Handler) http.Handler{
		"net/http": func(h http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/static/", h)
			return mux
		},
		"chi": func(h http.Handler) http.Handler {
			r := chi.NewRouter()
			r.Handle("/static/*", h)
			return r
		},
		"echo": func(h http.Handler) http.Handler {
			e := echo.New()
			e.Any("/static/*", echo.WrapHandler(h))
			return e
		},
		"gin": func(h http.Handler) http.Handler {
			r := gin.New()
			r.Any("/static/*path", gin.WrapH(h))
			return r
		},
	}
	static, err := stampfs.New(siteFS(), "static", nil)
	require.NoError(t, err)
	stamped, err := static.URL("css/app.css")
	require.NoError(t, err)
	require.Equal(t, "/static/"+static.Stamp()+"/css/app.css", stamped)

	requests := []struct {
		name         string
		method, path string
		wantStatus   int
		wantCache    string
		wantAllow    string
	}{
		{name: "stamped GET", method: http.MethodGet, path: stamped, wantStatus: http.StatusOK, wantCache: "public, max-age=31536000, immutable"},
		{name: "stamped HEAD", method: http.MethodHead, path: stamped, wantStatus: http.StatusOK, wantCache: "public, max-age=31536000, immutable"},
		{name: "unstamped GET", method: http.MethodGet, path: "/static/css/app.css", wantStatus: http.StatusOK, wantCache: "no-cache"},
		{name: "unknown file", method: http.MethodGet, path: "/static/" + static.Stamp() + "/css/missing.css", wantStatus: http.StatusNotFound, wantCache: "no-store"},
		{name: "POST", method: http.MethodPost, path: stamped, wantStatus: http.StatusMethodNotAllowed, wantAllow: "GET, HEAD"},
	}
	for name, mount := range mounts {
		app := mount(static)
		for _, rq := range requests {
			t.Run(name+"/"+rq.name, func(t *testing.T) {
				w := httptest.NewRecorder()
				app.ServeHTTP(w, httptest.NewRequest(rq.method, rq.path, nil))
				assert.Equal(t, rq.wantStatus, w.Code)
				assert.Equal(t, rq.wantCache, w.Header().Get("Cache-Control"))
				assert.Equal(t, rq.wantAllow, w.Header().Get("Allow"))
			})
		}
	}
}
