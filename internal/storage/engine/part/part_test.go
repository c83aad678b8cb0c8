package part

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeTestPart(t testing.TB, dir string) (string, []Row) {
	t.Helper()
	path := filepath.Join(dir, "p.part")
	w, err := Create(path, Meta{ID: 7, Kind: KindLogs, WALSeq: 3, Sources: []uint64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for i := range 10 {
		r := Row{TS: 1000 + int64(i*i), Aux: int64(-i), TraceID: [16]byte{byte(i)}, Set: uint32(i % 2), Name: 0, Code: uint32(i)}
		if i != 4 {
			r.SpanID = [8]byte{byte(i), 1}
		}
		switch i % 4 {
		case 1: // the span of an earlier row of the block
			r.ParentID = [8]byte{byte(i - 1), 1}
		case 2: // a span of no row
			r.ParentID = [8]byte{9, 9, 9}
		case 3: // the span of a later row of the block (the first block ends at row 6)
			if i+1 < 6 || i > 6 {
				r.ParentID = [8]byte{byte(i + 1), 1}
			}
		}
		if i%3 != 0 {
			r.Body = []byte("body words " + string(rune('a'+i)))
		} else if i == 3 {
			r.Body = []byte{}
		}
		rows = append(rows, r)
	}
	tb := NewBloom(10, TraceBloomBits)
	tb.Add(HashBytes([]byte("x")))
	if err := w.AddBlock(rows[:6], []byte("blob-0"), nil, tb, NewBloom(1, TokenBloomBits)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddBlock(rows[6:], []byte("blob-1"), []byte("a"), nil, nil); err != nil {
		t.Fatal(err)
	}
	w.SetDicts([][]byte{[]byte("s0"), []byte("s1")}, []string{"n"}, []Op{{"svc", "op", 2}}, []string{"k"})
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return path, rows
}

func TestRoundTrip(t *testing.T) {
	path, rows := writeTestPart(t, t.TempDir())
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Meta
	if m.ID != 7 || m.Kind != KindLogs || m.WALSeq != 3 || !slices.Equal(m.Sources, []uint64{1, 2}) || m.Rows != 10 ||
		m.MinTS != 1000 || m.MaxTS != 1081 || len(m.Blocks) != 2 || m.Ops[0] != (Op{"svc", "op", 2}) {
		t.Fatalf("meta %+v", m)
	}
	if !m.Blocks[0].TraceBloom.Has(HashBytes([]byte("x"))) {
		t.Fatal("bloom lost its key")
	}
	var got []Row
	for bi := range m.Blocks {
		b, err := r.ReadBlock(bi, 1<<NumCols-1)
		if err != nil {
			t.Fatal(err)
		}
		if string(b.Blob) != "blob-"+string(rune('0'+bi)) {
			t.Fatalf("blob %q", b.Blob)
		}
		for i := range b.N {
			got = append(got, Row{TS: b.TS[i], Aux: b.Aux[i], TraceID: b.TID[i], Set: b.Set[i], Name: b.Name[i], Code: b.Code[i], Body: b.Body[i],
				SpanID: b.SpanID[i], ParentID: b.ParentID[i]})
		}
	}
	for i := range rows {
		w, g := rows[i], got[i]
		if w.TS != g.TS || w.Aux != g.Aux || w.TraceID != g.TraceID || w.Set != g.Set || w.Code != g.Code ||
			w.SpanID != g.SpanID || w.ParentID != g.ParentID ||
			!bytes.Equal(w.Body, g.Body) || (w.Body == nil) != (g.Body == nil) {
			t.Fatalf("row %d: got %+v want %+v", i, g, w)
		}
	}
}

func TestOpenRefusesOtherVersion(t *testing.T) {
	path, _ := writeTestPart(t, t.TempDir())
	data, _ := os.ReadFile(path)
	data[8] = 1
	os.WriteFile(path, data, 0o644)
	_, err := Open(path)
	if err == nil || errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte("version 1")) {
		t.Fatalf("Open of version 1: %v", err)
	}
}

func TestTokens(t *testing.T) {
	var toks []string
	Tokens("GET /api/v1/users?id=42 failed: héllo_x", func(s string) { toks = append(toks, s) })
	if !slices.Equal(toks, []string{"GET", "api", "v1", "users", "id", "42", "failed", "héllo_x"}) {
		t.Fatalf("Tokens: %q", toks)
	}
	toks = nil
	WholeTokens("ers?id=42 fai", func(s string) { toks = append(toks, s) })
	if !slices.Equal(toks, []string{"id", "42"}) {
		t.Fatalf("WholeTokens: %q", toks)
	}
}

// FuzzOpen opens arbitrary bytes as a part and reads every block: errors are fine, panics are not.
func FuzzOpen(f *testing.F) {
	path, _ := writeTestPart(f, f.TempDir())
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.part")
		os.WriteFile(p, data, 0o644)
		r, err := Open(p)
		if err != nil {
			return
		}
		defer r.Close()
		for bi := range r.Meta.Blocks {
			r.ReadBlock(bi, 1<<NumCols-1)
		}
	})
}

