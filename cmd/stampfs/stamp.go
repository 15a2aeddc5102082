package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs"
)

// strategyUsage documents the -strategy flag of every subcommand that scans.
const strategyUsage = "how to compute the stamp: content, mtime, git or fixed=VALUE"

// parseStrategy parses a -strategy value: content, mtime, git, or fixed=VALUE
// where VALUE is a valid stamp. Any other value is an error wrapping
// stampfs.ErrBadStamp.
func parseStrategy(value string) (stampfs.ScanOptions, error) {
	switch s := stampfs.Strategy(value); s {
	case stampfs.Content, stampfs.Mtime, stampfs.Git:
		return stampfs.ScanOptions{Strategy: s}, nil
	}
	if version, ok := strings.CutPrefix(value, "fixed="); ok {
		opts := stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: version}
		if !vfs.ValidSegment(version) {
			return stampfs.ScanOptions{}, fmt.Errorf("%w: -strategy fixed=%q: a stamp is 1 to 64 characters of [0-9A-Za-z._-] not starting with a dot", stampfs.ErrBadStamp, version)
		}
		return opts, nil
	}
	return stampfs.ScanOptions{}, fmt.Errorf("%w: unknown -strategy %q (want content, mtime, git or fixed=VALUE)", stampfs.ErrBadStamp, value)
}

// scanFlags parses the flags and the one DIR argument shared by stamp and
// manifest. For -h it prints the usage and returns exitOK; for a usage error
// it prints the error and the usage on stderr and returns exitUsage; else it
// returns -1.
func scanFlags(name string, args []string, stderr io.Writer) (dir string, opts stampfs.ScanOptions, status int) {
	fl := flag.NewFlagSet("stampfs "+name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	strategy := fl.String("strategy", string(stampfs.Content), strategyUsage)
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: stampfs %s [-strategy content|mtime|git|fixed=VALUE] DIR\n", name)
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return "", opts, exitOK
	} else if err != nil {
		return "", opts, exitUsage
	}
	opts, err := parseStrategy(*strategy)
	if err != nil {
		fmt.Fprintf(stderr, "stampfs %s: %v\n", name, err)
		fl.Usage()
		return "", opts, exitUsage
	}
	if fl.NArg() != 1 {
		fmt.Fprintf(stderr, "stampfs %s: want exactly one DIR, got %d arguments\n", name, fl.NArg())
		fl.Usage()
		return "", opts, exitUsage
	}
	return fl.Arg(0), opts, -1
}

func runStamp(args []string, stdout, stderr io.Writer) int {
	dir, opts, status := scanFlags("stamp", args, stderr)
	if status >= 0 {
		return status
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &opts)
	if err != nil {
		fmt.Fprintf(stderr, "stampfs stamp: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, snap.Stamp())
	return exitOK
}
