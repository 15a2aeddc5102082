package stampfs

import (
	"html/template"
	"strings"
)

// Integrity returns the Subresource Integrity value the manifest lists for
// the served file name, and an error wrapping ErrUnknownAsset for a name it
// does not list.
func (m *Manifest) Integrity(name string) (string, error) {
	f, ok := m.Files[strings.TrimPrefix(name, "/")]
	if !ok {
		return "", unknownAsset("integrity", name)
	}
	return f.Integrity, nil
}

// FuncMap returns the template functions of Handler.FuncMap, answered from
// the manifest:
//
//	static NAME     the URL of NAME, as URL
//	integrity NAME  the SRI value of NAME, as Integrity
//
// An app server behind a CDN parses the published current.json with
// ParseManifest and renders its pages with these, so that they name the
// stamp the bucket holds. A name the manifest does not list makes template
// execution fail with an error naming it.
func (m *Manifest) FuncMap() template.FuncMap {
	return template.FuncMap{"static": m.URL, "integrity": m.Integrity}
}
