// Package report holds what the benchmarks of this module share in reading
// their timings: medians and verdicts against targets.
package report

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// Median returns the median of ds, the mean of the middle two for an even
// count; 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Verdict returns "ok" when a target is met, and otherwise "MISSED" after
// clearing *ok.
func Verdict(met bool, ok *bool) string {
	if met {
		return "ok"
	}
	*ok = false
	return "MISSED"
}

// Exit ends a benchmark's main: status 2 with the error on stderr when err
// is not nil, 1 when check is set and a target was missed (ok false), else
// it returns.
func Exit(prog string, ok, check bool, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
		os.Exit(2)
	}
	if check && !ok {
		os.Exit(1)
	}
}
