package stampfs_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// TestRefreshAtomic hammers a handler with requests while Refresh flips the
// directory between two versions: every response is whole and consistent
// with one snapshot, and immutable caching only ever covers the bytes that
// belong to the stamp in the URL.
func TestRefreshAtomic(t *testing.T) {
	versions := []map[string]string{
		{"a.css": "A1", "b.js": "B1"},
		{"a.css": "A2", "b.js": "B2"},
	}
	fsys := afero.NewMemMapFs()
	write := func(v int) {
		for name, body := range versions[v] {
			require.NoError(t, afero.WriteFile(fsys, "/static/"+name, []byte(body), 0o644))
		}
	}
	stampOf := map[string]int{}
	for v := range versions {
		write(v)
		h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
		require.NoError(t, err)
		stampOf[h.Stamp()] = v
	}
	require.Len(t, stampOf, 2)
	h, err := stampfs.New(fsys, "/static", &stampfs.Options{Mode: stampfs.ModeVirtual})
	require.NoError(t, err)

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		for i := range 200 {
			write(i % 2)
			assert.NoError(t, h.Refresh())
		}
	}()
	var served atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				u, err := h.URL("a.css")
				if !assert.NoError(t, err) {
					return
				}
				stamp := strings.Split(u, "/")[2]
				v, known := stampOf[stamp]
				assert.True(t, known, "URL %s has a stamp of neither version", u)
				for _, name := range []string{"a.css", "b.js"} {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", "/static/"+stamp+"/"+name, nil))
					body := w.Body.String()
					assert.Equal(t, 200, w.Code)
					assert.Equal(t, etag(body), w.Header().Get("ETag"), "ETag and body from one snapshot")
					if w.Header().Get("Cache-Control") == immutable {
						assert.Equal(t, versions[v][name], body, "immutable only for the stamp's own bytes")
					} else {
						assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
					}
				}
				served.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Positive(t, served.Load())
}
