package e2e_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// browserImmutable is the Cache-Control of every stamped asset.
const browserImmutable = "public, max-age=31536000, immutable"

// browserStamped matches the /static/<stamp>/ part of a stamped URL path.
var browserStamped = regexp.MustCompile(`^/static/[0-9A-Za-z_-][0-9A-Za-z._-]{0,63}/`)

// The assets of browserSite. Each tampered copy differs in bytes the browser
// would act on, so a browser that skipped the integrity check would show it.
const (
	browserScript         = `document.body.dataset.script = "ran";` + "\n"
	browserScriptTampered = `document.body.dataset.script = "bad";` + "\n"
	browserStyle          = "body { order: 7; }\n"
	browserStyleTampered  = "body { order: 8; }\n"
)

// browserPage is the page of browserSite, using the handler's template
// functions static and integrity.
const browserPage = `<!doctype html>
<html><head><title>stampfs SRI</title>
<link rel="stylesheet" href="{{static "app.css"}}" integrity="{{integrity "app.css"}}">
</head><body>
<script src="{{static "app.js"}}" integrity="{{integrity "app.js"}}"></script>
<script>document.body.dataset.order = getComputedStyle(document.body).order;</script>
</body></html>
`

// browserSite serves a page whose stylesheet and script carry the integrity
// values of stampfs's Handler, through that handler, with the bytes of the
// asset named tamper (if any) replaced on the way out, as a broken proxy or a
// compromised CDN would.
func browserSite(t *testing.T, tamper string) *httptest.Server {
	t.Helper()
	h, err := stampfs.NewFS(fstest.MapFS{
		"app.js":  {Data: []byte(browserScript)},
		"app.css": {Data: []byte(browserStyle)},
	}, nil)
	require.NoError(t, err)
	page, err := template.New("page").Funcs(h.FuncMap()).Parse(browserPage)
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, nil); err != nil {
			t.Errorf("page: %v", err)
		}
	})
	mux.Handle("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tamper == "" || !strings.HasSuffix(r.URL.Path, "/"+tamper) {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.String()
		body = strings.Replace(body, browserScript, browserScriptTampered, 1)
		body = strings.Replace(body, browserStyle, browserStyleTampered, 1)
		if body == rec.Body.String() {
			t.Errorf("tamper %s: nothing replaced in %q", r.URL.Path, body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write([]byte(body))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserEnforcesIntegrity proves the integrity values are real: Chromium
// applies the stylesheet and runs the script stampfs stamped, and refuses
// either one when its bytes were changed after the page was rendered.
func TestBrowserEnforcesIntegrity(t *testing.T) {
	chromium := findProgram(t, "chromium")
	tests := []struct {
		name       string
		tamper     string
		wantScript string // data-script: "ran", or "" when the script was refused
		wantOrder  string // data-order: "7" when the stylesheet applied, "0" when refused
	}{
		{name: "intact", tamper: "", wantScript: "ran", wantOrder: "7"},
		{name: "script tampered", tamper: "app.js", wantScript: "", wantOrder: "7"},
		{name: "stylesheet tampered", tamper: "app.css", wantScript: "ran", wantOrder: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := browserSite(t, tt.tamper)
			dom := browserDumpDOM(t, chromium, srv.URL+"/")
			data := browserBodyData(t, dom)
			assert.Equal(t, tt.wantScript, data["script"], "DOM:\n%s", dom)
			assert.Equal(t, tt.wantOrder, data["order"], "DOM:\n%s", dom)

			scripts, styles := browserAssets(dom)
			require.Len(t, scripts, 1)
			require.Len(t, styles, 1)
			for _, tag := range append(scripts, styles...) {
				assert.Regexp(t, browserStamped, tag.URL)
				resp, _ := get(t, browserAbs(srv.URL, tag.URL))
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, browserImmutable, resp.Header.Get("Cache-Control"))
			}
		})
	}
}
