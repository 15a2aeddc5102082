// Command stampfs stamps, links and serves a static directory for deploy
// scripts and non-Go apps.
//
// Usage:
//
//	stampfs stamp    [-strategy content|mtime|git|fixed=VALUE] DIR
//	stampfs link     [-strategy S] [-keep N] [-grace DURATION] DIR
//	stampfs serve    [-addr 127.0.0.1:8080] [-prefix /static/] [-mode auto|symlink|virtual] [-strategy S] [-stale serve|notfound|redirect] [DIR]
//	stampfs manifest [-strategy S] DIR
//	stampfs nginx    [-prefix /static/] DIR
//	stampfs publish  -to s3://BUCKET/PREFIX [-endpoint URL] [-region R] [-keep N] [-grace D] [-base URL] DIR
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
	"publish":  runPublish,
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
  nginx     print nginx location blocks that serve DIR through its stamp links
  publish   put DIR's version in an S3-compatible bucket for a CDN (runs stampfs-publish)
`)
}
