package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// linkFS is the file system link works on; tests replace it.
var linkFS afero.Fs = afero.NewOsFs()

// runLink scans DIR, makes DIR/<stamp> a symlink to DIR, prunes old stamp
// links and prints the stamp alone on stdout. It exits with exitNoSymlinks
// when symbolic links cannot be made there, so that a deploy script can fall
// back to serving the stamp prefix virtually.
func runLink(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("stampfs link", flag.ContinueOnError)
	fl.SetOutput(stderr)
	strategy := fl.String("strategy", string(stampfs.Content), strategyUsage)
	defaults := stampfs.NewLinker(linkFS, "")
	keep := fl.Int("keep", defaults.Keep, "how many old stamp links to keep besides the current one, newest first")
	grace := fl.Duration("grace", defaults.Grace, "keep every stamp link younger than this; 0 for none")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: stampfs link [-strategy S] [-keep N] [-grace DURATION] DIR")
		fl.PrintDefaults()
		fmt.Fprintln(stderr, "\nPrints the stamp. Exit status 3 means symlinks are unsupported in DIR.")
	}
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	usageError := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "stampfs link: "+format+"\n", a...)
		fl.Usage()
		return exitUsage
	}
	if fl.NArg() != 1 {
		return usageError("want exactly one DIR, got %d arguments", fl.NArg())
	}
	if *keep < 0 {
		return usageError("-keep %d: want 0 or more", *keep)
	}
	if *grace < 0 {
		return usageError("-grace %v: want 0 or more", *grace)
	}
	opts, err := parseStrategy(*strategy)
	if err != nil {
		return usageError("%v", err)
	}
	dir := fl.Arg(0)

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opts.Logger = logger
	snap, err := stampfs.Scan(linkFS, dir, &opts)
	if err != nil {
		fmt.Fprintf(stderr, "stampfs link: %v\n", err)
		return exitError
	}
	stamp := snap.Stamp()
	l := stampfs.NewLinker(linkFS, dir)
	l.Keep, l.Grace, l.Logger = *keep, *grace, logger
	if err := l.Activate(stamp); err != nil {
		fmt.Fprintf(stderr, "stampfs link: %v\n", err)
		if errors.Is(err, stampfs.ErrSymlinkUnsupported) {
			return exitNoSymlinks
		}
		return exitError
	}
	if _, err := l.Prune(stamp); err != nil {
		fmt.Fprintf(stderr, "stampfs link: %s is active, but pruning old links failed: %v\n", stamp, err)
		return exitError
	}
	fmt.Fprintln(stdout, stamp)
	return exitOK
}
