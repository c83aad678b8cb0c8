package engine

import (
	"math/rand/v2"
	"testing"
)

// TestHashSet compares the set with a map over inserts with repeats, zero included, across growth and reset.
func TestHashSet(t *testing.T) {
	var s hashSet
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 3 {
		want := map[uint64]bool{}
		for range 5000 + round*20000 {
			h := r.Uint64()
			switch r.IntN(4) {
			case 0:
				h %= 64 // small values collide in the low bits and repeat
			case 1:
				h = 0
			}
			s.add(h)
			want[h] = true
		}
		if s.len() != len(want) {
			t.Fatalf("round %d: len %d, want %d", round, s.len(), len(want))
		}
		got := map[uint64]bool{}
		s.each(func(h uint64) {
			if got[h] {
				t.Fatalf("round %d: %x listed twice", round, h)
			}
			got[h] = true
		})
		for h := range want {
			if !got[h] {
				t.Fatalf("round %d: %x missing", round, h)
			}
		}
		s.reset()
		if s.len() != 0 {
			t.Fatalf("reset left %d", s.len())
		}
		s.each(func(h uint64) { t.Fatalf("reset left %x", h) })
	}
}

// BenchmarkHashSet adds 40,000 hashes, a quarter of them distinct (a block's tokens repeat), and lists the
// set, as a flush does for a block's token filter.
func BenchmarkHashSet(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	distinct := make([]uint64, 10000)
	for i := range distinct {
		distinct[i] = r.Uint64()
	}
	adds := make([]uint64, 40000)
	for i := range adds {
		adds[i] = distinct[r.IntN(len(distinct))]
	}
	var s hashSet
	n := 0
	for b.Loop() {
		s.reset()
		for _, h := range adds {
			s.add(h)
		}
		s.each(func(uint64) { n++ })
	}
	if s.len() > len(distinct) {
		b.Fatal(s.len())
	}
}
