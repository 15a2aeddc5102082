//go:build linux

package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeDescriptorLimit runs stampfs serve in a child process limited to
// 64 open files and holds 100 keep-alive connections to it: each is
// answered, and so is a client after them. Without shedding, the server
// stops accepting at the limit and the later clients wait forever.
func TestServeDescriptorLimit(t *testing.T) {
	if addr := os.Getenv("STAMPFS_TEST_SERVE_ADDR"); addr != "" {
		rl := syscall.Rlimit{Cur: 64, Max: 64}
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl))
		os.Exit(serve(context.Background(), []string{"-q", "-addr", addr}, io.Discard, os.Stderr, nil, defaultLimits))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeDescriptorLimit$")
	cmd.Env = append(os.Environ(), "STAMPFS_TEST_SERVE_ADDR="+addr)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := "http://" + addr
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)

	for i := range 101 {
		c := dial(t, base) // kept open until the test ends
		resp, body := roundTrip(t, c, bufio.NewReader(c), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
		assert.Equal(t, 404, resp.StatusCode, "client "+strconv.Itoa(i))
		assert.Equal(t, "404 page not found\n", body)
	}
}
