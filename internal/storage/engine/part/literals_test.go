package part

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/huff0"
)

// workloadColumn returns the body column of n log records of the reference workload as one block.
func workloadColumn(n int) []byte {
	var e BodyEncoder
	e.Reset()
	for _, b := range workloadBodies(n) {
		e.Add(b)
	}
	return e.Append(nil)
}

func decodeFrame(t *testing.T, frame []byte) []byte {
	t.Helper()
	out, err := decompress(frame)
	if err != nil {
		t.Fatalf("decode literals frame: %v", err)
	}
	return out
}

func TestLiteralsFrameRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	digits := make([]byte, 300<<10) // Huffman codes them in about 3.4 bits
	for i := range digits {
		digits[i] = '0' + byte(rng.IntN(10))
	}
	cases := []struct {
		name string
		src  []byte
		cuts []int
	}{
		{"empty", nil, nil},
		{"one byte", []byte{7}, nil},
		{"short", []byte("0123456789"), nil},
		{"rle", bytes.Repeat([]byte{0}, 5000), nil},
		{"random", random, nil},
		{"digits one stream", digits[:900], nil},
		{"digits 14-bit sizes", digits[:10000], nil},
		{"digits 18-bit sizes, more than a block", digits, nil},
		{"cut", append(bytes.Repeat([]byte{0}, 5000), digits[:5000]...), []int{5000}},
		{"cuts at the ends and beyond", digits[:3000], []int{0, 1000, 1000, 2999, 3000, 5000}},
		{"body column", workloadColumn(8192), nil},
	}
	var s huff0.Scratch
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frame := appendLiteralsFrame([]byte("prefix"), c.src, c.cuts, &s)
			if !bytes.HasPrefix(frame, []byte("prefix")) {
				t.Fatal("dst not appended to")
			}
			frame = frame[len("prefix"):]
			if got := decodeFrame(t, frame); !bytes.Equal(got, c.src) {
				t.Fatalf("round trip: %d bytes in, %d out", len(c.src), len(got))
			}
			if Stored(frame) {
				t.Error("a literals frame reported stored")
			}
		})
	}
	// Huffman coding must have shrunk what it can: digits to well under half, a run of one byte to nothing.
	if n := len(appendLiteralsFrame(nil, digits, nil, &s)); n > len(digits)/2 {
		t.Errorf("digits: %d bytes of %d", n, len(digits))
	}
	if n := len(appendLiteralsFrame(nil, bytes.Repeat([]byte{0}, 5000), nil, &s)); n > 30 {
		t.Errorf("run of zeros: %d bytes", n)
	}
}

// TestCompressBody checks that a body column compressed a block per section decodes to the same bodies and
// takes fewer bytes than one Huffman table for the whole column, and than zstd's default level.
func TestCompressBody(t *testing.T) {
	raw := workloadColumn(8192)
	cuts, ok := bodyCuts(raw, 8192)
	if !ok || !(0 < cuts[0] && cuts[0] < cuts[1] && cuts[1] < cuts[2] && cuts[2] < len(raw)) {
		t.Fatalf("bodyCuts = %v, %v for a column of %d bytes", cuts, ok, len(raw))
	}
	frame := CompressColumn(LevelBetter, ColBody, 8192, nil, raw)
	got := decodeFrame(t, frame)
	want, err := decodeBodies(raw, 8192)
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := decodeBodies(got, 8192)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !bytes.Equal(bodies[i], want[i]) {
			t.Fatalf("row %d: %q, want %q", i, bodies[i], want[i])
		}
	}
	var s huff0.Scratch
	whole := appendLiteralsFrame(nil, raw, nil, &s)
	zstdDefault := compress(LevelDefault, nil, raw)
	if len(frame) >= len(whole) || len(frame) >= len(zstdDefault) {
		t.Errorf("sections %d bytes, one table %d, zstd default %d", len(frame), len(whole), len(zstdDefault))
	}
	// Other columns, and the body at LevelStore, are compressed as Compress does.
	if f := CompressColumn(LevelStore, ColBody, 8192, nil, raw); !Stored(f) {
		t.Error("LevelStore body column not stored")
	}
	if f := CompressColumn(LevelFast, ColBlob, 8192, nil, raw); !bytes.Equal(f, compress(LevelFast, nil, raw)) {
		t.Error("blob column not compressed as Compress does")
	}
	// A column that is no body column of n rows is still compressed, and decodes.
	if f := CompressColumn(LevelBetter, ColBody, 9000, nil, raw); !bytes.Equal(decodeFrame(t, f), raw) {
		t.Error("column of the wrong row count does not round-trip")
	}
}

// FuzzBodyCuts cuts arbitrary columns (false is fine, panics are not); for a column that decodes, the cuts
// are found and the compressed column decodes to it.
func FuzzBodyCuts(f *testing.F) {
	var e bodyEncoder
	f.Add(e.encode(nil, bodyRows([]byte("order 1234 of user-10001"), nil, []byte("\x0177"))), 3)
	f.Add([]byte{1, 1, 3, 'a', 1, 'b', 0, 5, '1', '2', '3', '4', '5'}, 2)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		cuts, ok := bodyCuts(raw, n)
		if _, err := decodeBodies(raw, n); err == nil && !ok {
			t.Fatalf("a column that decodes was not cut")
		}
		if ok && !(0 <= cuts[0] && cuts[0] <= cuts[1] && cuts[1] <= cuts[2] && cuts[2] <= len(raw)) {
			t.Fatalf("cuts %v out of order or range (%d bytes)", cuts, len(raw))
		}
		if got := decodeFrame(t, CompressColumn(LevelDefault, ColBody, n, nil, raw)); !bytes.Equal(got, raw) {
			t.Fatal("round trip")
		}
	})
}

// BenchmarkCompressBody compresses the body column of 8,192 log records of the reference workload (one
// block) as CompressColumn does and at zstd's levels, and reports the bytes per record.
func BenchmarkCompressBody(b *testing.B) {
	raw := workloadColumn(8192)
	for _, c := range []struct {
		name string
		fn   func(dst []byte) []byte
	}{
		{"sections", func(dst []byte) []byte { return CompressColumn(LevelDefault, ColBody, 8192, dst, raw) }},
		{"zstd-fastest", func(dst []byte) []byte { return compress(LevelFast, dst, raw) }},
		{"zstd-default", func(dst []byte) []byte { return compress(LevelDefault, dst, raw) }},
		{"zstd-better", func(dst []byte) []byte { return compress(LevelBetter, dst, raw) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var dst []byte
			for b.Loop() {
				dst = c.fn(dst[:0])
			}
			b.ReportMetric(float64(len(dst))/8192, "B/record")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/8192, "ns/record")
		})
	}
}
