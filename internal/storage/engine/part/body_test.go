package part

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/otlpd/otlpd/internal/workload"
)

func bodyRows(bodies ...[]byte) []Row {
	rows := make([]Row, len(bodies))
	for i, b := range bodies {
		rows[i].Body = b
	}
	return rows
}

func checkBodies(t *testing.T, rows []Row) {
	t.Helper()
	var e bodyEncoder
	raw := e.encode(nil, rows)
	got, err := decodeBodies(raw, len(rows))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	for i, r := range rows {
		if !bytes.Equal(got[i], r.Body) || (got[i] == nil) != (r.Body == nil) {
			t.Fatalf("row %d: got %q (nil %v), want %q (nil %v)", i, got[i], got[i] == nil, r.Body, r.Body == nil)
		}
	}
}

func TestBodiesRoundTrip(t *testing.T) {
	checkBodies(t, bodyRows(nil, []byte{}, []byte("Processed order 12345678 for user user-10042 in 7 ms"),
		[]byte("Processed order 99 for user user-10001 in 12 ms"), []byte("007 leading zeros 0 and 00"),
		[]byte("\x01 a literal mark\x01\x0112\x01"), []byte("12"), []byte("1"), []byte("héllo 42é"), nil))
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	var rows []Row
	for range 500 {
		var b []byte
		if r.IntN(10) > 0 {
			b = []byte{}
			for range r.IntN(40) {
				switch r.IntN(4) {
				case 0:
					b = fmt.Appendf(b, "%d", r.Int64N(1e12))
				case 1:
					b = append(b, byte(r.IntN(256)))
				default:
					b = append(b, "abc \x01 9"[r.IntN(7)])
				}
			}
		}
		rows = append(rows, Row{Body: b})
	}
	checkBodies(t, rows)
}

// FuzzBodies decodes arbitrary body columns (errors are fine, panics are not) and round-trips the bodies
// the fuzzer makes up.
func FuzzBodies(f *testing.F) {
	var e bodyEncoder
	f.Add(e.encode(nil, bodyRows([]byte("order 1234 of user-10001"), nil, []byte("\x0177"))), 3)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		decodeBodies(raw, n)
		checkBodies(t, bodyRows(raw, bytes.Clone(raw[:len(raw)/2])))
	})
}

// FuzzParents decodes arbitrary span ID and parent columns (errors are fine, panics are not) and
// round-trips parent columns of rows the fuzzer makes up.
func FuzzParents(f *testing.F) {
	rows := []Row{{SpanID: [8]byte{1}}, {SpanID: [8]byte{2}, ParentID: [8]byte{1}}, {SpanID: [8]byte{3}, ParentID: [8]byte{9}},
		{ParentID: [8]byte{4}}, {SpanID: [8]byte{4}, ParentID: [8]byte{2}}}
	var w Writer
	w.encodeParents(rows)
	var ids []byte
	for _, r := range rows {
		ids = append(ids, r.SpanID[:]...)
	}
	f.Add(appendIDs(nil, ids, 8), w.cols[ColParent], len(rows))
	f.Fuzz(func(t *testing.T, ids, parents []byte, n int) {
		if n <= 0 || n > 1<<12 {
			return
		}
		b := &Block{N: n}
		if b.decode(ColSpanID, ids, nil) == nil {
			b.decode(ColParent, parents, nil)
		}
		// Rows made of the input: span IDs from ids, parents from ids shifted by one row.
		var rows []Row
		for i := 0; i+8 <= len(ids) && len(rows) < 64; i += 8 {
			var r Row
			copy(r.SpanID[:], ids[i:])
			if i >= 8 && ids[i]%3 != 0 {
				copy(r.ParentID[:], ids[i-8:])
			} else if ids[i]%3 == 0 {
				copy(r.ParentID[:], parents)
			}
			rows = append(rows, r)
		}
		if len(rows) == 0 {
			return
		}
		var w Writer
		w.encodeParents(rows)
		var col []byte
		for _, r := range rows {
			col = append(col, r.SpanID[:]...)
		}
		got := &Block{N: len(rows)}
		if err := got.decode(ColSpanID, appendIDs(nil, col, 8), nil); err != nil {
			t.Fatal(err)
		}
		if err := got.decode(ColParent, w.cols[ColParent], nil); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if got.ParentID[i] != r.ParentID {
				t.Fatalf("row %d: parent %x, want %x", i, got.ParentID[i], r.ParentID)
			}
		}
	})
}

func TestSpecialBytes(t *testing.T) {
	// Every byte value in every position, among neighbours of every kind: the mask flags exactly the digits
	// and the mark.
	for pos := range 8 {
		for _, fill := range []byte{'a', '0', 0x01, 0xff, 0x80, '/', ':', 0x00} {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				m := specialBytes(binary.LittleEndian.Uint64(w[:]))
				for i := range w {
					want := bodySpecial[w[i]]
					got := m>>(8*i+7)&1 == 1
					if got != want {
						t.Fatalf("word %x byte %d: flagged %v, want %v", w, i, got, want)
					}
				}
				if m&^0x8080808080808080 != 0 {
					t.Fatalf("word %x: bits outside the high bits: %x", w, m)
				}
			}
		}
	}
}

