package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// linkFS is the file system link works on; tests replace it.
var linkFS afero.Fs = afero.NewOsFs()

// runLink publishes DIR's version into the store, makes DIR/<stamp> a
// symlink into it, prunes old versions and links, and prints the stamp alone
// on stdout. When symbolic links cannot be made there at all it still prints
// the stamp and exits with exitNoSymlinks, so that a deploy script can serve
// the stamp prefix virtually (the version is in the store all the same); a
// directory or store the user may not write is an error like any other.
func runLink(args []string, stdout, stderr io.Writer) int {
	c := newCLI("link", "stampfs link [-q] [-strategy S] [-keep N] [-grace DURATION] [-store DIR] [-manifest FILE [-prefix /static/] [-base URL]] DIR",
		"Prints the stamp. Exit status 3 means symlinks are unsupported in DIR;\nthe stamp is printed all the same, to be served virtually.", stdout, stderr)
	c.logs()
	strategy := c.fl.String("strategy", string(stampfs.Content), strategyUsage)
	keep := c.fl.Int("keep", stampfs.DefaultKeep, "how many old versions to keep besides the current one, most recently activated first")
	grace := c.fl.Duration("grace", stampfs.DefaultGrace, "keep every version activated within this; 0 for none")
	store := c.fl.String("store", "", "the version store (default DIR/"+stampfs.DefaultStore+"); on DIR's file system, so versions share bytes")
	mf := manifestFlags(c)
	pos, status := c.parse(args)
	if status >= 0 {
		return status
	}
	if len(pos) != 1 {
		return c.usageError("want exactly one DIR, got %d arguments", len(pos))
	}
	if *keep < 0 {
		return c.usageError("-keep %d: want 0 or more", *keep)
	}
	if *grace < 0 {
		return c.usageError("-grace %v: want 0 or more", *grace)
	}
	opts, err := parseStrategy(*strategy)
	if err != nil {
		return c.usageError("%v", err)
	}
	if status := mf.check(c); status >= 0 {
		return status
	}
	dir := pos[0]
	c.dirs = pos

	opts.Progress = c.progress()
	logger := c.logger()
	opts.Logger = logger
	l := stampfs.NewLinker(linkFS, dir)
	l.Keep, l.Grace, l.Logger, l.Store = *keep, *grace, logger, *store
	if *keep == 0 {
		l.Keep = -1 // none: a Linker's zero means the default
	}
	if *grace == 0 {
		l.Grace = -1
	}
	v, err := l.Publish(&opts)
	if err != nil {
		return c.fail(err)
	}
	stamp := v.Stamp
	if err := mf.write(v); err != nil {
		return c.fail(err)
	}
	if err := l.Activate(stamp); err != nil {
		link := filepath.Join(dir, stamp)
		var errno syscall.Errno
		switch {
		case permissionDenied(err) && errors.As(err, &errno):
			c.say(fmt.Sprintf("make the stamp link %s: %v", link, errno))
			return exitError
		case errors.Is(err, stampfs.ErrSymlinkUnsupported):
			c.say(fmt.Sprintf("make the stamp link %s: %s", link, c.message(err)))
			fmt.Fprintln(stdout, stamp)
			if _, err := l.Prune(stamp); err != nil {
				c.say(fmt.Sprintf("prune old versions (%s is published): %s", stamp, c.message(err)))
			}
			return exitNoSymlinks
		}
		return c.fail(err)
	}
	if _, err := l.Prune(stamp); err != nil {
		c.say(fmt.Sprintf("prune old versions and links (%s is active): %s", stamp, c.message(err)))
		return exitError
	}
	fmt.Fprintln(stdout, stamp)
	return exitOK
}

// permissionDenied reports whether err is a permission the user lacks (a
// directory they may not write), rather than a file system that refuses
// links: symlink(2) fails with EACCES for the first and EPERM for the
// second (vfat, some FUSE and network file systems).
func permissionDenied(err error) bool {
	return errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EPERM)
}
