package part

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Version is the part format version. A part of another version is refused by Open.
const Version = 2

const (
	headMagic  = "OTLPDPRT"
	tailMagic  = "OTLPDEND"
	headerSize = 16
	tailSize   = 16 // footer length uint32 | footer CRC-32C uint32 | tailMagic
	// MaxFooterBytes bounds a footer; a larger length field is corruption.
	MaxFooterBytes = 1 << 30
	// MaxColumnBytes bounds one decompressed column block.
	MaxColumnBytes = 256 << 20
	// MaxBlockRows bounds the rows of one block.
	MaxBlockRows = 1 << 20
)

// Kind says what a part holds.
type Kind uint8

const (
	KindSpans Kind = 1
	KindLogs  Kind = 2
	// KindMetrics parts hold one row per written batch of metric points: TS is the batch's oldest point, Aux
	// its newest minus its oldest, Body the batch as OTLP protobuf, Names the metric names.
	KindMetrics Kind = 3
)

// Column numbers within a block.
const (
	ColTS     = iota // sorted timestamps, deltas from the block's MinTS (integer column, see ints.go)
	ColAux           // zigzag integers: span duration, or a log's observed time minus TS
	ColTID           // 16-byte trace IDs (ID column, see ints.go)
	ColSet           // uvarint index into Meta.Sets
	ColName          // uvarint index into Meta.Names (span name; unused for logs)
	ColCode          // uvarint: span kind | status code << 4, or log severity number
	ColBody          // n uvarints (0: no string body, else length+1), then the bodies' bytes (logs)
	ColBlob          // the rest of the rows, opaque to this package (the engine stores OTLP protobuf)
	ColAttrs         // the rows' string and int attributes, column by column, opaque to this package
	ColSpanID        // 8-byte span IDs, zero when none (ID column)
	ColParent        // parent span IDs: n uvarints (0 none, 1 raw, 2+zigzag(j-i) the span ID of row j), then the raw IDs
	NumCols
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every error about bytes that do not decode.
var ErrCorrupt = errors.New("corrupt part")

// Op is an operation in a part's catalog.
type Op struct {
	Service, Name string
	Kind          uint8
}

// ColRef locates one compressed column block in the file.
type ColRef struct{ Off, Len uint64 }

// BlockMeta describes one block: its rows' time range, where its columns are and its bloom filters.
type BlockMeta struct {
	Rows         int
	MinTS, MaxTS int64
	Cols         [NumCols]ColRef
	TraceBloom   Bloom // trace IDs of the rows
	TokenBloom   Bloom // attribute key=value pairs and body words
}

// Meta is a part's footer.
type Meta struct {
	ID           uint64
	Kind         Kind
	WALSeq       uint64   // the newest WAL segment whose records this part holds
	Sources      []uint64 // IDs of the parts a merge replaced with this one
	Rows         int
	MinTS, MaxTS int64
	Sets         [][]byte // resource and scope attribute sets, opaque (OTLP protobuf), stored once per part
	Names        []string // span-name dictionary
	Ops          []Op
	AttrKeys     []string
	Blocks       []BlockMeta
}

// Row is one row handed to a Writer. Body nil means "no string body".
type Row struct {
	TS, Aux  int64
	TraceID  [16]byte
	SpanID   [8]byte
	ParentID [8]byte
	Set      uint32
	Name     uint32
	Code     uint32
	Body     []byte
}

// Level is how hard a Writer compresses.
type Level uint8

const (
	LevelFast   Level = iota // for flushes: ingest must not wait on compression
	LevelBetter              // for merges, in the background
	LevelBest                // for merges, in the background, where it pays
	// LevelStore is for flushes whose blocks a merge compresses soon after (the engine's merges compress
	// again every column of a flushed block but the IDs): the columns are frames of zstd raw blocks, the
	// bytes as they are, so that the work is done once. A Writer at LevelStore still compresses the ID
	// columns, which merges copy as stored, and the integer columns, whose layout it picks by compressed
	// size, at LevelFast.
	LevelStore
	// LevelDefault is zstd's default level: between LevelFast and LevelBetter in bytes and CPU.
	LevelDefault
)

// maxRawBlock is the largest block of a zstd frame (RFC 8878, Block_Maximum_Size).
const maxRawBlock = 128 << 10

// appendStoredFrame appends a zstd frame that holds src as it is: the magic number, a frame header (a single
// segment, the content size in 4 bytes, a content checksum), raw blocks of at most maxRawBlock bytes, each a
// 3-byte header (last-block flag, block type 0, size) and the bytes, then the checksum (the low 32 bits of
// XXH64 of src), which readers check as they do for compressed frames. Any zstd decoder reads it.
func appendStoredFrame(dst, src []byte) []byte {
	if uint64(len(src)) > math.MaxUint32 {
		panic("BUG: column of 4 GiB or more")
	}
	dst = binary.LittleEndian.AppendUint32(dst, 0xFD2FB528)
	dst = append(dst, storedDescriptor) // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag, Content_Checksum_flag
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	sum := uint32(xxhash.Sum64(src))
	for {
		n := min(len(src), maxRawBlock)
		h := uint32(n) << 3 // Block_Type 0: raw
		if n == len(src) {
			h |= 1 // Last_Block
		}
		dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
		dst = append(dst, src[:n]...)
		if src = src[n:]; len(src) == 0 {
			return binary.LittleEndian.AppendUint32(dst, sum)
		}
	}
}

// writeFrame writes frame as column c of the block bm describes.
func (w *Writer) writeFrame(bm *BlockMeta, c int, frame []byte) error {
	if _, err := w.f.Write(frame); err != nil {
		return fmt.Errorf("write part block: %w", err)
	}
	bm.Cols[c] = ColRef{Off: w.off, Len: uint64(len(frame))}
	w.off += uint64(len(frame))
	return nil
}

// storedDescriptor is the frame header descriptor appendStoredFrame writes.
const storedDescriptor = 2<<6 | 1<<5 | 1<<2

// Stored reports whether frame is stored rather than compressed: its first block is raw, as
// appendStoredFrame (LevelStore) writes every block. (zstd may store a block of incompressible bytes raw
// too: such a frame is then reported stored.)
func Stored(frame []byte) bool {
	const hdr = 4 + 1 + 4 // magic, descriptor, 4-byte content size; single segment: no window byte
	if len(frame) < hdr+3 || binary.LittleEndian.Uint32(frame) != 0xFD2FB528 || frame[4] != storedDescriptor {
		return false
	}
	return (frame[hdr]>>1)&3 == 0 // Block_Type 0: raw
}

func newEncoderPool(l zstd.EncoderLevel) *sync.Pool {
	return &sync.Pool{New: func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(l))
		if err != nil {
			panic("BUG: zstd encoder: " + err.Error())
		}
		return e
	}}
}

