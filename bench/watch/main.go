//go:build linux

// Command watch measures what stampfs.Handler.Watch costs: the CPU time of
// polling an unchanged tree, and the latency from a write to the new stamp
// being served. Usage, from bench/:
//
//	go run ./watch -files 10000 -dirs 100 -interval 1s -for 20s -changes 10
//
// It writes -files files of 4 KiB into -dirs directories of a temporary
// directory, makes a Handler over it (virtual mode), and runs Watch with
// -interval (Quiet defaults to the interval). It then reads the process's
// CPU time (user + system, getrusage) over -for of idle watching, and times
// -changes single-file writes until the Handler serves the new stamp.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

func main() {
	files := flag.Int("files", 10000, "number of files")
	dirs := flag.Int("dirs", 100, "number of directories")
	interval := flag.Duration("interval", time.Second, "WatchOptions.Interval")
	quiet := flag.Duration("quiet", 0, "WatchOptions.Quiet (0: the interval)")
	idle := flag.Duration("for", 20*time.Second, "how long to measure idle polling")
	changes := flag.Int("changes", 10, "how many changes to time")
	flag.Parse()
	if err := run(*files, *dirs, *interval, *quiet, *idle, *changes); err != nil {
		fmt.Fprintln(os.Stderr, "watch:", err)
		os.Exit(1)
	}
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(files, dirs int, interval, quiet, idle time.Duration, changes int) error {
	dir, err := os.MkdirTemp("", "stampfs-watch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	body := make([]byte, 4096)
	for i := range files {
		d := filepath.Join(dir, fmt.Sprintf("d%03d", i%dirs))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		body[0] = byte(i)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%05d.js", i)), body, 0o644); err != nil {
			return err
		}
	}
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Mode: stampfs.ModeVirtual})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Watch(ctx, &stampfs.WatchOptions{Interval: interval, Quiet: quiet})

	time.Sleep(interval) // past the first poll
	c0, t0 := cpu(), time.Now()
	time.Sleep(idle)
	used, wall := cpu()-c0, time.Since(t0)
	polls := float64(wall) / float64(interval)
	fmt.Printf("%d files, interval %v: idle polling used %v CPU in %v (%.2f%% of one core, %.1f ms per poll)\n",
		files, interval, used.Round(time.Millisecond), wall.Round(time.Millisecond),
		100*float64(used)/float64(wall), float64(used)/polls/1e6)

	var lat []time.Duration
	for i := range changes {
		old := h.Stamp()
		body[1] = byte(i + 1)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(dir, "d000", "f00000.js"), body, 0o644); err != nil {
			return err
		}
		for h.Stamp() == old {
			if time.Since(start) > time.Minute {
				return fmt.Errorf("change %d not picked up within a minute", i)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		fmt.Printf("latency from a write to the new stamp over %d changes: min %v, median %v, max %v\n",
			len(lat), lat[0].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	}
	return nil
}
