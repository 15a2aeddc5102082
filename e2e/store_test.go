package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// storeName is the version store inside a static directory.
const storeName = stampfs.DefaultStore

// publishVersion runs "stampfs link -manifest FILE DIR", which publishes
// dir's current bytes as a version in dir/.stampfs/<stamp>/, links
// dir/<stamp> to it and writes the version's manifest, and returns that.
func publishVersion(t *testing.T, dir string) *stampfs.Manifest {
	t.Helper()
	file := filepath.Join(t.TempDir(), "manifest.json")
	stamp := strings.TrimSpace(runStampfs(t, stampfsBin(t), "link", "-q", "-manifest", file, dir))
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	m, err := stampfs.ParseManifest(data)
	require.NoError(t, err)
	require.Equal(t, stamp, m.Stamp)
	return m
}

// pruneOthers runs "stampfs link -keep 0 -grace 0 DIR", which keeps only
// the current version and its link.
func pruneOthers(t *testing.T, dir string) {
	t.Helper()
	runStampfs(t, stampfsBin(t), "link", "-q", "-keep", "0", "-grace", "0", dir)
}
