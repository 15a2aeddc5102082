package main

import (
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		status int
		stderr string // exactly, when the usage goes to stdout
	}{
		{"unknown command", []string{"stamps", "static"}, exitUsage, "stampfs: unknown command \"stamps\"\nRun 'stampfs help' for usage.\n"},
		{"flag before the command", []string{"-strategy", "git", "stamp"}, exitUsage, "stampfs: unknown command \"-strategy\"\nRun 'stampfs help' for usage.\n"},
		{"help of an unknown command", []string{"help", "stamps"}, exitUsage, "stampfs help: unknown command \"stamps\"\nRun 'stampfs help' for usage.\n"},
		{"help of two commands", []string{"help", "stamp", "link"}, exitUsage, "stampfs help: want at most one command, got 2 arguments\nusage: stampfs help [COMMAND]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errOut := runCmd(tt.args...)
			assert.Equal(t, tt.status, status)
			assert.Empty(t, out)
			assert.Equal(t, tt.stderr, errOut)
		})
	}
}

// TestRunUsage: the top-level usage lists every command, on stdout when
// asked for and on stderr when no command is given.
func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-h"}, {"--help"}, {"-help"}, {"help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			status, out, errOut := runCmd(args...)
			usage := out
			if args == nil {
				assert.Equal(t, exitUsage, status)
				assert.Empty(t, out)
				usage = errOut
			} else {
				assert.Equal(t, exitOK, status)
				assert.Empty(t, errOut)
			}
			assert.True(t, strings.HasPrefix(usage, "usage: stampfs <command> [flags] [DIR]\n"), usage)
			for name := range commands {
				assert.Contains(t, usage, "\n  "+name+" ", "the usage lists every command")
			}
		})
	}
}

// TestHelp: every command's help is the same on stdout whichever way it is
// asked for, and exits 0.
func TestHelp(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			if name == "publish" {
				// Its flags are stampfs-publish's; without it, the help
				// says how to install it (see TestPublishWithoutProgram).
				t.Setenv("PATH", t.TempDir())
			}
			status, want, errOut := runCmd("help", name)
			assert.Equal(t, exitOK, status)
			assert.Empty(t, errOut)
			assert.True(t, strings.HasPrefix(want, "usage: stampfs "+name), want)
			if name == "nginx" || name == "apache" || name == "version" || name == "versions" || name == "publish" {
				assert.NotContains(t, want, "-q", "it logs nothing")
			} else {
				assert.Contains(t, want, "\n  -q\tquiet: no progress line; log warnings and errors only\n")
			}
			for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {name, "x", "-h"}} {
				status, out, errOut := runCmd(args...)
				assert.Equal(t, exitOK, status, args)
				assert.Equal(t, want, out, args)
				assert.Empty(t, errOut, args)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		status, out, errOut := runCmd(args...)
		assert.Equal(t, exitOK, status)
		assert.Empty(t, errOut)
		// A test binary has no module version and no VCS stamp.
		assert.Equal(t, "stampfs (devel), revision unknown, "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n", out)
	}
	status, out, errOut := runCmd("version", "x")
	assert.Equal(t, exitUsage, status)
	assert.Empty(t, out)
	assert.Equal(t, "stampfs version: want no arguments, got 1\nusage: stampfs version\nRun 'stampfs help version' for details.\n", errOut)
}

func TestVersionLine(t *testing.T) {
	suffix := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "stampfs (devel), revision unknown, " + suffix},
		{"go install @latest", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "stampfs v1.2.3, revision unknown, " + suffix},
		{
			"go build in a checkout",
			&debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261201120000-9fceb02d0ae5+dirty"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "9fceb02d0ae598e95dc970b74767f19372d61af8"}, {Key: "vcs.modified", Value: "true"},
			}},
			true, "stampfs v1.2.4-0.20261201120000-9fceb02d0ae5+dirty, revision 9fceb02d0ae5 (modified), " + suffix,
		},
		{
			"clean checkout",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "9fceb02d0ae598e95dc970b74767f19372d61af8"}, {Key: "vcs.modified", Value: "false"},
			}},
			true, "stampfs (devel), revision 9fceb02d0ae5, " + suffix,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, versionLine(tt.info, tt.ok))
		})
	}
}

func TestUserPath(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, err := filepath.Abs(".")
	require.NoError(t, err)
	tests := []struct{ msg, dir, want string }{
		{"git: no repository (.git) in " + wd + "/static or any parent directory", "static", "git: no repository (.git) in static or any parent directory"},
		{"open " + wd + "/static/a.css: permission denied", "static/", "open static/a.css: permission denied"},
		{"lstat " + wd + "/static: no such file", "./static", "lstat static: no such file"},
		{"stat " + wd + "/static2: no such file", "static", "stat " + wd + "/static2: no such file"},
		{"stat /srv/static: no such file", "/srv/static", "stat /srv/static: no such file"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, userPath(tt.msg, tt.dir), tt.msg)
	}
}
