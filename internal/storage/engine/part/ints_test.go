package part

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestIntsAndIDsRoundTrip(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for _, n := range []int{1, 7, 8, 9, 100, 1000} {
		vals := make([]uint64, n)
		for i := range vals {
			vals[i] = r.Uint64() >> r.IntN(64)
		}
		for _, raw := range [][]byte{appendUvarints(nil, vals), appendFixed(nil, vals)} {
			got, err := decodeInts(raw, n)
			if err != nil || !slices.Equal(got, vals) {
				t.Fatalf("n %d mode %d: %v, %v", n, raw[0], got, err)
			}
		}
		for _, w := range []int{8, 16} {
			ids := make([]byte, n*w)
			for i := 0; i < n; i++ {
				if r.IntN(3) > 0 {
					for j := range w {
						ids[i*w+j] = byte(r.IntN(256))
					}
				}
			}
			raw := appendIDs(nil, ids, w)
			got, err := decodeIDs(raw, n, w)
			if err != nil || !bytes.Equal(got, ids) {
				t.Fatalf("ids n %d w %d mode %d: %v", n, w, raw[0], err)
			}
		}
	}
}

// FuzzIntsIDs decodes arbitrary integer and ID columns: errors are fine, panics are not.
func FuzzIntsIDs(f *testing.F) {
	f.Add(appendFixed(nil, []uint64{1, 300, 70000}), 3)
	f.Add(appendUvarints(nil, []uint64{1, 300, 70000}), 3)
	f.Add(appendIDs(nil, make([]byte, 24), 8), 3)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		if n <= 0 || n > 1<<16 {
			return
		}
		decodeInts(raw, n)
		for _, w := range []int{8, 16} {
			if ids, err := decodeIDs(raw, n, w); err == nil && len(ids) != n*w {
				t.Fatalf("%d bytes of ids for %d rows of %d", len(ids), n, w)
			}
		}
	})
}
