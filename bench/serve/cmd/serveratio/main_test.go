package main

import (
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeratioPrintsARowPerSide runs the tool with a tiny benchtime and
// checks the shape of its table, not the figures.
func TestServeratioPrintsARowPerSide(t *testing.T) {
	require.NoError(t, flag.Set("test.benchtime", "20x"))
	for _, recorder := range []bool{false, true} {
		var out strings.Builder
		require.NoError(t, run(&out, 1, recorder))
		lines := strings.Split(out.String(), "\n")
		require.GreaterOrEqual(t, len(lines), 6, out.String())
		assert.Equal(t, "| side | ns/op | B/op | allocs/op | stampfs is faster by |", lines[0])
		row := regexp.MustCompile(`^\| (\S+) \| \d+ \| \d+ \| \d+ \| (-|\d+\.\d\d×) \|$`)
		var sides []string
		for _, line := range lines[2:6] {
			m := row.FindStringSubmatch(line)
			require.NotNil(t, m, "row %q", line)
			sides = append(sides, m[1])
			assert.Equal(t, m[1] == "stampfs", m[2] == "-", "row %q", line)
		}
		assert.Equal(t, []string{"stampfs", "fileserver", "hashfs", "memory"}, sides)
	}
}
