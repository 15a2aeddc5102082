package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/stampfs/stampfs"
)

// versionJSON is one line of "stampfs versions -json".
type versionJSON struct {
	Stamp     string           `json:"stamp"`
	Strategy  stampfs.Strategy `json:"strategy"`
	Created   time.Time        `json:"created"`
	Activated time.Time        `json:"activated"`
	Files     int              `json:"files"`
	Bytes     int64            `json:"bytes"`
	Current   bool             `json:"current"`
}

// runVersions prints the versions in DIR's store, most recently activated
// (the current one) first.
func runVersions(args []string, stdout, stderr io.Writer) int {
	c := newCLI("versions", "stampfs versions [-json] [-store DIR] DIR",
		"Prints one line per version, most recently activated first:\nthe stamp, then tab-separated the creation time (RFC 3339), the\nnumber of files, the bytes, and \"current\" on the current one.", stdout, stderr)
	asJSON := c.fl.Bool("json", false, "print a JSON array instead")
	store := c.fl.String("store", "", "the version store (default DIR/"+stampfs.DefaultStore+")")
	pos, status := c.parse(args)
	if status >= 0 {
		return status
	}
	if len(pos) != 1 {
		return c.usageError("want exactly one DIR, got %d arguments", len(pos))
	}
	c.dirs = pos
	l := stampfs.NewLinker(linkFS, pos[0])
	l.Store = *store
	vs, err := l.Versions()
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		out := []versionJSON{}
		for i, v := range vs {
			out = append(out, versionJSON{v.Stamp, v.Strategy, v.Created.UTC(), v.Activated.UTC(), len(v.Files), v.Size(), i == 0})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	for i, v := range vs {
		line := fmt.Sprintf("%s\t%s\t%d\t%d", v.Stamp, v.Created.UTC().Format(time.RFC3339), len(v.Files), v.Size())
		if i == 0 {
			line += "\tcurrent"
		}
		fmt.Fprintln(stdout, line)
	}
	return exitOK
}
