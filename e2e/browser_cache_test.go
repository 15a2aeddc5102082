package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// The assets of the caching tests, before and after a deploy. The colours
// tell the states apart in a screenshot; the order value in a test.
const (
	cacheStyle1 = "body { order: 7; background: teal; }\n"
	cacheStyle2 = "body { order: 8; background: navy; }\n"
	cacheScript = `document.body.dataset.script = "ran";` + "\n"
)

// cachePage is the page of the caching tests; asset and sri resolve a name
// to its stamped URL and integrity value.
const cachePage = `<!doctype html>
<html><head><title>stampfs cache</title>
<link rel="stylesheet" href="{{asset "css/app.css"}}" integrity="{{sri "css/app.css"}}">
</head><body><h1>stampfs</h1>
<script src="{{asset "js/app.js"}}" integrity="{{sri "js/app.js"}}"></script>
</body></html>
`

// browserState is what the page shows: the stylesheet applied (its order
// value, "0" when refused), whether the script ran, and the stylesheet URL.
type browserState struct {
	Order  string `json:"order"`
	Script string `json:"script"`
	CSS    string `json:"css"`
}

// cacheBrowser drives one headless Chromium through the DevTools protocol.
// Each state it records has a screenshot, written out when the test fails.
type cacheBrowser struct {
	t     *testing.T
	ctx   context.Context // the first tab, which started the browser
	shots []struct {
		name string
		png  []byte
	}
}

func newCacheBrowser(t *testing.T) *cacheBrowser {
	t.Helper()
	chromium := findProgram(t, "chromium")
	profile, err := os.MkdirTemp("", "stampfs-chromedp-")
	require.NoError(t, err)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.UserDataDir(profile),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.WindowSize(800, 600))...)
	ctx, cancel := chromedp.NewContext(alloc)
	b := &cacheBrowser{t: t, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			b.writeShots()
		}
		for range 20 { // Chromium's helpers may write for a moment after it exits
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return b
}

// freshTab returns a tab in a new browser context: an empty cache, as a
// visitor who never came before.
func (b *cacheBrowser) freshTab() context.Context {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	// The first run makes the tab, which lives as long as its context: no
	// timeout on this one.
	require.NoError(b.t, chromedp.Do(ctx), "new tab")
	return ctx
}

// run runs steps on tab within 30 s, then records the page's state and a
// screenshot under name.
func (b *cacheBrowser) run(tab context.Context, name string, steps ...chromedp.Action[chromedp.Void]) browserState {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...), name)
	st, err := chromedp.Run(ctx, chromedp.Evaluate[browserState](`({
		order: getComputedStyle(document.body).order,
		script: document.body.dataset.script || "",
		css: document.querySelector('link[rel=stylesheet]').getAttribute('href'),
	})`))
	require.NoError(b.t, err, name)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err, name)
	b.shots = append(b.shots, struct {
		name string
		png  []byte
	}{name, png})
	return st
}

func (b *cacheBrowser) writeShots() {
	dir, err := os.MkdirTemp("", "stampfs-screenshots-")
	if err != nil {
		b.t.Logf("screenshots: %v", err)
		return
	}
	for i, s := range b.shots {
		path := filepath.Join(dir, strings.ReplaceAll(strings.ToLower(b.t.Name()), "/", "-")+"-"+string(rune('0'+i))+"-"+s.name+".png")
		if err := os.WriteFile(path, s.png, 0o644); err != nil {
			b.t.Logf("screenshot %s: %v", s.name, err)
		}
	}
	b.t.Logf("screenshots of each state in %s", dir)
}

// cacheSite is the site under test: where its page is, how many requests
// for a path its server saw, and how a deploy changes its stylesheet.
type cacheSite struct {
	base     string
	requests func(path string) int
	deploy   func() // write cacheStyle2 and publish (link, or Refresh)
	oldPage  string // a path that serves the page as rendered before the deploy
}

// testBrowserCaching proves the caching with a real browser: the first load
// fetches the stamped stylesheet and script, a reload fetches neither while
// the page revalidates, a deploy gives the reloaded page the new stamp and
// style, and a page rendered before the deploy still gets its old
// stylesheet's exact bytes, which its integrity check accepts.
func testBrowserCaching(t *testing.T, site cacheSite) {
	b := newCacheBrowser(t)
	tab := b.freshTab()

	st := b.run(tab, "first-load", chromedp.Navigate(site.base+"/"))
	assert.Equal(t, browserState{Order: "7", Script: "ran", CSS: st.CSS}, st)
	css1 := st.CSS
	require.Regexp(t, browserStamped, css1)
	js1 := strings.Replace(css1, "css/app.css", "js/app.js", 1)
	assert.Equal(t, 1, site.requests("/"), "page")
	assert.Equal(t, 1, site.requests(css1), "stylesheet")
	assert.Equal(t, 1, site.requests(js1), "script")

	st = b.run(tab, "reload", chromedp.Reload())
	assert.Equal(t, browserState{Order: "7", Script: "ran", CSS: css1}, st)
	assert.Equal(t, 2, site.requests("/"), "the page revalidates on a reload")
	assert.Equal(t, 1, site.requests(css1), "the immutable stylesheet comes from the cache")
	assert.Equal(t, 1, site.requests(js1), "the immutable script comes from the cache")

	site.deploy()
	st = b.run(tab, "after-deploy", chromedp.Reload())
	assert.Equal(t, "8", st.Order, "the new style")
	assert.Equal(t, "ran", st.Script)
	assert.NotEqual(t, css1, st.CSS, "a new stamp")
	assert.Equal(t, 1, site.requests(st.CSS), "the new stylesheet, once")
	assert.Equal(t, 1, site.requests(js1), "the script's stamp changed too, but not its bytes")

	st = b.run(b.freshTab(), "old-page", chromedp.Navigate(site.base+site.oldPage))
	assert.Equal(t, browserState{Order: "7", Script: "ran", CSS: css1}, st,
		"the old page's stylesheet: its old bytes, which pass its integrity check")
}

