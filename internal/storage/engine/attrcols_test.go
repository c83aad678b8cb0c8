package engine

import (
	"fmt"
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
	d, err := decodeAttrCols(c.encode(nil), len(rows), nil)
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
	if eq, err := attrStrEq(raw, 4, "s", "v"); err != nil || len(eq) != 4 || !eq[3] {
		t.Fatalf("attrStrEq(s=v) = %v, %v", eq, err)
	}
	if eq, _ := attrStrEq(raw, 4, "last", "v"); eq[0] {
		t.Fatal("attrStrEq(last=v) matched")
	}
	if eq, _ := attrStrEq(raw, 4, "nope", "v"); eq != nil {
		t.Fatal("attrStrEq of an absent key is not nil")
	}
	sel := []bool{false, true, false, true}
	ds, err := decodeAttrCols(raw, 4, sel)
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
		d, err := decodeAttrCols(raw, rows, nil)
		if err != nil {
			return
		}
		for r := range rows {
			d.restore(r, pcommon.NewMap())
		}
		attrStrEq(raw, rows, "k", "v")
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
		d, err := decodeAttrCols(raw, n, s)
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
		eq, err := attrStrEq(raw, n, key, want)
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

func attrOrder(m pcommon.Map) string {
	s := ""
	for k := range m.All() {
		s += k + ","
	}
	return s
}