// FuzzDecodeMeta decodes arbitrary footers (past the checksum the file-level fuzzer rarely gets through).
func FuzzDecodeMeta(f *testing.F) {
	m := Meta{ID: 1, Kind: KindSpans, Sources: []uint64{4}, Rows: 2, Sets: [][]byte{[]byte("x")}, Names: []string{"a"},
		Ops: []Op{{"s", "o", 1}}, AttrKeys: []string{"k"}, Blocks: []BlockMeta{{Rows: 2, MinTS: 1, MaxTS: 2, TraceBloom: NewBloom(2, TraceBloomBits)}}}
	f.Add(encodeMeta(&m))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeMeta(raw)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		if again := encodeMeta(&m); !bytes.Equal(again, raw) {
			m2, err := decodeMeta(again)
			if err != nil || m2.Rows != m.Rows || len(m2.Blocks) != len(m.Blocks) {
				t.Fatalf("re-encoded meta does not decode the same: %v", err)
			}
		}
	})
}

// TestStoredFrame checks that LevelStore frames are zstd frames any decoder reads back as they were, for
// sizes around the raw block limit.
func TestStoredFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 1000, maxRawBlock - 1, maxRawBlock, maxRawBlock + 1, 3*maxRawBlock + 17} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.IntN(256))
		}
		frame := compress(LevelStore, []byte("prefix"), src)
		if string(frame[:6]) != "prefix" {
			t.Fatalf("%d bytes: dst not appended to", n)
		}
		if want := 6 + 9 + 3*max(1, (n+maxRawBlock-1)/maxRawBlock) + n + 4; len(frame) != want {
			t.Fatalf("%d bytes: frame of %d bytes, want %d", n, len(frame), want)
		}
		got, err := Decompress(frame[6:], nil)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("%d bytes: read back differs", n)
		}
		if n > 0 {
			frame[len(frame)-5] ^= 0xff // the last byte of src: the checksum no longer matches
			if _, err := Decompress(frame[6:], nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%d bytes: a changed byte: err %v, want ErrCorrupt", n, err)
			}
			frame[len(frame)-5] ^= 0xff
			if _, err := Decompress(frame[6:len(frame)-5], nil); err == nil {
				t.Fatalf("%d bytes: a truncated frame decodes", n)
			}
		}
	}
}

// TestStored tells stored frames (LevelStore) from compressed ones, and both decompress to their bytes.
func TestStored(t *testing.T) {
	src := bytes.Repeat([]byte("a compressible column "), 500)
	stored := Compress(LevelStore, nil, src)
	if !Stored(stored) {
		t.Fatal("stored frame not reported stored")
	}
	for _, l := range []Level{LevelFast, LevelDefault, LevelBetter} {
		z := Compress(l, nil, src)
		if Stored(z) {
			t.Fatalf("level %d frame reported stored", l)
		}
		if out, err := Decompress(z, nil); err != nil || !bytes.Equal(out, src) {
			t.Fatalf("level %d: %v", l, err)
		}
	}
	if out, err := Decompress(stored, nil); err != nil || !bytes.Equal(out, src) {
		t.Fatal(err)
	}
	for _, f := range [][]byte{nil, stored[:8], []byte("not a zstd frame at all")} {
		if Stored(f) {
			t.Fatalf("%q reported stored", f)
		}
	}
}
