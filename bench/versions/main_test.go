//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/bench/internal/tree"
)

// TestRunSmall runs the whole benchmark on a 200-file tree: generation, the
// build of stampfs, every part with the checks that the sides agree (every
// link prints the content stamp, every version checked holds the live
// bytes, an unchanged relink publishes nothing, a change copies exactly the
// rewritten files, three versions are retained) and the report. It proves
// the program works, not that the targets are met: that takes the full
// tree on a quiet machine.
func TestRunSmall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	var out strings.Builder
	_, err := run(config{Spec: tree.Spec{Files: 200, Dirs: 10, Size: 512}, runs: 1, dir: dir}, &out)
	require.NoError(t, err, out.String())
	for _, want := range []string{
		"tree: 200 files in 10 directories",
		"sides agree: every link printed the content stamp (afa2af096f76)", // the tree of bench/scan
		"relink: published nothing",
		"change: copied exactly the 2 rewritten files and linked the other 198",
		"first    stampfs link DIR (fresh store)",
		"relink   stampfs link DIR (unchanged)",
		"change   stampfs link DIR (2 files rewritten)",
		"disk     du -sk DIR/.stampfs (3 versions)",
		"ratio ",
	} {
		assert.Contains(t, out.String(), want)
	}
	// The tree is left as generated: no store, no stamp link, no copy.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 10, "only the tree's directories")
	_, err = os.Stat(dir + ".cp-a")
	assert.ErrorIs(t, err, os.ErrNotExist)
}
