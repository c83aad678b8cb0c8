package wal

import (
	"bytes"
	"encoding/binary"
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

// TestRotateWhileAppending rotates while appends write concurrently: every acknowledged record is replayed
// from one of the segments, whole, exactly once, in both sync modes.
func TestRotateWhileAppending(t *testing.T) {
	for _, mode := range []SyncMode{SyncBatch, SyncNone} {
		dir := t.TempDir()
		w, err := Create(dir, 1, mode)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for i := range 200 {
					if _, err := w.Append(1, bytes.Repeat(fmt.Appendf(nil, "g%d-r%d;", g, i), 1+i%50)); err != nil {
						t.Error(err)
					}
				}
			})
		}
		rotated := 0
		wg.Go(func() {
			for range 20 {
				if _, err := w.Rotate(); err != nil {
					t.Error(err)
				}
				rotated++
			}
		})
		wg.Wait()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		segs, _ := Segments(dir)
		if len(segs) != rotated+1 {
			t.Fatalf("%d segments after %d rotations", len(segs), rotated)
		}
		for _, seq := range segs {
			for _, r := range replayAll(t, dir, seq) {
				unit := r[1 : bytes.IndexByte(r, ';')+1]
				if !bytes.Equal(r[1:], bytes.Repeat(unit, (len(r)-1)/len(unit))) {
					t.Fatalf("record %.40q... is not whole", r[1:])
				}
				seen[string(unit)]++
			}
		}
		if len(seen) != 1200 {
			t.Fatalf("mode %d: %d distinct records replayed, want 1200", mode, len(seen))
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("record %s replayed %d times", k, n)
			}
		}
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

