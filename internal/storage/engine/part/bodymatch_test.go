package part

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// checkMatch compares MatchBodies with a search of every rebuilt body, on a column as the writer lays it out
// (MatchBodies relies on the writer's invariants: digit runs hold digits, skeletons no two digits in a row).
func checkMatch(t *testing.T, raw []byte, n int, needle []byte) {
	t.Helper()
	str, hit, ok, err := MatchBodies(raw, n, needle)
	bodies, derr := decodeBodies(raw, n)
	if derr != nil {
		return // a column MatchBodies may or may not notice is broken
	}
	var e bodyEncoder
	rows := make([]Row, len(bodies))
	for i, b := range bodies {
		rows[i].Body = b
	}
	if !bytes.Equal(e.encode(nil, rows), raw) {
		return // not a column the writer makes
	}
	if err != nil {
		t.Fatalf("needle %q: %v on a column that decodes", needle, err)
	}
	if !ok {
		return
	}
	for i, b := range bodies {
		if str[i] != (b != nil) || hit[i] != (b != nil && bytes.Contains(b, needle)) {
			t.Fatalf("needle %q row %d body %q: str %v hit %v", needle, i, b, str[i], hit[i])
		}
	}
}

func TestMatchBodies(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	pieces := []string{"order ", "12", "3", "4567", "user-", "x", "\x01", " ms", "0", "99", "é"}
	needles := []string{"order", "12", "23", "34", "45", "567", "1234", "rder 1", "user-", "x", " ms", "9", "\x01",
		"é", "zebra", "order 12", "00"}
	var matched int
	for range 2000 {
		rows := make([]Row, r.IntN(20))
		for i := range rows {
			if r.IntN(6) == 0 {
				continue
			}
			var b []byte
			for range r.IntN(6) {
				b = append(b, pieces[r.IntN(len(pieces))]...)
			}
			rows[i].Body = append([]byte{}, b...)
		}
		var e bodyEncoder
		raw := e.encode(nil, rows)
		for _, nd := range needles {
			if _, _, ok, _ := MatchBodies(raw, len(rows), []byte(nd)); ok {
				matched++
			}
			checkMatch(t, raw, len(rows), []byte(nd))
		}
	}
	if matched == 0 {
		t.Fatalf("seed %d: MatchBodies answered no needle", seed)
	}
	// The needles it must answer itself.
	var e bodyEncoder
	raw := e.encode(nil, bodyRows([]byte("order 1234 for zebra"), nil))
	for _, nd := range []string{"order", "1234", "zebra"} {
		str, hit, ok, err := MatchBodies(raw, 2, []byte(nd))
		if !ok || err != nil || !str[0] || str[1] || !hit[0] || hit[1] {
			t.Errorf("needle %q: str %v hit %v ok %v err %v", nd, str, hit, ok, err)
		}
	}
	for _, nd := range []string{"r 1", "4", "a"} {
		if _, _, ok, _ := MatchBodies(raw, 2, []byte(nd)); ok {
			t.Errorf("needle %q mixes digits and other bytes, yet was answered", nd)
		}
	}
}

// FuzzMatchBodies feeds arbitrary body columns: MatchBodies must not panic, and on a column that decodes it
// must agree with a search of the rebuilt bodies.
func FuzzMatchBodies(f *testing.F) {
	var e bodyEncoder
	f.Add(e.encode(nil, bodyRows([]byte("Processed order 12345678 for user-10042"), nil, []byte("a\x01b 77"))), 3, "order")
	f.Add(e.encode(nil, bodyRows([]byte("x 12 y 345"), []byte("12345"))), 2, "234")
	f.Add([]byte{1, 1, 3, 'a', 1, 'b', 2, '4', '2'}, 2, "42")
	f.Fuzz(func(t *testing.T, raw []byte, n int, needle string) {
		if n < 0 || n > 1000 {
			return
		}
		checkMatch(t, raw, n, []byte(needle))
	})
}
