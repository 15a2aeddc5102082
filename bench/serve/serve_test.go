package serve_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/bench/serve"
)

// sides writes the fixture into a fresh directory and returns every side
// serving it.
func sides(tb testing.TB) []serve.Side {
	tb.Helper()
	dir := tb.TempDir()
	require.NoError(tb, serve.WriteFixture(dir))
	all, err := serve.Sides(dir)
	require.NoError(tb, err)
	require.Equal(tb, "stampfs", all[0].Name)
	return all
}

// TestSidesServeTheSameAsset keeps the comparison fair: for the benchmarked
// request every side answers 200 with the same 4 KB, uncompressed.
func TestSidesServeTheSameAsset(t *testing.T) {
	want := serve.AssetBytes()
	require.Len(t, want, serve.AssetSize)
	for _, side := range sides(t) {
		t.Run(side.Name, func(t *testing.T) {
			w := httptest.NewRecorder()
			side.Handler.ServeHTTP(w, serve.NewRequest(side.Path))
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "4096", w.Header().Get("Content-Length"))
			assert.Empty(t, w.Header().Get("Content-Encoding"))
			assert.Equal(t, "text/css; charset=utf-8", w.Header().Get("Content-Type"))
			assert.Equal(t, want, w.Body.Bytes())
		})
	}
}

// Discard must offer what net/http's response writer offers to io.Copy, so
// that handlers take the same path into it as into a server's.
var _ io.ReaderFrom = (*serve.Discard)(nil)

// TestDiscardCountsWhatTheHandlerWrote checks the writer the benchmarks use.
func TestDiscardCountsWhatTheHandlerWrote(t *testing.T) {
	for _, side := range sides(t) {
		t.Run(side.Name, func(t *testing.T) {
			w := &serve.Discard{}
			for range 2 {
				w.Reset()
				side.Handler.ServeHTTP(w, serve.NewRequest(side.Path))
				assert.Equal(t, http.StatusOK, w.Status)
				assert.Equal(t, int64(serve.AssetSize), w.Bytes)
			}
			w.Reset()
			side.Handler.ServeHTTP(w, serve.NewRequest(serve.Prefix+"missing.css"))
			assert.Equal(t, http.StatusNotFound, w.Status)
		})
	}
}

// BenchmarkServe measures a GET of the 4 KB asset on every side, into a
// reused discarding writer (discard/…) and into a fresh
// httptest.ResponseRecorder (recorder/…). Run cmd/serveratio for the same
// figures with ratios.
func BenchmarkServe(b *testing.B) {
	all := sides(b)
	for _, side := range all {
		b.Run("discard/"+side.Name, func(b *testing.B) { serve.Bench(b, side) })
	}
	for _, side := range all {
		b.Run("recorder/"+side.Name, func(b *testing.B) { serve.BenchRecorder(b, side) })
	}
}
