package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestScanOrderedMatchesSequential checks that a scan on several goroutines consumes the same units, in the
// same order, as a scan one unit at a time, for random stop points.
func TestScanOrderedMatchesSequential(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for range 200 {
		n := r.IntN(40)
		stopAfter := r.IntN(n + 2) // stop once this many refs are consumed
		run := func(workers int) []int {
			var consumed []int
			refs := 0
			err := scanOrdered(context.Background(), n, workers,
				func(int) bool { return refs >= stopAfter },
				func(i int) ([]ref, error) { return make([]ref, i%2), nil },
				func(i int, rs []ref) {
					consumed = append(consumed, i)
					refs += len(rs)
				})
			if err != nil {
				t.Fatal(err)
			}
			return consumed
		}
		want := run(1)
		for _, w := range []int{2, 3, 8} {
			if got := run(w); !slices.Equal(got, want) {
				t.Fatalf("seed %d: n %d stop after %d refs: %d workers consumed %v, one at a time %v", seed, n, stopAfter, w, got, want)
			}
		}
	}
}

func TestScanOrderedError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := scanOrdered(ctx, 10, 2, func(int) bool { return false }, func(int) ([]ref, error) { return nil, nil }, func(int, []ref) {})
	if err == nil {
		t.Fatal("a cancelled scan returned no error")
	}
	boom := context.DeadlineExceeded
	err = scanOrdered(context.Background(), 10, 2, func(int) bool { return false },
		func(i int) ([]ref, error) {
			if i == 5 {
				return nil, boom
			}
			return nil, nil
		}, func(int, []ref) {})
	if err != boom {
		t.Fatalf("got %v, want the scan's error", err)
	}
}
