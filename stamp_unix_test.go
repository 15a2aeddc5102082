//go:build unix

package stampfs_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanSkipsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, afero.NewOsFs(), dir, "a.css")
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	snap := scan(t, afero.NewOsFs(), dir, nil)
	assert.Equal(t, []string{"a.css"}, names(snap))
}
