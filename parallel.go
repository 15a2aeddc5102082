package stampfs

import (
	"sync"
	"sync/atomic"
)

// parallel calls do(i) for every i in [0, n) on workers goroutines, the
// caller's among them. Each goroutine gets its do from worker, once, so
// that it can hold state of its own (a read buffer). A do that fails stops
// the others from taking more, and parallel returns the error of the lowest
// i that failed, whatever the scheduling.
func parallel(n, workers int, worker func() func(i int) error) error {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		errAt = n
		first error
		wg    sync.WaitGroup
	)
	work := func() {
		do := worker()
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			if err := do(i); err != nil {
				mu.Lock()
				if i < errAt {
					errAt, first = i, err
				}
				mu.Unlock()
				next.Store(int64(n)) // stop the others
				return
			}
		}
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return first
}