// counter counts requests by path (the URL path as sent, escaped).
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[path]++
}

func (c *counter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// writeCacheAssets writes the stylesheet and script of the caching tests.
func writeCacheAssets(t *testing.T, dir, style string) {
	t.Helper()
	writeTree(t, dir, map[string]string{"css/app.css": style, "js/app.js": cacheScript})
}

// servePage answers a GET of a page as a Go app would: no-cache, with an
// ETag, 304 when it matches.
func servePage(w http.ResponseWriter, r *http.Request, page []byte) {
	sum := sha256.Sum256(page)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(page)
}

// TestBrowserCachingGoHandler: the page and its assets through the Go
// handler, a deploy through Refresh, which publishes a version.
func TestBrowserCachingGoHandler(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	writeCacheAssets(t, dir, cacheStyle1)
	h, err := stampfs.New(afero.NewOsFs(), dir, nil)
	require.NoError(t, err)
	page := template.Must(template.New("page").Funcs(template.FuncMap{
		"asset": h.FuncMap()["static"], "sri": h.FuncMap()["integrity"],
	}).Parse(cachePage))
	render := func() []byte {
		var b bytes.Buffer
		require.NoError(t, page.Execute(&b, nil))
		return b.Bytes()
	}
	var old []byte
	var n counter
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { servePage(w, r, render()) })
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) { servePage(w, r, old) })
	mux.Handle("/static/", h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.add(r.URL.EscapedPath())
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	testBrowserCaching(t, cacheSite{
		base:     srv.URL,
		requests: n.get,
		deploy: func() {
			old = render()
			writeFile(t, filepath.Join(dir, "css", "app.css"), []byte(cacheStyle2))
			require.NoError(t, h.Refresh())
		},
		oldPage: "/old",
	})
}

// TestBrowserCachingNginx: the page and its assets through nginx with the
// locations "stampfs nginx" prints, the page rendered from the manifest as
// a non-Go app would, a deploy through publishing a new version.
func TestBrowserCachingNginx(t *testing.T) {
	nginx := findProgram(t, "nginx", "/usr/sbin/nginx")
	findProgram(t, "chromium")
	bin := stampfsBin(t)
	root := t.TempDir()
	dir := filepath.Join(root, "static")
	pages := filepath.Join(root, "pages")
	writeCacheAssets(t, dir, cacheStyle1)
	render := func(m *stampfs.Manifest, name string) {
		t.Helper()
		page := template.Must(template.New("page").Funcs(template.FuncMap{
			"asset": func(n string) string { return m.Files[n].URL },
			"sri":   func(n string) string { return m.Files[n].Integrity },
		}).Parse(cachePage))
		var b bytes.Buffer
		require.NoError(t, page.Execute(&b, nil))
		writeFile(t, filepath.Join(pages, name+".tmp"), b.Bytes())
		require.NoError(t, os.Rename(filepath.Join(pages, name+".tmp"), filepath.Join(pages, name)))
	}
	m1 := publishVersion(t, dir)
	render(m1, "index.html")
	block := runStampfs(t, bin, "nginx", dir) + `
location = / {
    root "` + pages + `";
    try_files /index.html =404;
    add_header Cache-Control "no-cache";
}
location = /old {
    root "` + pages + `";
    try_files /old.html =404;
    add_header Cache-Control "no-cache";
}
`
	base := startNginx(t, nginx, root, block)
	accessLog := filepath.Join(root, "nginx", "access.log")
	requests := func(path string) int {
		data, err := os.ReadFile(accessLog)
		require.NoError(t, err)
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if _, p, ok := strings.Cut(line, " "); ok && p == path {
				n++
			}
		}
		return n
	}

	testBrowserCaching(t, cacheSite{
		base:     base,
		requests: requests,
		deploy: func() {
			render(m1, "old.html")
			writeFile(t, filepath.Join(dir, "css", "app.css"), []byte(cacheStyle2))
			render(publishVersion(t, dir), "index.html")
		},
		oldPage: "/old",
	})
}
