package stampfs_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// Environment of a TestLinkerRaceHelper process.
const (
	raceDirEnv    = "STAMPFS_RACE_DIR"    // the directory to link in
	raceStampEnv  = "STAMPFS_RACE_STAMP"  // the stamp this process activates
	raceKeepEnv   = "STAMPFS_RACE_KEEP"   // Linker.Keep
	raceGraceEnv  = "STAMPFS_RACE_GRACE"  // Linker.Grace
	raceRoundsEnv = "STAMPFS_RACE_ROUNDS" // how many times to activate and prune
	raceStartEnv  = "STAMPFS_RACE_START"  // a file whose appearance starts every process at once
)

// TestLinkerRace starts many processes that publish, activate and prune the
// same directory at once while a reader follows the stamp links.
func TestLinkerRace(t *testing.T) {
	const (
		processes = 32
		rounds    = 40
	)
	tests := []struct {
		name   string
		stamps []string // process i activates stamps[i%len(stamps)]
		keep   int
		grace  time.Duration
		aged   bool // the versions start older than grace, as in a rollback: the reader may miss until they are renewed
	}{
		{"one stamp, keep 0, grace 0", []string{"v2"}, 0, 0, false},
		{"rolling deploy of two stamps", []string{"blue", "green"}, 0, time.Hour, false},
		{"rollback racing a prune", []string{"blue", "green"}, 0, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := osLinkFS.make(t)
			makeLinkTree(t, osLinkFS, fsys, dir,
				"some/file", "keepfile", "keepdir/", "elsewhere -> some @2h",
				"1001 -> . @3h", "1002 -> $DIR @2h", ".stampfs-tmp-old -> . @2h")
			for _, s := range tt.stamps {
				l := stampfs.NewLinker(fsys, dir)
				v := publish(t, l, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: s})
				require.NoError(t, l.Activate(s))
				if tt.aged {
					old := time.Now().Add(-3 * time.Hour)
					require.NoError(t, os.Chtimes(v.Dir(), old, old))
				}
			}

			// The reader: every stamp link must serve the file throughout.
			var reads, misses atomic.Int64
			var firstMiss atomic.Value
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					for _, s := range tt.stamps {
						b, err := os.ReadFile(filepath.Join(dir, s, "some", "file"))
						reads.Add(1)
						if err != nil || string(b) != "some/file\n" {
							misses.Add(1)
							firstMiss.CompareAndSwap(nil, fmt.Sprintf("%q, %v", b, err))
						}
					}
				}
			})

			start := filepath.Join(t.TempDir(), "start")
			cmds := make([]*exec.Cmd, processes)
			outs := make([]bytes.Buffer, processes)
			for i := range cmds {
				cmd := exec.Command(os.Args[0], "-test.run=^TestLinkerRaceHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(),
					raceDirEnv+"="+dir,
					raceStampEnv+"="+tt.stamps[i%len(tt.stamps)],
					raceKeepEnv+"="+strconv.Itoa(tt.keep),
					raceGraceEnv+"="+tt.grace.String(),
					raceRoundsEnv+"="+strconv.Itoa(rounds),
					raceStartEnv+"="+start,
				)
				cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
				require.NoError(t, cmd.Start())
				cmds[i] = cmd
			}
			require.NoError(t, os.WriteFile(start, nil, 0o644))
			for i, cmd := range cmds {
				assert.NoErrorf(t, cmd.Wait(), "process %d:\n%s", i, outs[i].String())
			}
			close(stop)
			wg.Wait()

			assert.NotZero(t, reads.Load())
			if !tt.aged {
				assert.Zerof(t, misses.Load(), "of %d reads through the links, the first miss: %v", reads.Load(), firstMiss.Load())
			}
			want := []string{".stampfs/", "elsewhere -> some", "keepdir/", "keepfile", "some/"}
			for _, s := range tt.stamps {
				want = append(want, s+" -> .stampfs/"+s)
			}
			slices.Sort(want)
			assert.Equal(t, want, listTop(t, fsys, dir), "exactly the current links remain, and no temporary ones")
		})
	}
}

// TestLinkerRaceHelper is one of TestLinkerRace's processes.
func TestLinkerRaceHelper(t *testing.T) {
	dir := os.Getenv(raceDirEnv)
	if dir == "" {
		t.Skip("runs only as a subprocess of TestLinkerRace")
	}
	stamp := os.Getenv(raceStampEnv)
	keep, err := strconv.Atoi(os.Getenv(raceKeepEnv))
	require.NoError(t, err)
	grace, err := time.ParseDuration(os.Getenv(raceGraceEnv))
	require.NoError(t, err)
	rounds, err := strconv.Atoi(os.Getenv(raceRoundsEnv))
	require.NoError(t, err)
	start := os.Getenv(raceStartEnv)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(start); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "never started")
	}

	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	l.Keep, l.Grace = orNone(keep), orNone(grace)
	for r := range rounds {
		_, err := l.Publish(&stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: stamp})
		require.NoErrorf(t, err, "round %d", r)
		require.NoErrorf(t, l.Activate(stamp), "round %d", r)
		_, err = l.Prune(stamp)
		require.NoErrorf(t, err, "round %d", r)
	}
}