var encoders = [...]*sync.Pool{LevelFast: newEncoderPool(zstd.SpeedFastest), LevelBetter: newEncoderPool(zstd.SpeedBetterCompression),
	LevelBest: newEncoderPool(zstd.SpeedBestCompression), LevelDefault: newEncoderPool(zstd.SpeedDefault)}

var decoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxColumnBytes))
	if err != nil {
		panic("BUG: zstd decoder: " + err.Error())
	}
	return d
}}

func compress(level Level, dst, src []byte) []byte {
	if level == LevelStore {
		return appendStoredFrame(dst, src)
	}
	p := encoders[level]
	e := p.Get().(*zstd.Encoder)
	dst = e.EncodeAll(src, dst)
	p.Put(e)
	return dst
}

func decompress(src []byte) ([]byte, error) {
	d := decoders.Get().(*zstd.Decoder)
	out, err := d.DecodeAll(src, nil)
	decoders.Put(d)
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	return out, nil
}

// Writer writes a part file: blocks, then the footer. Not safe for concurrent use.
type Writer struct {
	path     string
	f        *os.File
	off      uint64
	meta     Meta
	buf      []byte
	cols     [NumCols][]byte
	raw      []byte            // scratch: the raw parent IDs of a block
	rowOf    map[[8]byte]int32 // scratch: span ID -> row of the block
	bodies   bodyEncoder
	ts, aux  []uint64 // scratch: integer columns
	tid, sid []byte   // scratch: ID columns
	alt      []byte
	// Level is the compression level of the blocks; set it before the first AddBlock.
	Level Level
}

