package stampfs

import (
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManifestFuncMap(t *testing.T) {
	const current = `{"version":1,"stamp":"3f2a9c1b7d0e","strategy":"content","prefix":"/static/","files":{
		"css/site.css":{"url":"https://cdn.example.com/static/3f2a9c1b7d0e/css/site.css","size":6,
		"sha256":"` + "4a9df3a5e6d63ca6a1e3a4f2b0bd0e6b2d1e2f1bc3a6f3e39cd1c1b8a3f1d2e0" + `","integrity":"sha384-abc","type":"text/css; charset=utf-8","encodings":[]}}}`
	m, err := ParseManifest([]byte(current))
	require.NoError(t, err)
	page := template.Must(template.New("p").Funcs(m.FuncMap()).Parse(
		`<link rel=stylesheet href="{{static "css/site.css"}}" integrity="{{integrity "/css/site.css"}}">`))
	var b strings.Builder
	require.NoError(t, page.Execute(&b, nil))
	assert.Equal(t, `<link rel=stylesheet href="https://cdn.example.com/static/3f2a9c1b7d0e/css/site.css" integrity="sha384-abc">`, b.String())

	_, err = m.Integrity("css/missing.css")
	assert.ErrorIs(t, err, ErrUnknownAsset)
	missing := template.Must(template.New("p").Funcs(m.FuncMap()).Parse(`{{static "css/missing.css"}}`))
	err = missing.Execute(&b, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "css/missing.css")
}