// workloadBodies returns the bodies of n log records of the reference workload (seed 1), nil for a body that
// is not a string.
func workloadBodies(n int) [][]byte {
	ld := workload.New(1, workload.Options{}).NextLogs(n)
	var bodies [][]byte
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				var b []byte
				if body := lrs.At(k).Body(); body.Type().String() == "Str" {
					b = []byte(body.Str())
				}
				bodies = append(bodies, b)
			}
		}
	}
	return bodies
}

// BenchmarkBodyEncode encodes the bodies of 8,192 log records of the reference workload as one block.
func BenchmarkBodyEncode(b *testing.B) {
	rows := bodyRows(workloadBodies(8192)...)
	n := 0
	for _, r := range rows {
		n += len(r.Body)
	}
	b.SetBytes(int64(n))
	var e bodyEncoder
	var dst []byte
	for b.Loop() {
		dst = e.encode(dst[:0], rows)
	}
}

// wordSetShortcut returns the word hashes of bodies as a block collects them: every word of a body whose
// skeleton is new to the column, else its varying words only (BodyEncoder.AppendVaryingWordHashes), or every word when
// it holds the mark.
func wordSetShortcut(bodies [][]byte) map[uint64]bool {
	var e BodyEncoder
	e.Reset()
	set := map[uint64]bool{}
	for _, b := range bodies {
		var hs []uint64
		ok := false
		if !e.Add(b) {
			hs, ok = e.AppendVaryingWordHashes(nil, b)
		}
		if !ok {
			hs = AppendWordHashes(nil, string(b))
		}
		for _, h := range hs {
			set[h] = true
		}
	}
	return set
}

func wordSetAll(bodies [][]byte) map[uint64]bool {
	set := map[uint64]bool{}
	for _, b := range bodies {
		for _, h := range AppendWordHashes(nil, string(b)) {
			set[h] = true
		}
	}
	return set
}

// TestVaryingWordHashes checks that a block's token set built with BodyEncoder.AppendVaryingWordHashes for bodies of a
// skeleton seen before is the set of all their words, on bodies made to share skeletons: digit runs of any
// length, single digits, literal marks where other bodies have runs, words glued to runs.
func TestVaryingWordHashes(t *testing.T) {
	var e BodyEncoder
	e.Reset()
	b := []byte("user-10001 a1b x22y33 z 7 44")
	e.Add(b)
	hs, ok := e.AppendVaryingWordHashes([]uint64{1}, b)
	if !ok || len(hs) != 4 || hs[1] != HashToken(TokenWord, "10001", 0, "") || hs[2] != HashToken(TokenWord, "x22y33", 0, "") ||
		hs[3] != HashToken(TokenWord, "44", 0, "") {
		t.Fatalf("varying words: %v, %v", hs, ok)
	}
	b = []byte("a\x01b 12")
	e.Add(b)
	if hs, ok := e.AppendVaryingWordHashes([]uint64{1}, b); ok || len(hs) != 1 {
		t.Fatalf("a body with the mark: %v, %v", hs, ok)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "b1", "x", " ", "-", "\x01", "é", "_", "/", "="}
	for round := range 2000 {
		templ := make([]string, 1+rng.IntN(6))
		for i := range templ {
			templ[i] = pieces[rng.IntN(len(pieces))]
		}
		var bodies [][]byte
		for range 1 + rng.IntN(8) {
			var b []byte
			for _, p := range templ {
				b = append(b, p...)
				switch rng.IntN(4) { // a digit run (varying), one digit, a mark, or nothing after each piece
				case 0:
					for range 2 + rng.IntN(4) {
						b = append(b, byte('0'+rng.IntN(10)))
					}
				case 1:
					b = append(b, '7')
				case 2:
					b = append(b, bodyMark)
				}
			}
			bodies = append(bodies, b)
		}
		if got, want := wordSetShortcut(bodies), wordSetAll(bodies); !maps.Equal(got, want) {
			t.Fatalf("round %d, bodies %q: %d word hashes, want %d", round, bodies, len(got), len(want))
		}
	}
}

// FuzzVaryingWordHashes checks the token set of two bodies built as a block does (the second by its varying
// words when its skeleton is the first's) against all their words.
func FuzzVaryingWordHashes(f *testing.F) {
	f.Add([]byte("order 1234 of user-10001"), []byte("order 99 of user-7"))
	f.Add([]byte("x\x01y ef"), []byte("x12y ef"))
	f.Add([]byte("x12y ef"), []byte("x\x01y ef"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		bodies := [][]byte{a, b}
		if got, want := wordSetShortcut(bodies), wordSetAll(bodies); !maps.Equal(got, want) {
			t.Fatalf("%q: %d word hashes, want %d", bodies, len(got), len(want))
		}
	})
}
