//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/bench/internal/tree"
)

// TestRunSmall runs the whole benchmark on a 200-file tree: generation, the
// build of stampfs, the check that both sides agree on both stamps, and the
// report. It proves the program works, not that the targets are met: that
// takes the full tree on a quiet machine.
func TestRunSmall(t *testing.T) {
	var out strings.Builder
	_, err := run(config{Spec: tree.Spec{Files: 200, Dirs: 10, Size: 512}, runs: 1, dir: t.TempDir()}, &out)
	require.NoError(t, err, out.String())
	for _, want := range []string{
		"tree: 200 files in 10 directories",
		"stamps agree: mtime 1704067399, content afa2af096f76\n", // the same tree everywhere
		"mtime    stampfs stamp -strategy mtime",
		"content  stampfs stamp ",
		"ratio ",
		"max RSS  stampfs stamp -strategy mtime",
	} {
		assert.Contains(t, out.String(), want)
	}
}
