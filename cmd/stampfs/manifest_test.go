package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManifestCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n", "b/c d.css": "b\n", ".env": "secret", "b/.cache": "x"})

	status, out, errOut := runCmd("manifest", dir)
	require.Equal(t, exitOK, status, errOut)
	assert.Empty(t, errOut)
	// sha256sum ./a "./b/c d.css" | sha256sum | cut -c1-12 gives the stamp.
	assert.JSONEq(t, `{
		"stamp": "086c193393f1",
		"strategy": "content",
		"files": [
			{"name": "a", "size": 2, "sha256": "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7", "url_path": "086c193393f1/a"},
			{"name": "b/c d.css", "size": 2, "sha256": "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f", "url_path": "086c193393f1/b/c d.css"}
		]
	}`, out)
}

func TestManifestCommandHashesForEveryStrategy(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a<b>&c.js": "a\n"})
	status, out, errOut := runCmd("manifest", "-strategy", "fixed=v1.2.3", dir)
	require.Equal(t, exitOK, status, errOut)
	assert.Contains(t, out, `"url_path": "v1.2.3/a<b>&c.js"`, "no HTML escaping in a deploy manifest")

	var m manifest
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Equal(t, manifest{Stamp: "v1.2.3", Strategy: "fixed", Files: []manifestFile{{
		Name: "a<b>&c.js", Size: 2, URLPath: "v1.2.3/a<b>&c.js",
		SHA256: "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7",
	}}}, m)
}

func TestManifestCommandEmptyDir(t *testing.T) {
	status, out, errOut := runCmd("manifest", t.TempDir())
	require.Equal(t, exitOK, status, errOut)
	assert.JSONEq(t, `{"stamp": "e3b0c44298fc", "strategy": "content", "files": []}`, out)
}

func TestManifestCommandNameNotUTF8(t *testing.T) {
	// The errors manifest shares with stamp are in TestScanCommandErrors.
	dir := writeFiles(t, map[string]string{"ok.css": "x", "caf\xe9.css": "latin-1 name"})
	status, out, errOut := runCmd("manifest", dir)
	assert.Equal(t, exitError, status)
	assert.Empty(t, out)
	assert.Equal(t, "stampfs manifest: file name \"caf\\xe9.css\": not valid UTF-8, which JSON cannot hold; rename it\n", errOut)
}
