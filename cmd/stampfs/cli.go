package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
)

// cli is the shared shape of a subcommand: its flags, its usage, and the one
// voice of its messages, "stampfs NAME: what failed: why".
type cli struct {
	name           string // "stamp"
	synopsis       string // the usage line, after "usage: "
	notes          string // printed after the flags by help, if not empty
	stdout, stderr io.Writer
	fl             *flag.FlagSet
	quiet          *bool
	dirs           []string      // as the user gave them, for errors
	line           *progressLine // the progress line on stderr, when there is one
}

func newCLI(name, synopsis, notes string, stdout, stderr io.Writer) *cli {
	fl := flag.NewFlagSet("stampfs "+name, flag.ContinueOnError)
	fl.SetOutput(io.Discard) // messages are ours: see parse
	fl.Usage = func() {}
	return &cli{name: name, synopsis: synopsis, notes: notes, stdout: stdout, stderr: stderr, fl: fl}
}

// logs adds -q, for a command that logs and shows progress.
func (c *cli) logs() {
	c.quiet = c.fl.Bool("q", false, "quiet: no progress line; log warnings and errors only")
}

// help prints the usage, the flags and the notes on w.
func (c *cli) help(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n", c.synopsis)
	flags := 0
	c.fl.VisitAll(func(*flag.Flag) { flags++ })
	if flags > 0 {
		fmt.Fprintln(w, "\nflags:")
		c.fl.SetOutput(w)
		c.fl.PrintDefaults()
		c.fl.SetOutput(io.Discard)
	}
	if c.notes != "" {
		fmt.Fprintf(w, "\n%s\n", c.notes)
	}
}

// parse parses args, where flags may come before or after the positional
// arguments ("--" ends the flags), and returns the positional arguments.
// For -h it prints the help on stdout and returns exitOK; for a usage error
// it prints the error and the usage line on stderr and returns exitUsage;
// otherwise the status is -1.
func (c *cli) parse(args []string) (pos []string, status int) {
	for {
		if err := c.fl.Parse(args); errors.Is(err, flag.ErrHelp) {
			c.help(c.stdout)
			return nil, exitOK
		} else if err != nil {
			return nil, c.usageError("%v", err)
		}
		rest := c.fl.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), -1
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// usageError prints the error and the usage line on stderr and returns
// exitUsage.
func (c *cli) usageError(format string, a ...any) int {
	c.say(fmt.Sprintf(format, a...))
	fmt.Fprintf(c.stderr, "usage: %s\nRun 'stampfs help %s' for details.\n", c.synopsis, c.name)
	return exitUsage
}

// fail prints err and returns exitError.
func (c *cli) fail(err error) int {
	c.say(c.message(err))
	return exitError
}

// say prints one line "stampfs NAME: msg" on stderr.
func (c *cli) say(msg string) {
	fmt.Fprintf(c.errOut(), "stampfs %s: %s\n", c.name, msg)
}

// errOut is stderr, through the progress line when there is one, so that
// messages are written above it.
func (c *cli) errOut() io.Writer {
	if c.line != nil {
		return c.line
	}
	return c.stderr
}

// message is err's text without the library's "stampfs: " prefixes (the
// line already names stampfs) and with the absolute forms of the user's
// directories put back as the user gave them.
func (c *cli) message(err error) string {
	msg := strings.TrimPrefix(err.Error(), "stampfs: ")
	msg = strings.ReplaceAll(msg, ": stampfs: ", ": ")
	for _, dir := range c.dirs {
		msg = userPath(msg, dir)
	}
	return msg
}

// userPath replaces in msg the absolute path of dir, and that path with
// links resolved, by dir as given, where it stands as a whole path or as a
// path's leading directories.
func userPath(msg, dir string) string {
	if dir == "" || filepath.IsAbs(dir) {
		return msg
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return msg
	}
	given := filepath.Clean(dir)
	forms := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		forms = append(forms, real)
	}
	for _, form := range forms {
		var b strings.Builder
		for {
			i := strings.Index(msg, form)
			if i < 0 {
				break
			}
			end := i + len(form)
			b.WriteString(msg[:i])
			if whole := end == len(msg) || strings.IndexByte("/: )\"'", msg[end]) >= 0; whole && (i == 0 || strings.IndexByte(" (\"'", msg[i-1]) >= 0) {
				b.WriteString(given)
			} else {
				b.WriteString(form)
			}
			msg = msg[end:]
		}
		b.WriteString(msg)
		msg = b.String()
	}
	return msg
}

// logger logs on stderr, info and up, or warnings and up with -q.
func (c *cli) logger() *slog.Logger {
	level := slog.LevelInfo
	if c.quiet != nil && *c.quiet {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(c.errOut(), &slog.HandlerOptions{Level: level}))
}

// set reports whether the flag name was given on the command line.
func (c *cli) set(name string) bool {
	found := false
	c.fl.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
