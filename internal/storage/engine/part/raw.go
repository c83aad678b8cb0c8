package part

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/zstd"
)

// A merge copies blocks from part to part without decoding their rows: ReadFrame hands out a column's zstd
// frame as stored, AddFrames writes a block of such frames, and the columns that index the footer's
// dictionaries (ColSet, ColName) go through RemapIndexes on the way.

// ReadFrame appends the zstd frame of column c of block i, as stored, to dst[:0].
func (r *Reader) ReadFrame(i, c int, dst []byte) ([]byte, error) {
	if i < 0 || i >= len(r.Meta.Blocks) || c < 0 || c >= NumCols {
		return nil, fmt.Errorf("BUG: frame of column %d of block %d of %d", c, i, len(r.Meta.Blocks))
	}
	ref := r.Meta.Blocks[i].Cols[c]
	if uint64(cap(dst)) < ref.Len {
		dst = make([]byte, ref.Len)
	}
	dst = dst[:ref.Len]
	if _, err := r.f.ReadAt(dst, int64(ref.Off)); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read block %d column %d: %w", i, c, err)
	}
	return dst, nil
}

// Decompress appends the content of the zstd frame src (as ReadFrame returns it) to dst[:0]; its size is
// bounded by MaxColumnBytes.
func Decompress(src, dst []byte) ([]byte, error) {
	d := decoders.Get().(*zstd.Decoder)
	out, err := d.DecodeAll(src, dst[:0])
	decoders.Put(d)
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	return out, nil
}

// Compress appends src compressed at level, as one zstd frame, to dst.
func Compress(level Level, dst, src []byte) []byte { return compress(level, dst, src) }

// AddFrames writes one block of bm.Rows rows whose columns are the zstd frames cols (each a frame of the
// column's format, as ReadFrame returns them or Compress makes them); bm's time range and bloom filters are
// kept as given, its Cols set. Blocks so written need not follow each other in time: the part's MinTS and
// MaxTS cover them all.
func (w *Writer) AddFrames(bm BlockMeta, cols *[NumCols][]byte) error {
	if bm.Rows <= 0 || bm.Rows > MaxBlockRows {
		return fmt.Errorf("BUG: block of %d rows", bm.Rows)
	}
	for c := range NumCols {
		if err := w.writeFrame(&bm, c, cols[c]); err != nil {
			return err
		}
	}
	if len(w.meta.Blocks) == 0 || bm.MinTS < w.meta.MinTS {
		w.meta.MinTS = bm.MinTS
	}
	if len(w.meta.Blocks) == 0 || bm.MaxTS > w.meta.MaxTS {
		w.meta.MaxTS = bm.MaxTS
	}
	w.meta.Rows += bm.Rows
	w.meta.Blocks = append(w.meta.Blocks, bm)
	return nil
}

// RemapIndexes rewrites a ColSet or ColName column of n rows (decompressed): each index j becomes to[j].
// It appends the new column to dst[:0]. An index outside to, or a column that does not hold n indexes, is
// corruption.
func RemapIndexes(raw []byte, n int, to []uint32, dst []byte) ([]byte, error) {
	dst = dst[:0]
	for range n {
		j, k := binary.Uvarint(raw)
		if k <= 0 {
			return nil, fmt.Errorf("%w: index column does not decode to %d rows", ErrCorrupt, n)
		}
		raw = raw[k:]
		if j >= uint64(len(to)) {
			return nil, fmt.Errorf("%w: index %d out of a dictionary of %d", ErrCorrupt, j, len(to))
		}
		dst = binary.AppendUvarint(dst, uint64(to[j]))
	}
	if len(raw) != 0 {
		return nil, fmt.Errorf("%w: index column longer than %d rows", ErrCorrupt, n)
	}
	return dst, nil
}

// AppendUvarintColumn appends to dst the n values of an index column (n uvarints), as RemapIndexes reads it.
func AppendUvarintColumn(dst []uint32, raw []byte, n int) ([]uint32, error) {
	for range n {
		j, k := binary.Uvarint(raw)
		if k <= 0 || j > math.MaxUint32 {
			return nil, fmt.Errorf("%w: index column does not decode to %d rows", ErrCorrupt, n)
		}
		raw = raw[k:]
		dst = append(dst, uint32(j))
	}
	if len(raw) != 0 {
		return nil, fmt.Errorf("%w: index column longer than %d rows", ErrCorrupt, n)
	}
	return dst, nil
}
