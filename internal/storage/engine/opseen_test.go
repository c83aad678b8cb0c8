package engine

import (
	"math/rand/v2"
	"testing"
)

// TestNewOp checks a flush worker's marks of operations against a set: each (service, name, kind) is new
// once, kinds of 8 and more included.
func TestNewOp(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4))
	st := newWireBlockStates(1)[0]
	seen := map[[3]uint32]bool{}
	for range 100_000 {
		k := [3]uint32{uint32(r.IntN(30)), uint32(r.IntN(700)), uint32(r.IntN(10))}
		if r.IntN(100) == 0 {
			k[2] = r.Uint32()
		}
		if got, want := st.newOp(k[0], k[1], k[2]), !seen[k]; got != want {
			t.Fatalf("operation %v: new %v, want %v", k, got, want)
		}
		seen[k] = true
	}
}
