package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain removes the stampfs binary stampfsBin built once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

var build struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	out  []byte
	err  error
}

// stampfsBin builds the stampfs command of this checkout once per test binary
// and returns its path.
func stampfsBin(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "stampfs-e2e-bin-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "stampfs")
		cmd := exec.Command("go", "build", "-o", build.path, "github.com/stampfs/stampfs/cmd/stampfs")
		build.out, build.err = cmd.CombinedOutput()
	})
	require.NoError(t, build.err, "go build ./cmd/stampfs:\n%s", build.out)
	return build.path
}
