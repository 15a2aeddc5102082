package stampfs_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

const (
	immutable = "public, max-age=31536000, immutable"
	cssType   = "text/css; charset=utf-8"
	textPlain = "text/plain; charset=utf-8"
)

// site is the tree most tests serve.
var site = map[string]string{
	"css/a.css":       "body { color: red }\n",
	"js/app.js":       "console.log('hi')\n",
	"index.html":      "<!doctype html>\n",
	".env":            "SECRET=1\n",
	".git/config":     "[core]\n",
	"css/.hidden.css": "hidden\n",
}

// memFS writes files (name → content) under /static on a fresh MemMapFs.
func memFS(t *testing.T, files map[string]string) afero.Fs {
	t.Helper()
	fsys := afero.NewMemMapFs()
	for name, body := range files {
		require.NoError(t, afero.WriteFile(fsys, "/static/"+name, []byte(body), 0o644))
	}
	return fsys
}

// newHandler serves files from memory with opts.
func newHandler(t *testing.T, files map[string]string, opts *stampfs.Options) *stampfs.Handler {
	t.Helper()
	h, err := stampfs.New(memFS(t, files), "/static", opts)
	require.NoError(t, err)
	return h
}

// etag is the ETag the handler must send for body.
func etag(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// do runs one request against h and returns the recorded response.
func do(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// want is what a test expects of a response: the status, the body and the
// exact values of the listed headers ("" means absent).
type want struct {
	status int
	body   string
	header map[string]string
}

func check(t *testing.T, w *httptest.ResponseRecorder, wt want) {
	t.Helper()
	assert.Equal(t, wt.status, w.Code, "status")
	assert.Equal(t, wt.body, w.Body.String(), "body")
	for k, v := range wt.header {
		assert.Equal(t, v, w.Header().Get(k), "header %s", k)
	}
}

func notFoundWant() want {
	return want{status: 404, body: "404 page not found\n", header: map[string]string{
		"Cache-Control": "no-store", "Content-Type": textPlain, "X-Content-Type-Options": "nosniff",
		"ETag": "", "Content-Encoding": "", "Location": "", "Vary": "",
	}}
}

func TestURL(t *testing.T) {
	files := map[string]string{"css/a.css": "a", "img/a b+c.png": "p", "css/a.css.gz": "z"}
	tests := []struct {
		name string
		opts *stampfs.Options
		in   string
		want string // {s} is the stamp
	}{
		{"default prefix", nil, "css/a.css", "/static/{s}/css/a.css"},
		{"leading slash", nil, "/css/a.css", "/static/{s}/css/a.css"},
		{"escaped", nil, "img/a b+c.png", "/static/{s}/img/a%20b+c.png"},
		{"prefix", &stampfs.Options{Prefix: "/assets/v/"}, "css/a.css", "/assets/v/{s}/css/a.css"},
		{"root prefix", &stampfs.Options{Prefix: "/"}, "css/a.css", "/{s}/css/a.css"},
		{"base", &stampfs.Options{Base: "https://cdn.example.com/"}, "css/a.css", "https://cdn.example.com/static/{s}/css/a.css"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, files, tt.opts)
			got, err := h.URL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, strings.ReplaceAll(tt.want, "{s}", h.Stamp()), got)
		})
	}
	h := newHandler(t, files, nil)
	for _, bad := range []string{"", "css", "css/", "css/b.css", "./css/a.css", "//css/a.css", "../css/a.css", ".env", "css/a.css.gz"} {
		t.Run("unknown "+bad, func(t *testing.T) {
			got, err := h.URL(bad)
			assert.Empty(t, got)
			assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, bad, pe.Path)
		})
	}
	t.Run("served", func(t *testing.T) {
		h := newHandler(t, files, &stampfs.Options{Prefix: "/p/"})
		u, err := h.URL("img/a b+c.png")
		require.NoError(t, err)
		r := httptest.NewRequest("GET", u, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "p", w.Body.String())
		assert.Equal(t, immutable, w.Header().Get("Cache-Control"))
	})
}

