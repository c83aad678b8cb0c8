package wal

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func replayAll(t *testing.T, dir string, seq uint64) [][]byte {
	t.Helper()
	var got [][]byte
	if err := Replay(dir, seq, discard(), func(typ byte, p []byte) error {
		got = append(got, append([]byte{typ}, p...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendReplayConcurrent(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, 1, SyncBatch)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := w.Append(byte(g), fmt.Appendf(nil, "g%d-r%d", g, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := replayAll(t, dir, 1)
	if len(got) != 400 {
		t.Fatalf("replayed %d records, want 400", len(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		want := fmt.Sprintf("g%d-", r[0])
		if !bytes.HasPrefix(r[1:], []byte(want)) {
			t.Fatalf("record %q has type %d", r[1:], r[0])
		}
		seen[string(r[1:])] = true
	}
	if len(seen) != 400 {
		t.Fatalf("%d distinct records, want 400", len(seen))
	}
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, 5, SyncBatch)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(1, []byte("a"))
	old, err := w.Rotate()
	if err != nil || old != 5 {
		t.Fatalf("Rotate = %d, %v; want 5", old, err)
	}
	seq, _ := w.Append(1, []byte("b"))
	if seq != 6 {
		t.Fatalf("append after rotate went to segment %d, want 6", seq)
	}
	w.Close()
	segs, _ := Segments(dir)
	if len(segs) != 2 || segs[0] != 5 || segs[1] != 6 {
		t.Fatalf("segments %v", segs)
	}
	if got := replayAll(t, dir, 6); len(got) != 1 || string(got[0][1:]) != "b" {
		t.Fatalf("segment 6 holds %q", got)
	}
}

// TestTornAndCorruptTail cuts or flips bytes at every offset of the last record: replay must keep exactly the
// records before it and truncate the file so that a new append follows a valid record.
func TestTornAndCorruptTail(t *testing.T) {
	build := func(t *testing.T) (string, int64) {
		dir := t.TempDir()
		w, _ := Create(dir, 1, SyncNone)
		w.Append(1, []byte("first record"))
		w.Append(1, []byte("second record"))
		good := w.Size()
		w.Append(1, []byte("third record, the one that breaks"))
		w.Close()
		return dir, good
	}
	dir, good := build(t)
	full, _ := os.ReadFile(SegmentPath(dir, 1))
	for cut := good; cut < int64(len(full)); cut++ {
		for _, mode := range []string{"torn", "flip"} {
			dir, _ := build(t)
			path := SegmentPath(dir, 1)
			data := bytes.Clone(full)
			if mode == "torn" {
				data = data[:cut]
			} else {
				data[cut] ^= 0x40
			}
			os.WriteFile(path, data, 0o644)
			got := replayAll(t, dir, 1)
			if len(got) != 2 {
				t.Fatalf("%s at %d: replayed %d records, want 2", mode, cut, len(got))
			}
			if st, _ := os.Stat(path); st.Size() != good {
				t.Fatalf("%s at %d: segment is %d bytes after replay, want %d", mode, cut, st.Size(), good)
			}
		}
	}
}

func TestUnknownVersionRefused(t *testing.T) {
	dir := t.TempDir()
	w, _ := Create(dir, 1, SyncNone)
	w.Close()
	path := SegmentPath(dir, 1)
	data, _ := os.ReadFile(path)
	data[8] = 99
	os.WriteFile(path, data, 0o644)
	err := Replay(dir, 1, discard(), func(byte, []byte) error { return nil })
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("version 99")) {
		t.Fatalf("Replay of version 99 = %v, want a version error", err)
	}
}

func FuzzReplay(f *testing.F) {
	seed := appendFrame(nil, 1, []byte("hello"))
	hdr := append([]byte(magic), 1, 0, 0, 0)
	f.Add(append(bytes.Clone(hdr), seed...))
	f.Add(append(bytes.Clone(hdr), seed[:5]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(SegmentPath(dir, 1), data, 0o644)
		var n int
		Replay(dir, 1, discard(), func(byte, []byte) error { n++; return nil })
		// A second replay of the truncated file must see the same records and cut nothing.
		var m int
		Replay(dir, 1, discard(), func(byte, []byte) error { m++; return nil })
		if n != m {
			t.Fatalf("second replay saw %d records, first %d", m, n)
		}
	})
}

// TestWriteVec writes more pieces than one writev takes, empty ones among them, and reads back their
// concatenation.
func TestWriteVec(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "v"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pieces [][]byte
	var want []byte
	for i := range 3*maxIovecs + 7 {
		p := bytes.Repeat([]byte{byte(i)}, i%13) // every 13th piece is empty
		pieces = append(pieces, p)
		want = append(want, p...)
	}
	if err := writeVec(f, pieces); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, want %d (equal: %v)", len(got), len(want), bytes.Equal(got, want))
	}
	if err := writeVec(f, [][]byte{{}, nil}); err != nil {
		t.Fatalf("only empty pieces: %v", err)
	}
}

// appendFrame appends one record frame for typ and payload to dst, as a segment holds it.
func appendFrame(dst []byte, typ byte, payload []byte) []byte {
	h := frameHeader(typ, payload)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}
