package part

import (
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