// Create starts writing the part at path (written to path+".tmp" and renamed by Finish).
func Create(path string, meta Meta) (*Writer, error) {
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create part: %w", err)
	}
	hdr := make([]byte, headerSize)
	copy(hdr, headMagic)
	binary.LittleEndian.PutUint32(hdr[8:], Version)
	hdr[12] = byte(meta.Kind)
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return nil, fmt.Errorf("write part header: %w", err)
	}
	meta.Blocks = nil
	meta.Rows = 0
	return &Writer{path: path, f: f, off: headerSize, meta: meta}, nil
}

// AddBlock writes one block of rows (sorted by TS) with their blob and bloom filters.
func (w *Writer) AddBlock(rows []Row, blob, attrs []byte, traceBloom, tokenBloom Bloom) error {
	return w.AddBlockBodies(rows, nil, blob, attrs, traceBloom, tokenBloom)
}

// AddBlockBodies is AddBlock with the rows' body column already encoded (BodyEncoder, one Add per row), the
// rows' Body fields unused; a nil bodies encodes them from the rows.
func (w *Writer) AddBlockBodies(rows []Row, bodies, blob, attrs []byte, traceBloom, tokenBloom Bloom) error {
	return w.AddBlockFramed(rows, bodies, blob, attrs, nil, traceBloom, tokenBloom)
}

// AddBlockFramed is AddBlockBodies with some columns given as the frames to store: a non-nil framed[c] is
// written as column c as it is (a flush compresses columns on its workers, Compress), and the column's
// content (bodies, blob or attrs) is not read.
func (w *Writer) AddBlockFramed(rows []Row, bodies, blob, attrs []byte, framed *[NumCols][]byte, traceBloom, tokenBloom Bloom) error {
	if len(rows) == 0 {
		return nil
	}
	for i := range w.cols {
		w.cols[i] = w.cols[i][:0]
	}
	w.ts, w.aux, w.tid, w.sid = w.ts[:0], w.aux[:0], w.tid[:0], w.sid[:0]
	bm := BlockMeta{Rows: len(rows), MinTS: rows[0].TS, MaxTS: rows[len(rows)-1].TS, TraceBloom: traceBloom, TokenBloom: tokenBloom}
	prev := bm.MinTS
	for i := range rows {
		r := &rows[i]
		if r.TS < prev {
			panic("BUG: part rows not sorted by time")
		}
		w.ts = append(w.ts, uint64(r.TS-prev))
		prev = r.TS
		w.aux = append(w.aux, uint64(r.Aux<<1^r.Aux>>63))
		if w.meta.Kind == KindMetrics {
			bm.MaxTS = max(bm.MaxTS, r.TS+r.Aux) // a batch's rows span [TS, TS+Aux]
		}
		w.tid = append(w.tid, r.TraceID[:]...)
		w.cols[ColSet] = binary.AppendUvarint(w.cols[ColSet], uint64(r.Set))
		w.cols[ColName] = binary.AppendUvarint(w.cols[ColName], uint64(r.Name))
		w.cols[ColCode] = binary.AppendUvarint(w.cols[ColCode], uint64(r.Code))
		w.sid = append(w.sid, r.SpanID[:]...)
	}
	if bodies == nil {
		w.cols[ColBody] = w.bodies.encode(w.cols[ColBody], rows)
	}
	w.encodeParents(rows)
	w.cols[ColTID] = appendIDs(w.cols[ColTID], w.tid, 16)
	w.cols[ColSpanID] = appendIDs(w.cols[ColSpanID], w.sid, 8)
	for c := range NumCols {
		if framed != nil && framed[c] != nil {
			if err := w.writeFrame(&bm, c, framed[c]); err != nil {
				return err
			}
			continue
		}
		src := w.cols[c]
		level := w.Level
		if level == LevelStore && (c == ColTID || c == ColSpanID || c == ColTS || c == ColAux) {
			level = LevelFast // see LevelStore
		}
		switch c {
		case ColBody:
			if bodies != nil {
				src = bodies
			}
		case ColBlob:
			src = blob
		case ColAttrs:
			src = attrs
		case ColTS, ColAux:
			vals := w.ts
			if c == ColAux {
				vals = w.aux
			}
			// Both layouts, the smaller kept.
			w.alt = appendFixed(w.alt[:0], vals)
			w.buf = compress(level, w.buf[:0], w.alt)
			alt := len(w.buf)
			src = appendUvarints(src, vals)
			w.alt = compress(level, w.alt[:0], src)
			if len(w.alt) < alt {
				w.buf, w.alt = w.alt, w.buf
			}
			if err := w.writeFrame(&bm, c, w.buf); err != nil {
				return err
			}
			continue
		}
		w.buf = CompressColumn(level, c, len(rows), w.buf[:0], src)
		if err := w.writeFrame(&bm, c, w.buf); err != nil {
			return err
		}
	}
	if len(w.meta.Blocks) == 0 || bm.MinTS < w.meta.MinTS {
		w.meta.MinTS = bm.MinTS
	}
	if len(w.meta.Blocks) == 0 || bm.MaxTS > w.meta.MaxTS {
		w.meta.MaxTS = bm.MaxTS
	}
	w.meta.Rows += len(rows)
	w.meta.Blocks = append(w.meta.Blocks, bm)
	return nil
}

