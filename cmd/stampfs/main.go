// Command stampfs stamps, links and serves a static directory for deploy
// scripts and non-Go apps.
//
// Usage:
//
//	stampfs stamp    [-q] [-strategy content|mtime|git|fixed=VALUE] DIR
//	stampfs link     [-q] [-strategy S] [-keep N] [-grace DURATION] [-store DIR] [-manifest FILE [-prefix /static/] [-base URL]] DIR
//	stampfs versions [-json] [-store DIR] DIR
//	stampfs serve    [-q] [-addr 127.0.0.1:8080] [-prefix /static/] [-mode auto|symlink|virtual] [-strategy S] [-stale serve|notfound|redirect] [-watch] [-access-log[=common|slog]] [DIR]
//	stampfs manifest [-q] [-strategy S] [-prefix /static/] [-base URL] [-o FILE] DIR
//	stampfs nginx    [-prefix /static/] [-store DIR] [-brotli] DIR
//	stampfs apache   [-prefix /static/] [-store DIR] DIR
//	stampfs publish  -to s3://BUCKET/PREFIX [-endpoint URL] [-region R] [-keep N] [-grace D] [-base URL] DIR
//	stampfs version
//	stampfs help     [COMMAND]
//
// Flags may come before or after DIR. Help goes to stdout; every error is
// one line on stderr, "stampfs COMMAND: what failed: why".
// On a terminal, stamp, link, manifest and serve (at startup) keep one
// progress line on stderr while their scan or publish runs longer than a
// second; -q turns it off.
//
// publish runs stampfs-publish (go install
// github.com/stampfs/stampfs/publish/cmd/stampfs-publish@latest) from PATH
// with the same arguments: the AWS SDK lives in that nested module, not here.
//
// Exit status: 0 on success, 1 on an error, 2 on a usage error, 3 when
// symlinks are unsupported where link was asked to make one.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

// Exit statuses shared by every subcommand.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitNoSymlinks = 3
)

// command runs one subcommand with its arguments (after the name) and returns
// the process exit status.
type command func(args []string, stdout, stderr io.Writer) int

var commands = map[string]command{
	"stamp":    runStamp,
	"link":     runLink,
	"serve":    runServe,
	"manifest": runManifest,
	"nginx":    runNginx,
	"apache":   runApache,
	"publish":  runPublish,
	"version":  runVersion,
	"versions": runVersions,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	case "help":
		return runHelp(args[1:], stdout, stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "stampfs: unknown command %q\nRun 'stampfs help' for usage.\n", args[0])
		return exitUsage
	}
	if args[0] != "serve" && os.Getenv("GOGC") == "" {
		// A one-shot command over a large tree allocates its tables once
		// and exits: collecting garbage as a server would costs it a
		// quarter of its CPU time. (GOGC still overrides this.)
		debug.SetGCPercent(400)
	}
	return cmd(args[1:], stdout, stderr)
}

// runHelp prints the usage of the command named, or of stampfs, on stdout.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		usage(stdout)
		return exitOK
	case len(args) > 1:
		fmt.Fprintf(stderr, "stampfs help: want at most one command, got %d arguments\nusage: stampfs help [COMMAND]\n", len(args))
		return exitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "stampfs help: unknown command %q\nRun 'stampfs help' for usage.\n", args[0])
		return exitUsage
	}
	return cmd([]string{"-h"}, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: stampfs <command> [flags] [DIR]

commands:
  stamp     print the stamp of DIR
  link      publish DIR's version, link DIR/<stamp> to it, prune old ones, print the stamp
  versions  list the versions in DIR's store, newest first
  serve     serve DIR (or a demo site) under /static/<stamp>/
  manifest  print DIR's manifest: each served file's URL and integrity, as JSON
  nginx     print nginx location blocks that serve DIR's versions and live tree
  apache    print Apache 2.4 directives that serve DIR's versions and live tree
  publish   put DIR's version in an S3-compatible bucket for a CDN (runs stampfs-publish)
  version   print the version of stampfs

Run 'stampfs help <command>' for its flags.
`)
}

// runVersion prints the module version, the VCS revision and the Go
// version the binary was built with.
func runVersion(args []string, stdout, stderr io.Writer) int {
	c := newCLI("version", "stampfs version", "", stdout, stderr)
	pos, status := c.parse(args)
	if status >= 0 {
		return status
	}
	if len(pos) > 0 {
		return c.usageError("want no arguments, got %d", len(pos))
	}
	fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
	return exitOK
}

// versionLine formats build information as
// "stampfs v1.2.3, revision 1a2b3c4d5e6f (modified), go1.26.0 linux/amd64".
// A binary from go run or a test has version "(devel)"; one built outside
// a checkout (go install …@latest) has no revision.
func versionLine(info *debug.BuildInfo, ok bool) string {
	version, revision, modified := "(devel)", "unknown", ""
	if ok {
		if v := info.Main.Version; v != "" {
			version = v
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && s.Value != "":
				revision = s.Value
				if len(revision) > 12 {
					revision = revision[:12]
				}
			case s.Key == "vcs.modified" && s.Value == "true":
				modified = " (modified)"
			}
		}
	}
	return fmt.Sprintf("stampfs %s, revision %s%s, %s %s/%s", version, revision, modified, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
