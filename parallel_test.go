package stampfs

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParallel: every index is done once, each goroutine's state is its
// own, and of several failures the lowest index's error is returned,
// whatever the scheduling.
func TestParallel(t *testing.T) {
	var done [1000]atomic.Int32
	var workers atomic.Int32
	require.NoError(t, parallel(len(done), 4, func() func(int) error {
		workers.Add(1)
		return func(i int) error { done[i].Add(1); return nil }
	}))
	for i := range done {
		assert.Equal(t, int32(1), done[i].Load(), "index %d", i)
	}
	assert.LessOrEqual(t, workers.Load(), int32(4))

	for range 50 {
		err := parallel(1000, 4, func() func(int) error {
			return func(i int) error {
				if i == 300 || i == 301 || i == 700 {
					return fmt.Errorf("failed at %d", i)
				}
				return nil
			}
		})
		require.EqualError(t, err, "failed at 300")
	}
	require.NoError(t, parallel(0, 4, func() func(int) error { return func(int) error { return fmt.Errorf("never called") } }))
}
