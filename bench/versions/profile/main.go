// Command profile runs what "stampfs link" runs on a directory (publish,
// activate, prune) once, under the CPU profiler, and prints how long each
// step took, so that the figures of a step can be read with go tool pprof:
//
//	cd bench && go run ./versions/profile -cpuprofile link.prof DIR
//	go tool pprof -top -cum link.prof
//
// It links with -keep 2 -grace 0, as the versions benchmark does.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

func main() {
	out := flag.String("cpuprofile", "link.prof", "where to write the CPU profile")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: profile [-cpuprofile FILE] DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	debug.SetGCPercent(400) // as the command's one-shot runs
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	l.Keep, l.Grace = 2, -1
	t0 := time.Now()
	v, err := l.Publish(nil)
	if err != nil {
		return err
	}
	t1 := time.Now()
	if err := l.Activate(v.Stamp); err != nil {
		return err
	}
	t2 := time.Now()
	removed, err := l.Prune(v.Stamp)
	if err != nil {
		return err
	}
	t3 := time.Now()
	fmt.Printf("%s publish %v activate %v prune %v (%d removed)\n", v.Stamp, t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), len(removed))
	return nil
}