func TestIntegrity(t *testing.T) {
	big := strings.Repeat("y", 1000)
	fsys := memFS(t, map[string]string{"a.js": "alert(1)", "big.js": big})
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{MemoryFileLimit: 100})
	require.NoError(t, err)
	for name, body := range map[string]string{"a.js": "alert(1)", "big.js": big} {
		sum := sha512.Sum384([]byte(body))
		got, err := h.Integrity(name)
		require.NoError(t, err)
		assert.Equal(t, "sha384-"+base64.StdEncoding.EncodeToString(sum[:]), got)
	}
	_, err = h.Integrity("nope.js")
	assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)

	// A streamed file's value is computed from its stored bytes when first
	// asked for, and checked against the SHA-256 its version recorded: a
	// stored file changed since it was published has no value at all.
	h, err = stampfs.New(fsys, "/static", &stampfs.Options{MemoryFileLimit: 100})
	require.NoError(t, err)
	require.NoError(t, afero.WriteFile(fsys, "/static/.stampfs/"+h.Stamp()+"/big.js", []byte(strings.Repeat("z", 1000)), 0o644))
	got, err := h.Integrity("big.js")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "big.js")
	assert.Empty(t, got)

	// Without a store, a streamed live file that changed since the scan has
	// no trustworthy value.
	h, err = stampfs.New(afero.NewReadOnlyFs(fsys), "/static", &stampfs.Options{MemoryFileLimit: 100})
	require.NoError(t, err)
	require.NoError(t, afero.WriteFile(fsys, "/static/big.js", []byte(strings.Repeat("z", 1000)), 0o644))
	_, err = h.Integrity("big.js")
	assert.ErrorContains(t, err, "changed since the scan")
}

