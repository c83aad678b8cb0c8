package part

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

// TestAddFrames copies the blocks of a part, last first, into another as stored, with the set column
// remapped: every column reads back as written, and the part's time range covers blocks out of order.
func TestAddFrames(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestPart(t, dir)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := Create(filepath.Join(dir, "copy.part"), Meta{ID: 8, Kind: KindLogs, Sources: []uint64{7}})
	if err != nil {
		t.Fatal(err)
	}
	to := []uint32{5, 3} // set i becomes to[i]
	var cols [NumCols][]byte
	for _, bi := range []int{1, 0} {
		for c := range NumCols {
			if cols[c], err = r.ReadFrame(bi, c, cols[c]); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := Decompress(cols[ColSet], nil)
		if err != nil {
			t.Fatal(err)
		}
		mapped, err := RemapIndexes(raw, r.Meta.Blocks[bi].Rows, to, nil)
		if err != nil {
			t.Fatal(err)
		}
		cols[ColSet] = Compress(LevelBetter, nil, mapped)
		if err := w.AddFrames(r.Meta.Blocks[bi], &cols); err != nil {
			t.Fatal(err)
		}
	}
	w.SetDicts(nil, nil, nil, nil)
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(filepath.Join(dir, "copy.part"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Meta.MinTS != r.Meta.MinTS || c.Meta.MaxTS != r.Meta.MaxTS || c.Meta.Rows != r.Meta.Rows || len(c.Meta.Blocks) != 2 {
		t.Fatalf("copy meta: rows %d, %d..%d, want rows %d, %d..%d", c.Meta.Rows, c.Meta.MinTS, c.Meta.MaxTS, r.Meta.Rows, r.Meta.MinTS, r.Meta.MaxTS)
	}
	for ci, bi := range []int{1, 0} {
		want, err := r.ReadBlock(bi, 1<<NumCols-1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadBlock(ci, 1<<NumCols-1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Set {
			want.Set[i] = to[want.Set[i]]
		}
		if !slices.Equal(got.TS, want.TS) || !slices.Equal(got.Aux, want.Aux) || !slices.Equal(got.TID, want.TID) ||
			!slices.Equal(got.Set, want.Set) || !slices.Equal(got.Code, want.Code) || !slices.Equal(got.SpanID, want.SpanID) ||
			!slices.Equal(got.ParentID, want.ParentID) || !bytes.Equal(got.Blob, want.Blob) ||
			!slices.EqualFunc(got.Body, want.Body, bytes.Equal) {
			t.Fatalf("block %d copied as %d does not read back as written", bi, ci)
		}
		bm, cm := r.Meta.Blocks[bi], c.Meta.Blocks[ci]
		if bm.MinTS != cm.MinTS || bm.MaxTS != cm.MaxTS || !slices.Equal(bm.TraceBloom, cm.TraceBloom) {
			t.Fatalf("block %d: meta not copied", bi)
		}
	}
}

func TestRemapIndexesErrors(t *testing.T) {
	col := binary.AppendUvarint(binary.AppendUvarint(nil, 1), 0)
	if got, err := RemapIndexes(col, 2, []uint32{7, 9}, nil); err != nil || !bytes.Equal(got, []byte{9, 7}) {
		t.Fatalf("RemapIndexes = %v, %v", got, err)
	}
	for _, c := range []struct {
		raw []byte
		n   int
		to  []uint32
	}{
		{col, 2, []uint32{7}},          // index 1 outside the dictionary
		{col, 3, []uint32{7, 9}},       // too few rows
		{col, 1, []uint32{7, 9}},       // too many
		{[]byte{0x80}, 1, []uint32{1}}, // truncated uvarint
	} {
		if _, err := RemapIndexes(c.raw, c.n, c.to, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("RemapIndexes(%x, %d, %v): %v, want ErrCorrupt", c.raw, c.n, c.to, err)
		}
	}
}

// FuzzRemapIndexes remaps arbitrary columns: errors are fine, panics are not, and what remaps through the
// identity is the column itself (in its canonical varint form).
func FuzzRemapIndexes(f *testing.F) {
	f.Add([]byte{0, 1, 2, 1}, 4, 3)
	f.Add([]byte{0x80, 0x01}, 1, 200)
	f.Fuzz(func(t *testing.T, raw []byte, n, dict int) {
		if n < 0 || n > 1<<16 || dict < 0 || dict > 1<<16 {
			return
		}
		to := make([]uint32, dict)
		for i := range to {
			to[i] = uint32(i)
		}
		out, err := RemapIndexes(raw, n, to, nil)
		if err != nil {
			return
		}
		again, err := RemapIndexes(out, n, to, nil)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("identity remap of %x: %x then %x, %v", raw, out, again, err)
		}
	})
}
