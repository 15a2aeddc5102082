package stampfs

import (
	"crypto/sha512"
	"encoding/base64"
	"io/fs"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/vfs"
)

func TestNewManifest(t *testing.T) {
	fsys := afero.NewMemMapFs()
	files := map[string]string{
		"css/site.css":    "body{}",
		"css/site.css.br": "BR",
		"css/site.css.gz": "GZ",
		"a b+c%#?é.js":    "x",
		`back\slash.txt`:  "no",
		"lone.gz":         "ordinary",
		"same.txt":        "same",
		"same.txt.gz":     "same",
	}
	for name, data := range files {
		require.NoError(t, afero.WriteFile(fsys, "/s/"+name, []byte(data), 0o644))
	}
	snap, err := Scan(fsys, "/s", nil)
	require.NoError(t, err)
	m, err := NewManifest(vfs.AferoFS(afero.NewBasePathFs(fsys, "/s")), snap, &ManifestOptions{Base: "https://cdn.example/"})
	require.NoError(t, err)

	assert.Equal(t, ManifestVersion, m.Version)
	assert.Equal(t, snap.Stamp(), m.Stamp)
	assert.Equal(t, Content, m.Strategy)
	assert.Equal(t, "/static/", m.Prefix)
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"css/site.css", "a b+c%#?é.js", "lone.gz", "same.txt", "same.txt.gz"}, names)

	css := m.Files["css/site.css"]
	sum := sha512.Sum384([]byte("body{}"))
	assert.Equal(t, ManifestFile{
		URL:       "https://cdn.example/static/" + m.Stamp + "/css/site.css",
		Size:      6,
		SHA256:    "7c98040a541657584690ae2a1cc3b42a8b53b159cc60c5d3abbfecbaeac6c94a",
		Integrity: "sha384-" + base64.StdEncoding.EncodeToString(sum[:]),
		Type:      "text/css; charset=utf-8",
		Encodings: []string{"br", "gzip"},
	}, css)
	assert.Len(t, css.SHA256, 64)
	assert.Equal(t, "https://cdn.example/static/"+m.Stamp+"/a%20b+c%25%23%3F%C3%A9.js", m.Files["a b+c%#?é.js"].URL)
	assert.Equal(t, []string{}, m.Files["same.txt"].Encodings, "a sibling with its base's bytes is no sibling")

	data, err := m.MarshalIndent()
	require.NoError(t, err)
	back, err := ParseManifest(data)
	require.NoError(t, err)
	assert.Equal(t, m, back)
	u, err := back.URL("/css/site.css")
	require.NoError(t, err)
	assert.Equal(t, css.URL, u)
	_, err = back.URL("css/site.css.br")
	assert.ErrorIs(t, err, ErrUnknownAsset)
}

func TestNewManifestChangedFile(t *testing.T) {
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "/s/a.css", []byte("old"), 0o644))
	snap, err := Scan(fsys, "/s", nil)
	require.NoError(t, err)
	require.NoError(t, afero.WriteFile(fsys, "/s/a.css", []byte("new"), 0o644))
	_, err = NewManifest(vfs.AferoFS(afero.NewBasePathFs(fsys, "/s")), snap, nil)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "a.css", pe.Path)
	assert.ErrorIs(t, err, errChanged)

	_, err = NewManifest(vfs.AferoFS(fsys), snap, &ManifestOptions{Prefix: "static"})
	assert.ErrorIs(t, err, fs.ErrInvalid)
}

func TestParseManifestRejects(t *testing.T) {
	sha := `"` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"`
	for name, doc := range map[string]string{
		"not json":     `{`,
		"version 2":    `{"version":2,"stamp":"abc","prefix":"/static/","files":{}}`,
		"bad stamp":    `{"version":1,"stamp":"../x","prefix":"/static/","files":{}}`,
		"bad prefix":   `{"version":1,"stamp":"abc","prefix":"static","files":{}}`,
		"dot dot name": `{"version":1,"stamp":"abc","prefix":"/s/","files":{"../etc/passwd":{"sha256":` + sha + `}}}`,
		"backslash":    `{"version":1,"stamp":"abc","prefix":"/s/","files":{"a\\b":{"sha256":` + sha + `}}}`,
		"short sha":    `{"version":1,"stamp":"abc","prefix":"/s/","files":{"a":{"sha256":"abc"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseManifest([]byte(doc))
			assert.ErrorIs(t, err, fs.ErrInvalid)
		})
	}
}