// encodeParents writes the parent column: a parent whose span is a row of the block is the distance to that
// row (spans of a trace arrive together, so it is small), other parents are written raw after the codes.
func (w *Writer) encodeParents(rows []Row) {
	var zero [8]byte
	col := w.cols[ColParent]
	if !slices.ContainsFunc(rows, func(r Row) bool { return r.ParentID != zero }) {
		// No parent (log records, root spans): no span IDs to index.
		for range rows {
			col = append(col, 0)
		}
		w.cols[ColParent] = col
		return
	}
	if w.rowOf == nil {
		w.rowOf = map[[8]byte]int32{}
	}
	clear(w.rowOf)
	for i := range rows {
		if id := rows[i].SpanID; id != zero {
			if _, dup := w.rowOf[id]; !dup {
				w.rowOf[id] = int32(i)
			}
		}
	}
	w.raw = w.raw[:0]
	for i := range rows {
		p := rows[i].ParentID
		if p == zero {
			col = append(col, 0)
			continue
		}
		if j, ok := w.rowOf[p]; ok {
			d := int64(j) - int64(i)
			col = binary.AppendUvarint(col, 2+uint64(d<<1^d>>63))
		} else {
			col = append(col, 1)
			w.raw = append(w.raw, p[:]...)
		}
	}
	w.cols[ColParent] = append(col, w.raw...)
}

// Finish writes the footer, fsyncs, renames the file into place and fsyncs its directory. It returns the
// file's size.
func (w *Writer) Finish() (int64, error) {
	footer := compress(w.Level, nil, encodeMeta(&w.meta))
	var tail [tailSize]byte
	binary.LittleEndian.PutUint32(tail[0:], uint32(len(footer)))
	binary.LittleEndian.PutUint32(tail[4:], crc32.Checksum(footer, castagnoli))
	copy(tail[8:], tailMagic)
	if _, err := w.f.Write(append(footer, tail[:]...)); err != nil {
		w.Abort()
		return 0, fmt.Errorf("write part footer: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return 0, fmt.Errorf("sync part: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.path + ".tmp")
		return 0, fmt.Errorf("close part: %w", err)
	}
	if err := os.Rename(w.path+".tmp", w.path); err != nil {
		os.Remove(w.path + ".tmp")
		return 0, fmt.Errorf("rename part: %w", err)
	}
	if err := SyncDir(filepath.Dir(w.path)); err != nil {
		return 0, err
	}
	return int64(w.off) + int64(len(footer)) + tailSize, nil
}

// Abort removes the unfinished file.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.path + ".tmp")
}

