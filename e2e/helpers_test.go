package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// findProgram returns the path of the program name, looked up in PATH and
// then at the paths in other (nginx lives in /usr/sbin, which a user's PATH
// may lack). Without one it fails the test on CI (CI=true), which must install
// it, and skips it elsewhere.
func findProgram(t *testing.T, name string, other ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range other {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	where := strings.Join(append([]string{"PATH"}, other...), " or ")
	msg := fmt.Sprintf("%s not found in %s: install it (apt-get install -y %s)", name, where, name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true must run this test")
	}
	t.Skip(msg + " to run this test")
	return ""
}
