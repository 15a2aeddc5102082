package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs"
)

// strategyUsage documents the -strategy flag of every subcommand that scans.
const strategyUsage = "how to compute the stamp: content, mtime, git or fixed=VALUE"

// sentinelError is an error with its own text that wraps a sentinel, so
// that its message needs no sentinel's prefix.
type sentinelError struct {
	msg string
	err error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.err }

// parseStrategy parses a -strategy value: content, mtime, git, or fixed=VALUE
// where VALUE is a valid stamp. Any other value is an error wrapping
// stampfs.ErrBadStamp, as Scan's is.
func parseStrategy(value string) (stampfs.ScanOptions, error) {
	switch s := stampfs.Strategy(value); s {
	case stampfs.Content, stampfs.Mtime, stampfs.Git:
		return stampfs.ScanOptions{Strategy: s}, nil
	}
	if version, ok := strings.CutPrefix(value, "fixed="); ok {
		if !vfs.ValidSegment(version) {
			return stampfs.ScanOptions{}, &sentinelError{fmt.Sprintf("-strategy fixed=%s: bad stamp %q: want 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot", version, version), stampfs.ErrBadStamp}
		}
		return stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: version}, nil
	}
	return stampfs.ScanOptions{}, &sentinelError{fmt.Sprintf("unknown strategy %q: want content, mtime, git or fixed=VALUE", value), stampfs.ErrBadStamp}
}

// scanFlags parses the flags and the one DIR argument shared by stamp and
// manifest. The status is -1 when the command should go on, else the exit
// status.
func scanFlags(name string, args []string, stdout, stderr io.Writer) (c *cli, dir string, opts stampfs.ScanOptions, status int) {
	c = newCLI(name, "stampfs "+name+" [-q] [-strategy content|mtime|git|fixed=VALUE] DIR", "", stdout, stderr)
	c.logs()
	strategy := c.fl.String("strategy", string(stampfs.Content), strategyUsage)
	pos, status := c.parse(args)
	if status >= 0 {
		return c, "", opts, status
	}
	opts, err := parseStrategy(*strategy)
	if err != nil {
		return c, "", opts, c.usageError("%v", err)
	}
	if len(pos) != 1 {
		return c, "", opts, c.usageError("want exactly one DIR, got %d arguments", len(pos))
	}
	c.dirs = pos
	opts.Progress = c.progress()
	opts.Logger = c.logger()
	return c, pos[0], opts, -1
}

func runStamp(args []string, stdout, stderr io.Writer) int {
	c, dir, opts, status := scanFlags("stamp", args, stdout, stderr)
	if status >= 0 {
		return status
	}
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &opts)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, snap.Stamp())
	return exitOK
}
