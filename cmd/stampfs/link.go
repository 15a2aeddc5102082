package main

import (
	"fmt"
	"io"
)

func runLink(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stampfs link: not implemented yet")
	return exitError
}