// Reader reads a part file. Safe for concurrent use.
type Reader struct {
	Meta Meta
	Size int64
	f    *os.File
}

// Open reads and checks a part's header and footer. An error wrapping ErrCorrupt means the file is damaged;
// an error naming a version means it was written by another otlpd.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open part: %w", err)
	}
	r, err := open(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	return r, nil
}

func open(f *os.File) (*Reader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < headerSize+tailSize {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, size)
	}
	var hdr [headerSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("%w: read header: %v", ErrCorrupt, err)
	}
	if string(hdr[:8]) != headMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != Version {
		return nil, fmt.Errorf("part format version %d is not supported (this otlpd reads version %d)", v, Version)
	}
	var tail [tailSize]byte
	if _, err := f.ReadAt(tail[:], size-tailSize); err != nil {
		return nil, fmt.Errorf("%w: read tail: %v", ErrCorrupt, err)
	}
	if string(tail[8:]) != tailMagic {
		return nil, fmt.Errorf("%w: bad tail magic (incomplete write?)", ErrCorrupt)
	}
	flen := int64(binary.LittleEndian.Uint32(tail[0:]))
	if flen > MaxFooterBytes || flen > size-headerSize-tailSize {
		return nil, fmt.Errorf("%w: footer length %d", ErrCorrupt, flen)
	}
	footer := make([]byte, flen)
	if _, err := f.ReadAt(footer, size-tailSize-flen); err != nil {
		return nil, fmt.Errorf("%w: read footer: %v", ErrCorrupt, err)
	}
	if crc32.Checksum(footer, castagnoli) != binary.LittleEndian.Uint32(tail[4:]) {
		return nil, fmt.Errorf("%w: footer checksum mismatch", ErrCorrupt)
	}
	raw, err := decompress(footer)
	if err != nil {
		return nil, err
	}
	m, err := decodeMeta(raw)
	if err != nil {
		return nil, err
	}
	if m.Kind != Kind(hdr[12]) {
		return nil, fmt.Errorf("%w: kind %d in header, %d in footer", ErrCorrupt, hdr[12], m.Kind)
	}
	end := uint64(size - tailSize - flen)
	for i, b := range m.Blocks {
		for _, c := range b.Cols {
			if c.Off < headerSize || c.Off+c.Len > end || c.Off+c.Len < c.Off {
				return nil, fmt.Errorf("%w: block %d column out of bounds", ErrCorrupt, i)
			}
		}
	}
	return &Reader{Meta: m, Size: size, f: f}, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// Block is the decoded columns of one block; columns not asked for are nil.
type Block struct {
	N     int
	TS    []int64
	Aux   []int64
	TID   [][16]byte
	Set   []uint32
	Name  []uint32
	Code  []uint32
	Body  [][]byte // nil entry: no string body
	Blob  []byte
	Attrs []byte
	// SpanID and ParentID: zero when none. Reading ColParent reads ColSpanID too.
	SpanID   [][8]byte
	ParentID [][8]byte
}

// ReadBlock decodes the columns of block i selected by mask (bit c for column c).
func (r *Reader) ReadBlock(i int, mask uint32) (*Block, error) {
	if i < 0 || i >= len(r.Meta.Blocks) {
		return nil, fmt.Errorf("BUG: block %d of %d", i, len(r.Meta.Blocks))
	}
	bm := &r.Meta.Blocks[i]
	b := &Block{N: bm.Rows}
	if mask&(1<<ColParent) != 0 {
		mask |= 1 << ColSpanID
	}
	for c := range NumCols {
		if mask&(1<<c) == 0 {
			continue
		}
		ref := bm.Cols[c]
		comp := make([]byte, ref.Len)
		if _, err := r.f.ReadAt(comp, int64(ref.Off)); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read block %d column %d: %w", i, c, err)
		}
		raw, err := decompress(comp)
		if err != nil {
			return nil, fmt.Errorf("block %d column %d: %w", i, c, err)
		}
		if err := b.decode(c, raw, bm); err != nil {
			return nil, fmt.Errorf("block %d column %d: %w", i, c, err)
		}
	}
	return b, nil
}

