package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
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

// TestUnionOps checks that unionOps gives each operation the workers read once (the workers' lists each
// distinct, overlapping each other).
func TestUnionOps(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, workers := range []int{1, 2, 3} {
		states := newWireBlockStates(workers)
		all := map[part.Op]struct{}{}
		for _, st := range states {
			for range r.IntN(2000) {
				k := [3]uint32{uint32(r.IntN(5)), uint32(r.IntN(300)), uint32(r.IntN(4))}
				if r.IntN(50) == 0 {
					k[2] = 8 + uint32(r.IntN(3)) // kinds past SpanKind's, marked in a map
				}
				if st.newOp(k[0], k[1], k[2]) {
					op := part.Op{Service: fmt.Sprint("svc-", k[0]), Name: fmt.Sprint("op ", k[1]), Kind: uint8(k[2])}
					st.ops = append(st.ops, op)
					st.opKeys = append(st.opKeys, k)
					all[op] = struct{}{}
				}
			}
		}
		got := unionOps(states)
		if want := opsList(all); !slices.Equal(opsList(toSet(got)), want) || len(got) != len(want) {
			t.Fatalf("%d workers: %d operations, want %d distinct", workers, len(got), len(want))
		}
	}
}

func toSet(ops []part.Op) map[part.Op]struct{} {
	m := map[part.Op]struct{}{}
	for _, o := range ops {
		m[o] = struct{}{}
	}
	return m
}
