package part

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// wordHashesOf is what AppendWordHashes must return: Tokens, then HashToken of each word.
func wordHashesOf(s string) []uint64 {
	var want []uint64
	Tokens(s, func(tok string) { want = append(want, HashToken(TokenWord, tok, 0, "")) })
	return want
}

func TestAppendWordHashes(t *testing.T) {
	for _, s := range []string{
		"", " ", "a", "GET /api/v1/users/42 took 17ms", "  two  spaces  ", "trailing word",
		"ünïcode wörds", "a_b-c.d", "x\x00y\xffz", "12345",
	} {
		got := AppendWordHashes([]uint64{7}, s)
		if want := append([]uint64{7}, wordHashesOf(s)...); !slices.Equal(got, want) {
			t.Errorf("AppendWordHashes(%q) = %x, want %x", s, got, want)
		}
	}
	if h := AppendWordHashes(nil, "order"); h[0] != HashToken(TokenWord, "order", 0, "") || h[0] == Hash("order") {
		t.Errorf("the hash of a word must be HashToken's with the word prefix")
	}
}

// FuzzAppendWordHashes checks the one-pass word hashing against Tokens and HashToken on any text.
func FuzzAppendWordHashes(f *testing.F) {
	f.Add("Processed order 12345678 for user-10042 in 3.2ms")
	f.Add("\xc3\xa9t\xc3\xa9 _x_ \x80")
	f.Add("{\"k\":\"v\",\"n\":[1,2]}")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendWordHashes(nil, s), wordHashesOf(s); !slices.Equal(got, want) {
			t.Fatalf("AppendWordHashes(%q) = %x, want %x", s, got, want)
		}
	})
}

func TestRemainder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ds := []uint64{2, 3, 64, 640, 1<<20 + 64, 1 << 40, 1<<63 + 1, ^uint64(0)}
	for range 200 {
		ds = append(ds, 64*(1+rng.Uint64N(1<<20)), rng.Uint64()|2)
	}
	as := []uint64{0, 1, ^uint64(0), 1 << 63, ^uint64(0) - 1}
	for _, d := range ds {
		mh, ml := remainderMagic(d)
		for _, a := range append(as, d-1, d, d+1, 2*d-1, rng.Uint64(), rng.Uint64(), rng.Uint64()) {
			if got := remainder(a, mh, ml, d); got != a%d {
				t.Fatalf("remainder(%d, %d) = %d, want %d", a, d, got, a%d)
			}
		}
	}
}

func TestAddAllSameAsAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 5, 100, 1000, 12345} {
		hs := make([]uint64, n)
		for i := range hs {
			hs[i] = rng.Uint64()
		}
		a, b := NewBloom(n, TokenBloomBits), NewBloom(n, TokenBloomBits)
		for _, h := range hs {
			a.Add(h)
		}
		b.AddAll(func(add func(uint64)) {
			for _, h := range hs {
				add(h)
			}
		})
		if !slices.Equal(a, b) {
			t.Fatalf("%d hashes: AddAll's filter differs from Add's", n)
		}
	}
}

// BenchmarkBloomAdd adds 10,000 hashes to a token filter sized for them, one Add each or by AddAll.
func BenchmarkBloomAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	hs := make([]uint64, 10000)
	for i := range hs {
		hs[i] = rng.Uint64()
	}
	f := NewBloom(len(hs), TokenBloomBits)
	b.Run("Add", func(b *testing.B) {
		for b.Loop() {
			for _, h := range hs {
				f.Add(h)
			}
		}
	})
	b.Run("AddAll", func(b *testing.B) {
		for b.Loop() {
			f.AddAll(func(add func(uint64)) {
				for _, h := range hs {
					add(h)
				}
			})
		}
	})
}
