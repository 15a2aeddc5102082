package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// manifest is the JSON document "stampfs manifest" prints.
type manifest struct {
	Stamp    string           `json:"stamp"`
	Strategy stampfs.Strategy `json:"strategy"`
	Files    []manifestFile   `json:"files"`
}

// manifestFile is one counted file. URLPath is the path below the static
// prefix, unescaped: "<stamp>/<name>".
type manifestFile struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	URLPath string `json:"url_path"`
}

func runManifest(args []string, stdout, stderr io.Writer) int {
	c, dir, opts, status := scanFlags("manifest", args, stdout, stderr)
	if status >= 0 {
		return status
	}
	opts.Hash = true
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &opts)
	if err != nil {
		return c.fail(err)
	}
	m := manifest{Stamp: snap.Stamp(), Strategy: snap.Strategy(), Files: []manifestFile{}}
	for _, f := range snap.Files() {
		// JSON strings hold only UTF-8; encoding/json would silently turn
		// other bytes into U+FFFD and name a file that does not exist.
		if !utf8.ValidString(f.Name) {
			c.say(fmt.Sprintf("file name %q: not valid UTF-8, which JSON cannot hold; rename it", f.Name))
			return exitError
		}
		m.Files = append(m.Files, manifestFile{
			Name:    f.Name,
			Size:    f.Size,
			SHA256:  hex.EncodeToString(f.SHA256[:]),
			URLPath: snap.Stamp() + "/" + f.Name,
		})
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return c.fail(fmt.Errorf("write: %w", err))
	}
	return exitOK
}
