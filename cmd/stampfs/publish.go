package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// publishProgram is the command "stampfs publish" runs, found in PATH. It
// lives in the nested module github.com/stampfs/stampfs/publish, so that
// this module links no object-store SDK.
const publishProgram = "stampfs-publish"

// publishInstall is the line that installs publishProgram.
const publishInstall = "go install github.com/stampfs/stampfs/publish/cmd/stampfs-publish@latest"

// runPublish runs stampfs-publish with the same arguments, git-style, and
// exits with its status. Interrupts are passed on to it.
func runPublish(args []string, stdout, stderr io.Writer) int {
	path, err := exec.LookPath(publishProgram)
	if err != nil {
		if wantsHelp(args) {
			fmt.Fprintf(stdout, "usage: stampfs publish -to s3://BUCKET/PREFIX [flags] DIR\n\n"+
				"stampfs publish runs %s, which is not in PATH. Install it with\n\n\t%s\n\n"+
				"and run 'stampfs help publish' again for its flags.\n", publishProgram, publishInstall)
			return exitOK
		}
		fmt.Fprintf(stderr, "stampfs publish: %s not found in PATH; install it with: %s\n", publishProgram, publishInstall)
		return exitError
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "stampfs publish: %v\n", err)
		return exitError
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sig:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case err == nil:
				return exitOK
			case errors.As(err, &exit) && exit.ExitCode() >= 0:
				return exit.ExitCode()
			}
			fmt.Fprintf(stderr, "stampfs publish: %s: %v\n", path, err)
			return exitError
		}
	}
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}
