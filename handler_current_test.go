package stampfs_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// TestOptionsCurrent: an app server takes its current stamp and table from
// a published manifest. With the version in its store it serves its bytes;
// without, it renders the CDN's URLs and integrity values and serves nothing
// itself. Every Refresh reads the manifest again.
func TestOptionsCurrent(t *testing.T) {
	fsys, dir := memLinkFS.make(t)
	makeTree(t, fsys, dir, "css/site.css=body{}", "css/site.css.gz=GZ")
	l := stampfs.NewLinker(fsys, dir)
	v := publish(t, l, nil)
	published, err := v.Manifest(&stampfs.ManifestOptions{Base: "https://cdn.example"})
	require.NoError(t, err)

	current := published
	h, err := stampfs.New(fsys, dir, &stampfs.Options{
		Base:    "https://cdn.example",
		Current: func() (*stampfs.Manifest, error) { return current, nil },
	})
	require.NoError(t, err)
	assert.Equal(t, v.Stamp, h.Stamp())
	u, err := h.URL("css/site.css")
	require.NoError(t, err)
	assert.Equal(t, published.Files["css/site.css"].URL, u, "the URL the manifest publishes")
	check(t, do(t, h, "GET", "/static/"+v.Stamp+"/css/site.css", "Accept-Encoding", "gzip"),
		want{status: 200, body: "GZ", header: map[string]string{"Cache-Control": immutable, "Content-Encoding": "gzip"}})

	// A stamp the bucket holds and this server does not.
	remote := &stampfs.Manifest{Version: 1, Stamp: "v9", Strategy: stampfs.Fixed, Prefix: "/static/", Files: map[string]stampfs.ManifestFile{
		"css/new.css": {Size: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Integrity: "sha384-remote", Type: "text/css; charset=utf-8", Encodings: []string{}},
	}}
	current = remote
	require.NoError(t, h.Refresh())
	assert.Equal(t, "v9", h.Stamp())
	u, err = h.URL("css/new.css")
	require.NoError(t, err)
	assert.Equal(t, "https://cdn.example/static/v9/css/new.css", u)
	sri, err := h.Integrity("css/new.css")
	require.NoError(t, err)
	assert.Equal(t, "sha384-remote", sri)
	_, err = h.URL("css/site.css")
	assert.ErrorIs(t, err, stampfs.ErrUnknownAsset)
	check(t, do(t, h, "GET", "/static/v9/css/new.css"), notFoundWant())

	current = nil
	assert.ErrorIs(t, h.Refresh(), fs.ErrInvalid)
	assert.Equal(t, "v9", h.Stamp(), "a failed Refresh keeps the old table")
	boom := errors.New("bucket down")
	h2, err := stampfs.New(fsys, dir, &stampfs.Options{Current: func() (*stampfs.Manifest, error) { return nil, boom }})
	assert.Nil(t, h2)
	assert.ErrorIs(t, err, boom)
}
