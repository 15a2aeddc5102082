package main

import (
	"fmt"
	"io"
)

func runStamp(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stampfs stamp: not implemented yet")
	return exitError
}
