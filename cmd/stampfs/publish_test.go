package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublishWithoutProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	status, out, errOut := runCmd("publish", "-to", "s3://b/p", "static")
	assert.Equal(t, exitError, status)
	assert.Empty(t, out)
	assert.Equal(t, "stampfs publish: stampfs-publish not found in PATH; install it with: go install github.com/stampfs/stampfs/publish/cmd/stampfs-publish@latest\n", errOut)
}

func TestPublishHelpWithoutProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	status, out, errOut := runCmd("publish", "-h")
	assert.Equal(t, exitOK, status)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "\tgo install github.com/stampfs/stampfs/publish/cmd/stampfs-publish@latest\n")
}

func TestPublishRunsProgram(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in program is a shell script")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"args: $*\"\necho oops >&2\nexit 7\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "stampfs-publish"), []byte(script), 0o755))
	t.Setenv("PATH", bin)
	status, out, errOut := runCmd("publish", "-to", "s3://b/p", "-keep", "1", "static dir")
	assert.Equal(t, 7, status, "its exit status")
	assert.Equal(t, "args: -to s3://b/p -keep 1 static dir\n", out)
	assert.Equal(t, "oops\n", errOut)
}