func TestFuncMap(t *testing.T) {
	h := newHandler(t, map[string]string{"css/site.css": "body{}"}, nil)
	sri, err := h.Integrity("css/site.css")
	require.NoError(t, err)

	page := template.Must(template.New("page").Funcs(h.FuncMap()).Parse(
		`<link rel=stylesheet href="{{static "css/site.css"}}" integrity="{{integrity "css/site.css"}}">`))
	var b strings.Builder
	require.NoError(t, page.Execute(&b, nil))
	assert.Equal(t, `<link rel=stylesheet href="/static/`+h.Stamp()+`/css/site.css" integrity="`+sri+`">`, b.String())

	missing := template.Must(template.New("page").Funcs(h.FuncMap()).Parse(`<script src="{{static "js/gone.js"}}"></script>`))
	err = missing.Execute(io.Discard, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
	assert.Contains(t, err.Error(), `js/gone.js`)
	assert.Contains(t, err.Error(), `unknown asset`)
}

func TestNewOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts stampfs.Options
		msg  string
	}{
		{"prefix without leading slash", stampfs.Options{Prefix: "static/"}, `Prefix "static/"`},
		{"prefix without trailing slash", stampfs.Options{Prefix: "/static"}, `Prefix "/static"`},
		{"prefix with dot dot", stampfs.Options{Prefix: "/a/../static/"}, `Prefix "/a/../static/" must be a clean path`},
		{"prefix with double slash", stampfs.Options{Prefix: "//static/"}, `Prefix "//static/" must be a clean path`},
		{"prefix with a space", stampfs.Options{Prefix: "/my assets/"}, `Prefix "/my assets/" must be a clean path`},
		{"base", stampfs.Options{Base: "cdn.example.com"}, `Base "cdn.example.com"`},
		{"mode", stampfs.Options{Mode: "hard"}, `Mode "hard"`},
		{"stale", stampfs.Options{Stale: "ignore"}, `Stale policy "ignore"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := stampfs.New(memFS(t, site), "/static", &tt.opts)
			assert.Nil(t, h)
			assert.ErrorContains(t, err, tt.msg)
			assert.ErrorIs(t, err, fs.ErrInvalid)
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		_, err := stampfs.New(afero.NewMemMapFs(), "/nowhere", nil)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		var pe *fs.PathError
		assert.ErrorAs(t, err, &pe)
	})
	t.Run("NewFS symlink mode", func(t *testing.T) {
		_, err := stampfs.NewFS(fstest.MapFS{}, &stampfs.Options{Mode: stampfs.ModeSymlink})
		assert.ErrorIs(t, err, stampfs.ErrSymlinkUnsupported)
	})
}

func TestNewFS(t *testing.T) {
	fsys := fstest.MapFS{
		"css/a.css": {Data: []byte(site["css/a.css"])},
		".env":      {Data: []byte("SECRET")},
		"big.bin":   {Data: bytes.Repeat([]byte{1}, 100)},
	}
	h, err := stampfs.NewFS(fsys, &stampfs.Options{MemoryFileLimit: 10})
	require.NoError(t, err)
	assert.Equal(t, stampfs.ModeVirtual, h.Mode())
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/a.css"), want{status: 200, body: site["css/a.css"], header: map[string]string{"Cache-Control": immutable, "ETag": etag(site["css/a.css"])}})
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/big.bin", "Range", "bytes=98-"), want{status: 206, body: "\x01\x01"})
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/.env"), notFoundWant())
}

// TestOSSymlinkSwap: a served file swapped for a link to a file outside the
// directory after the scan, in the live tree or in the store, yields 404 or
// the version's bytes, never the outside file.
func TestOSSymlinkSwap(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "static")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "css"), 0o755))
	secret := filepath.Join(tmp, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("TOP SECRET"), 0o600))
	big := strings.Repeat("b", 2000)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "small.css"), []byte("small"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "css", "big.css"), []byte(big), 0o644))

	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryFileLimit: 1000})
	require.NoError(t, err)
	version := filepath.Join(dir, ".stampfs", h.Stamp())
	for _, root := range []string{dir, version} {
		for _, name := range []string{"small.css", "big.css"} {
			p := filepath.Join(root, "css", name)
			require.NoError(t, os.Remove(p))
			require.NoError(t, os.Symlink(secret, p))
		}
		// The directory itself swapped for a link out of the tree.
		moved := filepath.Join(tmp, "css-moved-"+filepath.Base(root))
		require.NoError(t, os.Rename(filepath.Join(root, "css"), moved))
		require.NoError(t, os.Symlink(moved, filepath.Join(root, "css")))

		for _, p := range []string{"/static/" + h.Stamp() + "/css/small.css", "/static/" + h.Stamp() + "/css/big.css", "/static/css/big.css"} {
			w := do(t, h, "GET", p)
			assert.NotContains(t, w.Body.String(), "SECRET", p)
			assert.Contains(t, []int{200, 404}, w.Code, p)
			if w.Code == 200 {
				assert.Contains(t, []string{"small", big}, w.Body.String(), p)
			}
		}
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/small.css"), want{status: 200, body: "small"})
		if root == dir {
			check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/big.css"), want{status: 200, body: big})
		} else {
			check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/css/big.css"), notFoundWant())
		}
	}
}

func TestModes(t *testing.T) {
	t.Run("auto on the OS makes a link", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a1"), 0o644))
		h, err := stampfs.New(afero.NewOsFs(), dir, nil)
		require.NoError(t, err)
		assert.Equal(t, stampfs.ModeSymlink, h.Mode())
		target, err := os.Readlink(filepath.Join(dir, h.Stamp()))
		require.NoError(t, err)
		assert.Equal(t, ".stampfs/"+h.Stamp(), target)
		got, err := os.ReadFile(filepath.Join(dir, h.Stamp(), "a.css"))
		require.NoError(t, err)
		assert.Equal(t, "a1", string(got))

		old := h.Stamp()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a2"), 0o644))
		require.NoError(t, h.Refresh())
		require.NotEqual(t, old, h.Stamp())
		_, err = os.Readlink(filepath.Join(dir, h.Stamp()))
		assert.NoError(t, err, "Refresh links the new stamp")
		got, err = os.ReadFile(filepath.Join(dir, old, "a.css"))
		require.NoError(t, err, "the old link survives its grace period")
		assert.Equal(t, "a1", string(got), "and serves its own bytes")
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"Cache-Control": immutable}})
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/"+old+"/a.css"), notFoundWant())
	})
	t.Run("virtual on the OS makes no link", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("a1"), 0o644))
		h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
		require.NoError(t, err)
		assert.Equal(t, stampfs.ModeVirtual, h.Mode())
		_, err = os.Lstat(filepath.Join(dir, h.Stamp()))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("auto without symlinks falls back to virtual", func(t *testing.T) {
		h := newHandler(t, site, nil)
		assert.Equal(t, stampfs.ModeVirtual, h.Mode())
	})
	t.Run("symlink without symlinks fails", func(t *testing.T) {
		h, err := stampfs.New(memFS(t, site), "/static", &stampfs.Options{Mode: stampfs.ModeSymlink})
		assert.Nil(t, h)
		assert.ErrorIs(t, err, stampfs.ErrSymlinkUnsupported)
	})
}

func TestNewFSRefresh(t *testing.T) {
	fsys := fstest.MapFS{"a.css": {Data: []byte("a1")}}
	h, err := stampfs.NewFS(fsys, nil)
	require.NoError(t, err)
	old := h.Stamp()
	fsys["a.css"] = &fstest.MapFile{Data: []byte("a2")}
	require.NoError(t, h.Refresh())
	assert.NotEqual(t, old, h.Stamp())
	check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"Cache-Control": immutable}})
	check(t, do(t, h, "GET", "/static/"+old+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"Cache-Control": "no-cache"}})
}

// TestRefreshOSRoot: on the OS, Refresh keeps one descriptor for the
// directory while it stays the same, and follows its name to a directory
// that replaced it.
func TestRefreshOSRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	write := func(body string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte(body), 0o644))
	}
	write("a1")
	// Nothing held in memory: every request opens the file through the root.
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual, MemoryLimit: -1})
	require.NoError(t, err)

	t.Run("one descriptor", func(t *testing.T) {
		count := func() int {
			fds, err := os.ReadDir("/proc/self/fd")
			if err != nil {
				t.Skipf("cannot count descriptors here: %v", err)
			}
			return len(fds)
		}
		// The collector would close unreachable roots and hide a leak.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		before := count()
		for range 50 {
			require.NoError(t, h.Refresh())
		}
		assert.Less(t, count()-before, 10, "descriptors left behind by 50 Refresh calls")
	})
	t.Run("replaced directory", func(t *testing.T) {
		require.NoError(t, os.Rename(dir, dir+".old"))
		write("a2") // the same size: only the bytes tell the directories apart
		require.NoError(t, h.Refresh())
		check(t, do(t, h, "GET", "/static/"+h.Stamp()+"/a.css"), want{status: 200, body: "a2", header: map[string]string{"ETag": etag("a2")}})
	})
}

// TestNewFSUnseekable: files of an fs.FS that can neither seek nor ReadAt
// (a zip archive's) are sent whole, with the same policy headers, 304 and
// 412 included, and no Accept-Ranges.
func TestNewFSUnseekable(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"css/a.css": "plain", "css/a.css.gz": "gzipped", "js/app.js": "app"} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = io.WriteString(w, body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	f, err := zr.Open("js/app.js")
	require.NoError(t, err)
	_, seeks := f.(io.Seeker)
	_, readsAt := f.(io.ReaderAt)
	f.Close()
	require.False(t, seeks || readsAt, "zip files seek now: this test no longer reaches the streaming path")

	h, err := stampfs.NewFS(zr, &stampfs.Options{MemoryLimit: -1})
	require.NoError(t, err)
	s := "/static/" + h.Stamp() + "/"
	whole := want{status: 200, body: "app", header: map[string]string{
		"Cache-Control": immutable, "ETag": etag("app"), "Content-Length": "3", "Accept-Ranges": "",
		"Content-Type": "text/javascript; charset=utf-8", "X-Content-Type-Options": "nosniff",
	}}
	tests := []struct {
		name, method, path string
		header             []string
		want               want
	}{
		{"GET", "GET", s + "js/app.js", nil, whole},
		{"HEAD", "HEAD", s + "js/app.js", nil, want{status: 200, header: map[string]string{"Content-Length": "3", "ETag": etag("app")}}},
		{"Range is ignored", "GET", s + "js/app.js", []string{"Range", "bytes=0-0"}, whole},
		{"If-None-Match", "GET", s + "js/app.js", []string{"If-None-Match", "W/" + etag("app")}, want{status: 304, header: map[string]string{"ETag": etag("app"), "Content-Type": "", "Content-Length": ""}}},
		{"If-Match other", "GET", s + "js/app.js", []string{"If-Match", `"x"`}, want{status: 412, header: map[string]string{"Cache-Control": "no-store", "Content-Length": "0"}}},
		{"unstamped", "GET", "/static/js/app.js", nil, want{status: 200, body: "app", header: map[string]string{"Cache-Control": "no-cache"}}},
		{"gzip", "GET", s + "css/a.css", []string{"Accept-Encoding", "gzip"}, want{status: 200, body: "gzipped", header: map[string]string{
			"Content-Encoding": "gzip", "Content-Length": "7", "Vary": "Accept-Encoding", "ETag": etag("gzipped"), "Content-Type": cssType,
		}}},
		{"gzip 304", "GET", s + "css/a.css", []string{"Accept-Encoding", "gzip", "If-None-Match", etag("gzipped")}, want{status: 304, header: map[string]string{
			"Content-Encoding": "", "Vary": "Accept-Encoding",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, do(t, h, tt.method, tt.path, tt.header...), tt.want)
		})
	}
}

// TestMountedWrongWarnsOnce: behind http.StripPrefix (or at another prefix)
// every request misses the prefix; the Handler says so once.
func TestMountedWrongWarnsOnce(t *testing.T) {
	var log strings.Builder
	h, err := stampfs.New(memFS(t, site), "/static", &stampfs.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	require.NoError(t, err)
	stripped := http.StripPrefix("/static", h)
	for range 3 {
		w := httptest.NewRecorder()
		stripped.ServeHTTP(w, httptest.NewRequest("GET", "/static/"+h.Stamp()+"/css/a.css", nil))
		assert.Equal(t, 404, w.Code)
	}
	assert.Equal(t, 1, strings.Count(log.String(), "a request outside Prefix"), log.String())
	assert.Contains(t, log.String(), "without http.StripPrefix")
}

func TestNewNilFS(t *testing.T) {
	h, err := stampfs.New(nil, "static", nil)
	assert.Nil(t, h)
	assert.ErrorIs(t, err, fs.ErrInvalid)
}
