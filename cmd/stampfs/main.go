// Command stampfs stamps, links and serves a static directory for deploy
// scripts and non-Go apps.
//
// Usage:
//
//	stampfs stamp    [-strategy content|mtime|git|fixed=VALUE] DIR
//	stampfs link     [-strategy S] [-keep N] [-grace DURATION] DIR
//	stampfs serve    [-addr 127.0.0.1:8080] [-prefix /static/] [-mode auto|symlink|virtual] [-strategy S] [-stale serve|notfound|redirect] [DIR]
//	stampfs manifest [-strategy S] [-prefix /static/] [-base URL] [-o FILE] DIR
//	stampfs nginx    [-prefix /static/] [-brotli] DIR
//	stampfs apache   [-prefix /static/] DIR
//
// Exit status: 0 on success, 1 on an error, 2 on a usage error, 3 when
// symlinks are unsupported where link was asked to make one.
package main

import (
	"fmt"
	"io"
	"os"
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
	case "-h", "-help", "--help", "help":
		usage(stderr) // as every subcommand's -h does
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "stampfs: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: stampfs <command> [flags] [DIR]

commands:
  stamp     print the stamp of DIR
  link      make DIR/<stamp> a symlink to DIR, prune old ones, print the stamp
  serve     serve DIR (or a demo site) under /static/<stamp>/
  manifest  print DIR's stamp and files as JSON
  nginx     print nginx location blocks that serve DIR's versions and live tree
  apache    print Apache 2.4 directives that serve DIR's versions and live tree
`)
}