// TestVersion1Replayed: segments of version 1 (CRCs without the segment number) are still read.
func TestVersion1Replayed(t *testing.T) {
	dir := t.TempDir()
	seg := append([]byte(magic), 1, 0, 0, 0)
	seg = appendFrame(seg, 1, 4, 3, []byte("one"))
	seg = appendFrame(seg, 1, 4, 3, []byte("two"))
	if err := os.WriteFile(SegmentPath(dir, 4), seg, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := replayAll(t, dir, 4); len(got) != 2 || string(got[1]) != "\x03two" {
		t.Fatalf("replayed %q", got)
	}
}

// TestRecycle: a segment reuses the file of a recycled one, whose earlier records are not replayed as its
// own, whether the writer closed (the file cut to its records) or crashed (the old records left after the
// new ones).
func TestRecycle(t *testing.T) {
	for _, crash := range []bool{false, true} {
		dir := t.TempDir()
		w, err := Create(dir, 1, SyncBatch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			w.Append(1, fmt.Appendf(nil, "old record %d of a longer segment", i))
		}
		if _, err := w.Rotate(); err != nil {
			t.Fatal(err)
		}
		if err := w.Recycle(1); err != nil {
			t.Fatal(err)
		}
		if err := w.Recycle(2); err == nil {
			t.Fatal("recycled the segment being appended to")
		}
		if _, err := os.Stat(SegmentPath(dir, 1)); !os.IsNotExist(err) {
			t.Fatalf("segment 1 still listed after Recycle: %v", err)
		}
		if _, err := w.Rotate(); err != nil { // segment 3 reuses segment 1's file
			t.Fatal(err)
		}
		fi, err := os.Stat(SegmentPath(dir, 3))
		if err != nil || fi.Size() < 1000 {
			t.Fatalf("segment 3 is not the recycled file: %v, %v", fi, err)
		}
		w.Append(1, []byte("new"))
		w.Append(2, []byte("newer"))
		if !crash {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(SegmentPath(dir, 3)); fi.Size() != int64(headerSize+2*frameSize+len("new")+len("newer")) {
				t.Fatalf("closed segment holds %d bytes, not only its records", fi.Size())
			}
		}
		got := replayAll(t, dir, 3)
		if len(got) != 2 || string(got[0]) != "\x01new" || string(got[1]) != "\x02newer" {
			t.Fatalf("crash %v: replayed %q, want the two new records", crash, got)
		}
		if !crash {
			continue
		}
		// A crashed writer's recycled files are reused by the next one; Close removes them.
		if err := w.Recycle(2); err != nil {
			t.Fatal(err)
		}
		w2, err := Create(dir, 4, SyncBatch) // segment 4 takes segment 2's file
		if err != nil {
			t.Fatal(err)
		}
		if free, _ := filepath.Glob(filepath.Join(dir, "*"+freeSuffix)); len(free) != 0 {
			t.Fatalf("recycled files left after the new writer's first segment: %v", free)
		}
		w2.Append(1, []byte("after the restart"))
		if _, err := w2.Rotate(); err != nil {
			t.Fatal(err)
		}
		if got := replayAll(t, dir, 4); len(got) != 1 {
			t.Fatalf("segment 4 replayed %q", got)
		}
		if err := w2.Recycle(4); err != nil {
			t.Fatal(err)
		}
		w2.Close()
		if free, _ := filepath.Glob(filepath.Join(dir, "*"+freeSuffix)); len(free) != 0 {
			t.Fatalf("recycled files left after Close: %v", free)
		}
	}
}

// TestRecycleVersion1: a recycled file of a version 1 segment (written before the upgrade) becomes a segment
// with the version 2 header, so its old records, whose CRCs have no segment number, are not replayed.
func TestRecycleVersion1(t *testing.T) {
	dir := t.TempDir()
	seg := append([]byte(magic), 1, 0, 0, 0)
	for i := range 20 {
		seg = appendFrame(seg, 1, 7, 1, fmt.Appendf(nil, "version 1 record %d", i))
	}
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000007"+freeSuffix), seg, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(dir, 8, SyncBatch) // reuses the file, and then crashes
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if fi, err := os.Stat(SegmentPath(dir, 8)); err != nil || fi.Size() != int64(len(seg)) {
		t.Fatalf("segment 8 is not the recycled file: %v", err)
	}
	if got := replayAll(t, dir, 8); len(got) != 0 {
		t.Fatalf("replayed %d records of the file's earlier use", len(got))
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
	seed := appendFrame(nil, 1, 1, 1, []byte("hello"))
	hdr := append([]byte(magic), 1, 0, 0, 0)
	f.Add(append(bytes.Clone(hdr), seed...))
	f.Add(append(bytes.Clone(hdr), seed[:5]...))
	seed = appendFrame(nil, 2, 1, 1, []byte("hello"))
	hdr = append([]byte(magic), 2, 0, 0, 0)
	f.Add(append(bytes.Clone(hdr), seed...))
	f.Add(append(append(bytes.Clone(hdr), seed...), appendFrame(nil, 2, 7, 1, []byte("stale"))...))
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

// TestWriteAt writes more pieces than one pwritev takes, empty ones among them, at an offset past the end of
// the file, and reads back their concatenation after the hole.
func TestWriteAt(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "v"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pieces [][]byte
	want := make([]byte, 100) // the hole before the offset reads as zeros
	for i := range 3*maxIovecs + 7 {
		p := bytes.Repeat([]byte{byte(i)}, i%13) // every 13th piece is empty
		pieces = append(pieces, p)
		want = append(want, p...)
	}
	if err := writeAt(int(f.Fd()), 100, pieces); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, want %d (equal: %v)", len(got), len(want), bytes.Equal(got, want))
	}
	if err := writeAt(int(f.Fd()), 0, [][]byte{{}, nil}); err != nil {
		t.Fatalf("only empty pieces: %v", err)
	}
}

// TestHoleEndsReplay: appends write their records concurrently, so a crash can leave a record unwritten
// (zeros) before written ones, which were not acknowledged (an fsync acknowledges a record only with every
// record before it). Replay stops at the hole and cuts the segment there.
func TestHoleEndsReplay(t *testing.T) {
	dir := t.TempDir()
	seg := []byte(magic + "\x02\x00\x00\x00")
	seg = appendFrame(seg, 2, 1, 1, []byte("acknowledged"))
	cut := len(seg)
	seg = append(seg, make([]byte, frameSize+20)...) // a record whose write had not happened
	seg = appendFrame(seg, 2, 1, 1, []byte("written after it"))
	if err := os.WriteFile(SegmentPath(dir, 1), seg, 0o644); err != nil {
		t.Fatal(err)
	}
	got := replayAll(t, dir, 1)
	if len(got) != 1 || string(got[0][1:]) != "acknowledged" {
		t.Fatalf("replayed %q, want only the record before the hole", got)
	}
	if fi, err := os.Stat(SegmentPath(dir, 1)); err != nil || fi.Size() != int64(cut) {
		t.Fatalf("segment not cut at the hole: %v, %v", fi.Size(), err)
	}
}

// BenchmarkAppend appends records of 240 KB (an export request of 512 log records) from 16 goroutines with
// group commit, as the receivers do.
func BenchmarkAppend(b *testing.B) {
	w, err := Create(b.TempDir(), 1, SyncBatch)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	payload := bytes.Repeat([]byte("otlpd wal "), 24<<10)
	b.SetBytes(int64(len(payload)))
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Append(1, payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// appendFrame appends one record frame for typ and payload to dst, as segment seq of format version v holds
// it.
func appendFrame(dst []byte, v uint32, seq uint64, typ byte, payload []byte) []byte {
	h := frameHeader(seq, typ, len(payload), recordCRC(typ, payload))
	if v == 1 {
		binary.LittleEndian.PutUint32(h[4:], recordCRC(typ, payload))
	}
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}
