package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	dir, opts, status := scanFlags("manifest", args, stderr)
	if status >= 0 {
		return status
	}
	opts.Hash = true
	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &opts)
	if err != nil {
		fmt.Fprintf(stderr, "stampfs manifest: %v\n", err)
		return exitError
	}
	m := manifest{Stamp: snap.Stamp(), Strategy: snap.Strategy(), Files: []manifestFile{}}
	for _, f := range snap.Files() {
		// JSON strings hold only UTF-8; encoding/json would silently turn
		// other bytes into U+FFFD and name a file that does not exist.
		if !utf8.ValidString(f.Name) {
			fmt.Fprintf(stderr, "stampfs manifest: file name %q is not valid UTF-8, which JSON cannot hold; rename it\n", f.Name)
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
		fmt.Fprintf(stderr, "stampfs manifest: %v\n", err)
		return exitError
	}
	return exitOK
}
