package e2e_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserRunsTheDemo loads the page of `stampfs serve` (no DIR: the demo
// site) in Chromium and checks that its stamped, integrity-checked script ran,
// and that what it loaded is cacheable for a year.
func TestBrowserRunsTheDemo(t *testing.T) {
	chromium := findProgram(t, "chromium")
	base := browserStartServe(t)

	dom := browserDumpDOM(t, chromium, base+"/")
	data := browserBodyData(t, dom)
	assert.Equal(t, "ok", data["stampfs"], "the demo script did not run; DOM:\n%s", dom)
	assert.Equal(t, "ok", data["stylesheet"], "the demo stylesheet did not apply; DOM:\n%s", dom)

	scripts, styles := browserAssets(dom)
	require.NotEmpty(t, scripts, "the demo page has no external script; DOM:\n%s", dom)
	require.NotEmpty(t, styles, "the demo page has no stylesheet; DOM:\n%s", dom)
	for _, tag := range append(scripts, styles...) {
		name := browserStamped.ReplaceAllString(tag.URL, "")
		t.Run(name, func(t *testing.T) {
			assert.Regexp(t, browserStamped, tag.URL)
			require.NotEmpty(t, tag.Integrity, "no integrity attribute, so the browser checked nothing")
			resp, body := get(t, browserAbs(base, tag.URL))
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, browserImmutable, resp.Header.Get("Cache-Control"))
			// The browser checked this integrity value against these bytes.
			assert.Equal(t, browserSRI(tag.Integrity, body), tag.Integrity)
		})
	}
}

// browserSRI returns the integrity value of body with the algorithm that
// want names (sha256, sha384 or sha512), as a page would write it.
func browserSRI(want string, body []byte) string {
	algo, _, _ := strings.Cut(want, "-")
	switch algo {
	case "sha384":
		sum := sha512.Sum384(body)
		return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
	case "sha512":
		sum := sha512.Sum512(body)
		return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	default:
		sum := sha256.Sum256(body)
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
}
