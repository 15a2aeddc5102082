//go:build unix

package stampfs_test

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// A server rescans its directory when told to with kill -HUP, as
// `stampfs serve` does. The example sends the signal to itself.
func ExampleHandler_Refresh_sighup() {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "static/css/site.css", []byte("body { margin: 0 }\n"), 0o644)
	h, err := stampfs.New(fsys, "static", &stampfs.Options{Mode: stampfs.ModeVirtual})
	if err != nil {
		fmt.Println(err)
		return
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	refreshed := make(chan string)
	go func() {
		for range hup {
			old := h.Stamp()
			if err := h.Refresh(); err != nil {
				// The old snapshot stays in use; log and go on serving.
				refreshed <- fmt.Sprintf("refresh failed: %v", err)
				continue
			}
			refreshed <- old + " -> " + h.Stamp()
		}
	}()

	// A deploy changes a file, then signals the server.
	afero.WriteFile(fsys, "static/css/site.css", []byte("body { margin: 1em }\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	fmt.Println(<-refreshed)
	// Output:
	// dc7c4cab1fda -> 29af0027b313
}
