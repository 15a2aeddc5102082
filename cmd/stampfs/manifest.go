package main

import (
	"fmt"
	"io"
)

func runManifest(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stampfs manifest: not implemented yet")
	return exitError
}
