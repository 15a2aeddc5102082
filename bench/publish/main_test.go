//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunSmall runs the whole benchmark on a 100-file tree: the build, the
// gateway, both sides twice and the report, including the check that an
// unchanged publish sends nothing. It proves the program works, not that the
// targets are met: that takes the full tree on a quiet machine. It needs
// versitygw and the AWS CLI, and is skipped without them.
func TestRunSmall(t *testing.T) {
	gw, err := exec.LookPath("versitygw")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		gw = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(gw); err != nil {
			t.Skip("versitygw not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
		}
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed (apt-get install awscli)")
	}
	var out strings.Builder
	_, err = bench(config{files: 100, dirs: 10, size: 512, runs: 1, jobs: 4, dir: t.TempDir(), versitygw: gw, aws: aws}, &out)
	require.NoError(t, err, out.String())
	for _, want := range []string{
		"tree: 100 files, ",
		"| first (empty bucket) | ",
		"| unchanged | ",
	} {
		assert.Contains(t, out.String(), want)
	}
}
