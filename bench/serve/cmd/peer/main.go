// Command peer serves one side of the serving benchmark on a TCP address, for
// the loopback benchmark (loopback.sh). It prints the asset's URL on its
// first line of output once it is listening.
//
// Usage:
//
//	peer -side fileserver|hashfs|memory|stampfs [-addr 127.0.0.1:0] DIR
//	peer -fixture DIR
//	peer -headers
//
// DIR must hold the benchmark's asset: -fixture writes it and exits. -headers
// prints the request headers every side is measured with, for wrk's -H.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/stampfs/stampfs/bench/serve"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("peer", flag.ContinueOnError)
	fl.SetOutput(stderr)
	name := fl.String("side", "", "the side to serve: fileserver, hashfs, memory or stampfs")
	addr := fl.String("addr", "127.0.0.1:0", "TCP address to listen on")
	fixture := fl.Bool("fixture", false, "write the benchmark's asset into DIR and exit")
	headers := fl.Bool("headers", false, "print the benchmark's request headers, one \"Name: value\" a line, and exit")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *headers {
		for _, k := range slices.Sorted(maps.Keys(serve.BrowserHeaders)) {
			fmt.Fprintf(stdout, "%s: %s\n", k, serve.BrowserHeaders[k])
		}
		return 0
	}
	if fl.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: peer -side NAME [-addr HOST:PORT] DIR | peer -fixture DIR")
		return 2
	}
	dir := fl.Arg(0)
	if *fixture {
		if err := serve.WriteFixture(dir); err != nil {
			fmt.Fprintln(stderr, "peer:", err)
			return 1
		}
		return 0
	}
	sides, err := serve.Sides(dir)
	if err != nil {
		fmt.Fprintln(stderr, "peer:", err)
		return 1
	}
	i := slices.IndexFunc(sides, func(s serve.Side) bool { return s.Name == *name })
	if i < 0 {
		fmt.Fprintf(stderr, "peer: unknown side %q\n", *name)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "peer:", err)
		return 1
	}
	fmt.Fprintf(stdout, "http://%s%s\n", ln.Addr(), sides[i].Path)
	srv := &http.Server{Handler: sides[i].Handler, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "peer:", err)
		return 1
	}
	return 0
}
