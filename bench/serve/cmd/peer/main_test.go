package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs/bench/serve"
)

func TestPeerWritesTheFixture(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "static")
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run(context.Background(), []string{"-fixture", dir}, &stdout, &stderr), stderr.String())
	got, err := os.ReadFile(filepath.Join(dir, "css", "app.css"))
	require.NoError(t, err)
	assert.Equal(t, serve.AssetBytes(), got)
}

func TestPeerPrintsTheBenchmarkHeaders(t *testing.T) {
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run(context.Background(), []string{"-headers"}, &stdout, &stderr), stderr.String())
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
			assert.Equal(t, tt.wantStatus, run(context.Background(), tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.wantErr)
			assert.Empty(t, stdout.String())
		})
	}
}

// TestPeerServesEachSide runs the server of every side as loopback.sh does and
// checks that it prints the URL of the side's path (the stamped or hashed one
// the in-process benchmark measures), that the URL answers the benchmark's
// request with the asset, uncompressed, and that the server stops cleanly when
// its context ends.
func TestPeerServesEachSide(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, serve.WriteFixture(dir))
	sides, err := serve.Sides(dir)
	require.NoError(t, err)
	for _, side := range sides {
		t.Run(side.Name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			stdout, w := io.Pipe()
			var stderr strings.Builder
			status := make(chan int, 1)
			go func() {
				status <- run(ctx, []string{"-side", side.Name, "-addr", "127.0.0.1:0", dir}, w, &stderr)
				_ = w.Close()
			}()
			t.Cleanup(func() {
				cancel()
				select {
				case got := <-status:
					assert.Equal(t, 0, got, "exit status after shutdown; stderr: %s", stderr.String())
				case <-time.After(10 * time.Second):
					t.Error("peer did not stop within 10 s of its context's end")
				}
			})

			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err, "first line of output")
			url := strings.TrimSuffix(line, "\n")
			require.Regexp(t, `^http://127\.0\.0\.1:\d+/`, url)
			assert.Equal(t, side.Path, "/"+strings.SplitN(url, "/", 4)[3], "URL %q", url)
			req, err := http.NewRequest(http.MethodGet, url, nil)
			require.NoError(t, err)
			for k, v := range serve.BrowserHeaders {
				req.Header.Set(k, v)
			}
			// With Accept-Encoding set by hand the transport does not decompress,
			// so a compressed answer would show here.
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Content-Encoding"))
			assert.Equal(t, serve.AssetBytes(), body)
		})
	}
}
