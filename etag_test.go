package stampfs_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConditionalMatchesServeContent runs If-Match, If-None-Match and Range
// cases through the Handler and through http.ServeContent given the same
// bytes and ETag: the status and body agree in every case. The deliberate
// differences are in the headers only: the Handler's 412 carries
// "Cache-Control: no-store" and "Content-Length: 0" (never immutable, never
// a body length it does not send), and its responses carry its policy
// headers.
func TestConditionalMatchesServeContent(t *testing.T) {
	big := strings.Repeat("z", 100<<10)
	files := map[string]string{"held.css": "held bytes", "big.js": big, "g.css": "plain", "g.css.gz": "gzipped"}
	h := newHandler(t, files, nil)
	cases := [][]string{
		{"If-Match", "*"},
		{"If-Match", "ETAG"},
		{"If-Match", `"other", ETAG`},
		{"If-Match", `"other",ETAG , "x"`},
		{"If-Match", `W/ETAG`},
		{"If-Match", `"other"`},
		{"If-Match", `junk, ETAG`},
		{"If-Match", `"x,"ETAG`},
		{"If-Match", `ETAG, junk`},
		{"If-Match", `"unterminated`},
		{"If-Match", `,,, ETAG`},
		{"If-Match", ` `},
		{"If-None-Match", "*"},
		{"If-None-Match", "ETAG"},
		{"If-None-Match", "W/ETAG"},
		{"If-None-Match", `"other", W/ETAG`},
		{"If-None-Match", `junk, ETAG`},
		{"If-None-Match", `ETAG, junk`},
		{"If-None-Match", `"other"`},
		{"If-None-Match", `"x,"ETAG`},
		{"Range", "bytes=1-3"},
		{"Range", "bytes=1-3", "If-Match", "ETAG"},
		{"Range", "bytes=1-3", "If-Match", `junk, ETAG`},
		{"Range", "bytes=1-3", "If-None-Match", "ETAG"},
		{"Range", "bytes=1-3", "If-Range", "ETAG"},
		{"Range", "bytes=1-3", "If-Range", `"other"`},
		{"If-Match", "ETAG", "If-None-Match", "ETAG"},
		{"If-Match", `"other"`, "If-None-Match", `"other"`},
	}
	for _, name := range []string{"held.css", "big.js", "g.css"} {
		for _, accept := range []string{"", "gzip"} {
			for _, c := range cases {
				url := "/static/" + h.Stamp() + "/" + name
				probe := do(t, h, "GET", url, "Accept-Encoding", accept)
				require.Equal(t, 200, probe.Code)
				etag := probe.Header().Get("ETag")
				body := probe.Body.Bytes()

				hdrs := []string{"Accept-Encoding", accept}
				for i := 0; i < len(c); i += 2 {
					hdrs = append(hdrs, c[i], strings.ReplaceAll(c[i+1], "ETAG", etag))
				}
				got := do(t, h, "GET", url, hdrs...)

				r := httptest.NewRequest("GET", url, nil)
				for i := 0; i < len(hdrs); i += 2 {
					r.Header.Set(hdrs[i], hdrs[i+1])
				}
				ref := httptest.NewRecorder()
				ref.Header().Set("Etag", etag)
				http.ServeContent(ref, r, "", time.Time{}, bytes.NewReader(body))

				what := name + " " + accept + " " + strings.Join(hdrs[2:], ": ")
				assert.Equal(t, ref.Code, got.Code, what)
				if got.Code == 200 || got.Code == 206 {
					assert.Equal(t, ref.Body.String(), got.Body.String(), what)
				}
				if got.Code == 412 {
					assert.Equal(t, "no-store", got.Header().Get("Cache-Control"), what)
					assert.Equal(t, "0", got.Header().Get("Content-Length"), what)
					assert.Empty(t, got.Body.String(), what)
				}
				if got.Code != 200 && got.Code != 206 && got.Code != 304 {
					assert.NotEqual(t, immutable, got.Header().Get("Cache-Control"), what)
				}
			}
		}
	}
}
