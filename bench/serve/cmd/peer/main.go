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
// prints the request headers every side is measured with, for wrk's -H. The
// server stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/stampfs/stampfs/bench/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command with its arguments; a server runs until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "peer:", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintln(stderr, "peer: shutdown:", err)
		return 1
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "peer:", err)
		return 1
	}
	return 0
}
