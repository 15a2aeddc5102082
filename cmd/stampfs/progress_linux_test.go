package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal pair: the master, which reads what is
// written to the slave, a terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlock the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("get the pseudo-terminal's number: %v", e)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return master, slave
}

// runOnTerminal runs the command with stderr a terminal and returns its exit
// status, stdout, and what the terminal showed, with its "\r\n" line ends
// (the terminal's ONLCR) turned back into "\n".
func runOnTerminal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	master, slave := openPTY(t)
	shown := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, master) // until EIO, once the slave is closed
		shown <- b.String()
	}()
	var stdout bytes.Buffer
	code := run(args, &stdout, slave)
	slave.Close()
	return code, stdout.String(), strings.ReplaceAll(<-shown, "\r\n", "\n")
}

func TestProgressOnTerminal(t *testing.T) {
	saved := progressAfter
	t.Cleanup(func() { progressAfter = saved })
	progressAfter = 0 // show it at once, even for a short scan

	files := map[string]string{"a.css": "body{}", "js/app.js": strings.Repeat("x", 1<<20)}
	// The line, rewritten from its start at each update (a scan this short
	// may have none before the last), and a newline.
	line := func(cmd string) *regexp.Regexp {
		return regexp.MustCompile(`^(\r\x1b\[Kstampfs ` + cmd + `: [^\r\n\x1b]+)*` +
			`\r\x1b\[Kstampfs ` + cmd + `: 2 of 2 files, 1\.0 of 1\.0 MB, [0-9.]+ MB/s\n`)
	}
	for _, tt := range []struct {
		cmd  string
		args []string
	}{
		{"stamp", nil},
		{"stamp", []string{"-strategy", "mtime"}},
		{"manifest", nil},
		{"link", nil},
	} {
		t.Run(strings.Join(append([]string{tt.cmd}, tt.args...), " "), func(t *testing.T) {
			dir := writeFiles(t, files)
			code, stdout, shown := runOnTerminal(t, append(append([]string{tt.cmd}, tt.args...), dir)...)
			require.Equal(t, exitOK, code, shown)
			assert.NotEmpty(t, stdout)
			loc := line(tt.cmd).FindStringIndex(shown)
			require.NotNil(t, loc, "terminal shows %q", shown)
			rest := shown[loc[1]:]
			if tt.cmd == "link" {
				// The logs come after the line, each a line of its own.
				assert.Regexp(t, `^(time=[^\r\x1b]*level=INFO [^\r\x1b]*\n)+$`, rest)
			} else {
				assert.Empty(t, rest)
			}
		})
	}

	t.Run("quiet", func(t *testing.T) {
		code, stdout, shown := runOnTerminal(t, "stamp", "-q", writeFiles(t, files))
		require.Equal(t, exitOK, code)
		assert.Regexp(t, `^[0-9a-f]{12}\n$`, stdout)
		assert.Empty(t, shown)
	})

	t.Run("error", func(t *testing.T) {
		code, _, shown := runOnTerminal(t, "stamp", "-strategy", "git", writeFiles(t, files))
		require.Equal(t, exitError, code)
		// The line of the scan, then the error on its own line.
		assert.Regexp(t, `^(\r\x1b\[Kstampfs stamp: [^\r\n\x1b]+)+\nstampfs stamp: [^\r\x1b]+\n$`, shown)
	})
}

func TestProgressNotOnTerminal(t *testing.T) {
	saved := progressAfter
	t.Cleanup(func() { progressAfter = saved })
	progressAfter = 0

	dir := writeFiles(t, map[string]string{"a.css": "body{}"})
	file, err := os.Create(t.TempDir() + "/stderr")
	require.NoError(t, err)
	defer file.Close()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()

	for name, stderr := range map[string]*os.File{"file": file, "pipe": w} {
		t.Run(name, func(t *testing.T) {
			var stdout bytes.Buffer
			require.Equal(t, exitOK, run([]string{"stamp", dir}, &stdout, stderr))
			assert.Regexp(t, `^[0-9a-f]{12}\n$`, stdout.String())
		})
	}
	w.Close()
	piped, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Empty(t, string(piped))
	written, err := os.ReadFile(file.Name())
	require.NoError(t, err)
	assert.Empty(t, string(written))
}
