package main

import (
	"fmt"
	"io"
)

func runNginx(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stampfs nginx: not implemented yet")
	return exitError
}
