package memory

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopK(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 200 {
		n, k := rng.IntN(100), rng.IntN(30)
		xs := make([]int, n)
		for i := range xs {
			xs[i] = rng.IntN(50) // duplicates on purpose
		}
		top := newTopK(k, func(a, b int) bool { return a > b })
		for _, x := range xs {
			top.offer(x)
		}
		want := slices.Clone(xs)
		slices.SortFunc(want, func(a, b int) int { return b - a })
		want = want[:min(k, n)]
		if got := top.sorted(); !slices.Equal(got, want) {
			t.Fatalf("top %d of %v = %v, want %v", k, xs, got, want)
		}
	}
}
