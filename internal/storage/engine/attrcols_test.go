package engine

import (
	"bytes"
	"fmt"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestAttrColsRoundTrip(t *testing.T) {
	var rows []pcommon.Map
	for i := range 4 {
		m := pcommon.NewMap()
		m.PutBool("b", true)
		m.PutStr("s", "v")
		if i%2 == 0 {
			m.PutInt("i", int64(i))
		}
		m.PutDouble("d", 1.5)
		m.PutEmptySlice("arr").AppendEmpty().SetStr("x")
		m.PutStr("last", "z")
		rows = append(rows, m)
	}
	var c attrCols
	c.reset()
	var stripped []pcommon.Map
	for _, m := range rows {
		keep := c.add(m)
		cp := pcommon.NewMap()
		i := 0
		for k, v := range m.All() {
			if len(keep) > 0 && keep[0] == i {
				v.CopyTo(cp.PutEmpty(k))
				keep = keep[1:]
			}
			i++
		}
		stripped = append(stripped, cp)
		if cp.Len() != 3 {
			t.Fatalf("%d attributes left in the row, want the bool, double and array", cp.Len())
		}
	}
	d, err := decodeAttrCols(c.encode(nil), len(rows), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range stripped {
		d.restore(i, m)
		var got, want []string
		for k, v := range m.All() {
			got = append(got, k+"="+v.AsString())
		}
		for k, v := range rows[i].All() {
			want = append(want, k+"="+v.AsString())
		}
		if len(got) != len(want) {
			t.Fatalf("row %d: %v, want %v", i, got, want)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("row %d: %v, want %v (order included)", i, got, want)
			}
		}
	}
	raw := c.encode(nil)
	if eq, err := attrStrEq(raw, 4, nil, "s", "v"); err != nil || len(eq) != 4 || !eq[3] {
		t.Fatalf("attrStrEq(s=v) = %v, %v", eq, err)
	}
	if eq, _ := attrStrEq(raw, 4, nil, "last", "v"); eq[0] {
		t.Fatal("attrStrEq(last=v) matched")
	}
	if eq, _ := attrStrEq(raw, 4, nil, "nope", "v"); eq != nil {
		t.Fatal("attrStrEq of an absent key is not nil")
	}
	sel := []bool{false, true, false, true}
	ds, err := decodeAttrCols(raw, 4, sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := pcommon.NewMap()
	ds.restore(0, m)
	if m.Len() != 0 {
		t.Fatal("an unselected row was restored")
	}
}

// FuzzAttrCols decodes arbitrary attribute columns: errors are fine, panics are not.
func FuzzAttrCols(f *testing.F) {
	var c attrCols
	c.reset()
	m := pcommon.NewMap()
	m.PutStr("k", "v")
	m.PutInt("n", -3)
	c.add(m)
	f.Add(c.encode(nil), 1)
	f.Fuzz(func(t *testing.T, raw []byte, rows int) {
		if rows < 0 || rows > 10000 {
			return
		}
		d, err := decodeAttrCols(raw, rows, nil, nil)
		if err != nil {
			return
		}
		for r := range rows {
			d.restore(r, pcommon.NewMap())
		}
		attrStrEq(raw, rows, nil, "k", "v")
	})
}

// TestAttrColsManyRows covers both string modes (a key of distinct values turns raw after attrRawAfter rows),
// keys of both types, rows without attributes and decoding a selection of rows.
func TestAttrColsManyRows(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	const n = 3 * attrRawAfter
	var rows []pcommon.Map
	var c attrCols
	c.reset()
	for i := range n {
		m := pcommon.NewMap()
		if r.IntN(10) > 0 {
			m.PutStr("id", fmt.Sprintf("id-%d-%d", i, r.IntN(1000)))
			if r.IntN(2) == 0 {
				m.PutBool("flag", true)
			}
			m.PutStr("u", fmt.Sprint("user-", r.IntN(5)))
			if r.IntN(3) == 0 {
				m.PutInt("mix", r.Int64N(100)-50)
			} else {
				m.PutStr("mix", fmt.Sprint(r.IntN(3)))
			}
		}
		rows = append(rows, m)
		c.add(m)
	}
	raw := c.encode(nil)
	sel := make([]bool, n)
	for i := range sel {
		sel[i] = r.IntN(4) == 0
	}
	for _, s := range [][]bool{nil, sel} {
		d, err := decodeAttrCols(raw, n, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range rows {
			if s != nil && !s[i] {
				continue
			}
			got := pcommon.NewMap()
			if v, ok := want.Get("flag"); ok { // what the blob keeps
				got.PutBool("flag", v.Bool())
			}
			d.restore(i, got)
			if !got.Equal(want) || attrOrder(got) != attrOrder(want) {
				t.Fatalf("row %d: got %v, want %v", i, got.AsRaw(), want.AsRaw())
			}
		}
	}
	for _, key := range []string{"id", "u", "mix"} {
		var want string // the value of the last row that has key
		for i := n - 1; i >= 0; i-- {
			if v, ok := rows[i].Get(key); ok {
				want = v.AsString()
				break
			}
		}
		eq, err := attrStrEq(raw, n, nil, key, want)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range rows {
			x, ok := m.Get(key)
			if w := ok && x.Type() == pcommon.ValueTypeStr && x.Str() == want; w != eq[i] {
				t.Fatalf("attrStrEq(%s=%s) row %d: %v, want %v", key, want, i, eq[i], w)
			}
		}
	}
}

// TestAttrColsSkeletonsAsTheyCome: a raw key whose strings are digit-heavy is encoded as skeletons while the
// rows are added; the section is byte for byte the one encoding the strings at the end writes.
func TestAttrColsSkeletonsAsTheyCome(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var c, again attrCols
	c.reset()
	again.reset()
	for i := range 3*attrRawAfter + 17 {
		m := pcommon.NewMap()
		m.PutStr("req", fmt.Sprintf("/orders/%d/items/%d?page=%d", r.IntN(1e6), i, r.IntN(40)))
		if i%7 != 0 {
			m.PutStr("trace", fmt.Sprintf("%x-%d", r.Uint64(), r.IntN(100)))
		}
		if i%11 == 0 {
			m.PutStr("req2", "") // an empty string among them
		}
		m.PutStr("host", fmt.Sprint("node-", r.IntN(4)))
		c.add(m)
		again.add(m)
	}
	on := 0
	for i := range again.keys {
		if again.keys[i].skelOn {
			on++
			again.keys[i].skelOn = false // encode the strings at the end instead
		}
	}
	if on < 2 {
		t.Fatalf("%d keys encoded as they came, want the two digit-heavy ones", on)
	}
	if got, want := c.encode(nil), again.encode(nil); !bytes.Equal(got, want) {
		t.Fatalf("column of %d bytes differs from the one encoded at the end (%d bytes)", len(got), len(want))
	}
	// After a reset, the next block starts over.
	c.reset()
	m := pcommon.NewMap()
	m.PutStr("req", "/orders/1")
	c.add(m)
	if c.keys[0].skelOn {
		t.Fatal("skeleton encoding left on after reset")
	}
}

func attrOrder(m pcommon.Map) string {
	s := ""
	for k := range m.All() {
		s += k + ","
	}
	return s
}

// bySetColumn is an attribute column of n rows in random sets of nsets whose key "file" follows from the set
// and "route" does not, with the sets.
func bySetColumn(n, nsets int, seed uint64) ([]byte, []uint32) {
	r := rand.New(rand.NewPCG(seed, 5))
	var c attrCols
	c.reset()
	sets := make([]uint32, n)
	for i := range n {
		s := r.IntN(nsets)
		sets[i] = uint32(s)
		m := pcommon.NewMap()
		m.PutStr("file", fmt.Sprintf("/src/svc%d/handler.go", s))
		m.PutStr("route", fmt.Sprintf("/r/%d", r.IntN(40)))
		if r.IntN(4) == 0 {
			m.PutInt("n", int64(r.IntN(9)))
		}
		c.add(m)
	}
	return c.encode(nil), sets
}

// TestAttrBySet checks that byset codes a key that follows from the set in mode 3 and leaves a key that
// does not in mode 1, that the column decodes to the same values with the sets, and not without them.
func TestAttrBySet(t *testing.T) {
	const n = 2000
	raw, sets := bySetColumn(n, 20, 1)
	out, changed, err := byset(nil, raw, n, sets)
	if err != nil || !changed {
		t.Fatalf("byset: changed %v, err %v", changed, err)
	}
	if a, b := len(part.Compress(part.LevelBetter, nil, out)), len(part.Compress(part.LevelBetter, nil, raw)); a >= b {
		t.Fatalf("byset: %d bytes compressed, was %d", a, b)
	}
	want, err := decodeAttrCols(raw, n, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeAttrCols(out, n, nil, sets)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]byte{}
	r := &attrReader{raw: out}
	h, _ := readAttrHeader(r, n)
	for _, span := range h.keys {
		i, j := r.span()
		sr := &attrReader{raw: out[i:j]}
		sr.uvarint()
		sr.uvarint()
		modes[string(out[span[0]:span[1]])] = out[i+sr.off]
	}
	if modes["file"] != attrModeDictBySet || modes["route"] != attrModeDict {
		t.Fatalf("modes %v: want file by set, route dictionary", modes)
	}
	sameAttrRows(t, got, want, n)
	for _, v := range []string{"/src/svc7/handler.go", "/src/svc8/handler.go"} {
		eq, err := attrStrEq(out, n, sets, "file", v)
		if err != nil {
			t.Fatal(err)
		}
		for row := range n {
			if eq[row] != (fmt.Sprintf("/src/svc%d/handler.go", sets[row]) == v) {
				t.Fatalf("attrStrEq(file=%s) row %d: %v", v, row, eq[row])
			}
		}
	}
	if _, err := decodeAttrCols(out, n, nil, nil); err == nil {
		t.Fatal("a column with a section by set decodes without the sets")
	}
	// Sets that carry no information: nothing is rewritten.
	if _, changed, _ := byset(nil, raw, n, make([]uint32, n)); changed {
		t.Fatal("byset rewrote a column whose rows are all in one set")
	}
}

// FuzzAttrBySet decodes arbitrary columns with sets (mode 3 included) without panicking, and checks that a
// column byset rewrote decodes to the values of the column it was given.
func FuzzAttrBySet(f *testing.F) {
	raw, _ := bySetColumn(300, 7, 2)
	f.Add(raw, 300, uint8(6))
	raw, sets := bySetColumn(300, 7, 3)
	out, _, _ := byset(nil, raw, 300, sets)
	f.Add(out, 300, uint8(6)) // decoded with other sets than it was written for: must not panic
	f.Fuzz(func(t *testing.T, raw []byte, rows int, mod uint8) {
		if rows < 0 || rows > 10000 {
			return
		}
		sets := make([]uint32, rows)
		for i := range sets {
			sets[i] = uint32(i % (int(mod) + 1))
		}
		if d, err := decodeAttrCols(raw, rows, nil, sets); err == nil {
			for r := range rows {
				d.restore(r, pcommon.NewMap())
			}
		}
		attrStrEq(raw, rows, sets, "file", "x")
		want, err := decodeAttrCols(raw, rows, nil, sets)
		if err != nil {
			return
		}
		out, changed, err := byset(nil, raw, rows, sets)
		if err != nil {
			t.Fatalf("byset of a column that decodes: %v", err)
		}
		if !changed {
			return
		}
		got, err := decodeAttrCols(out, rows, nil, sets)
		if err != nil {
			t.Fatalf("byset's column does not decode: %v", err)
		}
		sameAttrRows(t, got, want, rows)
	})
}

// sameAttrRows fails t unless the n rows of got restore the attributes the rows of want do.
func sameAttrRows(t *testing.T, got, want *attrColsDec, n int) {
	t.Helper()
	for row := range n {
		a, b := pcommon.NewMap(), pcommon.NewMap()
		want.restore(row, a)
		got.restore(row, b)
		if !a.Equal(b) {
			t.Fatalf("row %d: %v, want %v", row, b.AsRaw(), a.AsRaw())
		}
	}
}
