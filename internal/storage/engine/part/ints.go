package part

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Integer columns (ts, aux) start with a mode byte: 0, then one uvarint per row; or w in 1..8, then w bytes
// little-endian per row. The writer keeps whichever compresses smaller (fixed widths suit values spread
// evenly over their range, varints values of varied size).
//
// ID columns (tid, spanid) start with a mode byte: 0, then the IDs of every row; or 1, then a bitmap of the
// rows with an ID that is not zero (bit i%8 of byte i/8), then those IDs.

const (
	idsAll    = 0
	idsBitmap = 1
)

func appendUvarints(dst []byte, vals []uint64) []byte {
	dst = append(dst, 0)
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, v)
	}
	return dst
}

func appendFixed(dst []byte, vals []uint64) []byte {
	var all uint64
	for _, v := range vals {
		all |= v
	}
	w := max(1, (bits.Len64(all)+7)/8)
	dst = append(dst, byte(w))
	var b [8]byte
	for _, v := range vals {
		binary.LittleEndian.PutUint64(b[:], v)
		dst = append(dst, b[:w]...)
	}
	return dst
}

func decodeInts(raw []byte, n int) ([]uint64, error) {
	bad := fmt.Errorf("%w: integer column does not decode to %d rows", ErrCorrupt, n)
	if len(raw) == 0 {
		return nil, bad
	}
	out := make([]uint64, n)
	w := int(raw[0])
	raw = raw[1:]
	if w == 0 {
		d := decoder{buf: raw}
		for i := range out {
			out[i] = d.uvarint()
		}
		if d.err != nil || len(d.buf) != 0 {
			return nil, bad
		}
		return out, nil
	}
	if w > 8 || len(raw) != w*n {
		return nil, bad
	}
	var b [8]byte
	for i := range out {
		copy(b[:], raw[i*w:(i+1)*w])
		out[i] = binary.LittleEndian.Uint64(b[:])
	}
	return out, nil
}

// appendIDs writes n IDs of width w (ids holds n*w bytes).
func appendIDs(dst, ids []byte, w int) []byte {
	n := len(ids) / w
	zeros := 0
	for i := 0; i < n; i++ {
		if isZero(ids[i*w : (i+1)*w]) {
			zeros++
		}
	}
	if zeros*16 < n {
		dst = append(dst, idsAll)
		return append(dst, ids...)
	}
	dst = append(dst, idsBitmap)
	bm := len(dst)
	dst = append(dst, make([]byte, (n+7)/8)...)
	for i := 0; i < n; i++ {
		if id := ids[i*w : (i+1)*w]; !isZero(id) {
			dst[bm+i/8] |= 1 << (i % 8)
			dst = append(dst, id...)
		}
	}
	return dst
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// decodeIDs decodes n IDs of width w into n*w bytes.
func decodeIDs(raw []byte, n, w int) ([]byte, error) {
	bad := fmt.Errorf("%w: id column does not decode to %d rows", ErrCorrupt, n)
	if len(raw) == 0 {
		return nil, bad
	}
	mode := raw[0]
	raw = raw[1:]
	switch mode {
	case idsAll:
		if len(raw) != n*w {
			return nil, bad
		}
		return raw, nil
	case idsBitmap:
		bl := (n + 7) / 8
		if len(raw) < bl {
			return nil, bad
		}
		bm, ids := raw[:bl], raw[bl:]
		set := 0
		for _, c := range bm {
			set += bits.OnesCount8(c)
		}
		if n%8 != 0 && bm[bl-1]>>(n%8) != 0 || len(ids) != set*w {
			return nil, bad
		}
		out := make([]byte, n*w)
		for i := 0; i < n; i++ {
			if bm[i/8]&(1<<(i%8)) != 0 {
				copy(out[i*w:], ids[:w])
				ids = ids[w:]
			}
		}
		return out, nil
	}
	return nil, bad
}
