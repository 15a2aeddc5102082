package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/bench/serve"
)

func TestPeerWritesTheFixture(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run([]string{"-fixture", dir}, &stdout, &stderr), stderr.String())
	got, err := os.ReadFile(filepath.Join(dir, "css", "app.css"))
	require.NoError(t, err)
	assert.Equal(t, serve.AssetBytes(), got)
}

func TestPeerPrintsTheBenchmarkHeaders(t *testing.T) {
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run([]string{"-headers"}, &stdout, &stderr), stderr.String())
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	assert.Len(t, lines, len(serve.BrowserHeaders))
	for _, line := range lines {
		k, v, ok := strings.Cut(line, ": ")
		require.True(t, ok, "line %q", line)
		assert.Equal(t, serve.BrowserHeaders[k], v, "header %s", k)
	}
}

func TestPeerRejectsBadUsage(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, serve.WriteFixture(dir))
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{name: "no DIR", args: []string{"-side", "hashfs"}, wantStatus: 2, wantErr: "usage: peer"},
		{name: "unknown side", args: []string{"-side", "apache", dir}, wantStatus: 2, wantErr: `unknown side "apache"`},
		{name: "DIR without the asset", args: []string{"-side", "hashfs", t.TempDir()}, wantStatus: 1, wantErr: "app.css"},
		{name: "bad address", args: []string{"-side", "hashfs", "-addr", "127.0.0.1:http-alt-nope", dir}, wantStatus: 1, wantErr: "peer:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			assert.Equal(t, tt.wantStatus, run(tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.wantErr)
			assert.Empty(t, stdout.String())
		})
	}
}