// ReadRaw decompresses column c of block i (ColBlob, ColAttrs, or ColBody for MatchBodies), appending it to
// dst[:0]: a caller that drops the bytes soon can reuse one buffer.
func (r *Reader) ReadRaw(i, c int, dst []byte) ([]byte, error) {
	if i < 0 || i >= len(r.Meta.Blocks) || (c != ColBlob && c != ColAttrs && c != ColBody) {
		return nil, fmt.Errorf("BUG: raw column %d of block %d of %d", c, i, len(r.Meta.Blocks))
	}
	ref := r.Meta.Blocks[i].Cols[c]
	comp := make([]byte, ref.Len)
	if _, err := r.f.ReadAt(comp, int64(ref.Off)); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read block %d column %d: %w", i, c, err)
	}
	d := decoders.Get().(*zstd.Decoder)
	out, err := d.DecodeAll(comp, dst[:0])
	decoders.Put(d)
	if err != nil {
		return nil, fmt.Errorf("block %d column %d: %w: zstd: %v", i, c, ErrCorrupt, err)
	}
	return out, nil
}

func (b *Block) decode(c int, raw []byte, bm *BlockMeta) error {
	n := b.N
	d := decoder{buf: raw}
	switch c {
	case ColTS:
		vals, err := decodeInts(raw, n)
		if err != nil {
			return err
		}
		b.TS = make([]int64, n)
		prev := bm.MinTS
		for i, v := range vals {
			prev += int64(v)
			b.TS[i] = prev
		}
		return nil
	case ColAux:
		vals, err := decodeInts(raw, n)
		if err != nil {
			return err
		}
		b.Aux = make([]int64, n)
		for i, v := range vals {
			b.Aux[i] = int64(v>>1) ^ -int64(v&1)
		}
		return nil
	case ColTID:
		ids, err := decodeIDs(raw, n, 16)
		if err != nil {
			return err
		}
		b.TID = make([][16]byte, n)
		for i := range n {
			copy(b.TID[i][:], ids[16*i:])
		}
		return nil
	case ColSet, ColName, ColCode:
		col := make([]uint32, n)
		for i := range n {
			col[i] = uint32(d.uvarint())
		}
		switch c {
		case ColSet:
			b.Set = col
		case ColName:
			b.Name = col
		default:
			b.Code = col
		}
	case ColBody:
		var err error
		b.Body, err = decodeBodies(raw, n)
		return err
	case ColSpanID:
		ids, err := decodeIDs(raw, n, 8)
		if err != nil {
			return err
		}
		b.SpanID = make([][8]byte, n)
		for i := range n {
			copy(b.SpanID[i][:], ids[8*i:])
		}
		return nil
	case ColParent:
		if len(b.SpanID) != n {
			return fmt.Errorf("BUG: parent column read without the span id column")
		}
		b.ParentID = make([][8]byte, n)
		var raws []int
		for i := range n {
			switch c := d.uvarint(); {
			case c == 0:
			case c == 1:
				raws = append(raws, i)
			default:
				z := c - 2
				j := int64(i) + (int64(z>>1) ^ -int64(z&1))
				if j < 0 || j >= int64(n) {
					d.fail()
					continue
				}
				b.ParentID[i] = b.SpanID[j]
			}
		}
		for _, i := range raws {
			copy(b.ParentID[i][:], d.bytes(8))
		}
	case ColBlob:
		b.Blob = raw
		return nil
	case ColAttrs:
		b.Attrs = raw
		return nil
	}
	if d.err != nil || len(d.buf) != 0 {
		return fmt.Errorf("%w: column does not decode to %d rows", ErrCorrupt, n)
	}
	return nil
}

// SyncDir fsyncs a directory so that renames and creations in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// SetDicts sets the footer's dictionaries and catalogs; call it before Finish.
func (w *Writer) SetDicts(sets [][]byte, names []string, ops []Op, attrKeys []string) {
	w.meta.Sets, w.meta.Names, w.meta.Ops, w.meta.AttrKeys = sets, names, ops, attrKeys
}
