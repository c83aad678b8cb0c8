package part

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

var errShort = errors.New("short buffer")

// decoder reads the footer encoding; the first failure sticks in err and later reads return zero values.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.buf) {
		d.fail()
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) lenBytes() []byte { return d.bytes(d.count()) }
func (d *decoder) str() string      { return string(d.lenBytes()) }

// count reads a length and checks it against the bytes left (every counted item takes at least one byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) bloom() Bloom {
	n := d.count()
	raw := d.bytes(n * 8)
	if d.err != nil {
		return nil
	}
	b := make(Bloom, n)
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return b
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBloom(dst []byte, b Bloom) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	dst = slices.Grow(dst, 8*len(b))
	for _, w := range b {
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	return dst
}

// encodeMeta is the footer layout; see doc.go of the engine for the diagram.
func encodeMeta(m *Meta) []byte {
	var b []byte
	b = binary.AppendUvarint(b, m.ID)
	b = append(b, byte(m.Kind))
	b = binary.AppendUvarint(b, m.WALSeq)
	b = binary.AppendUvarint(b, uint64(len(m.Sources)))
	for _, s := range m.Sources {
		b = binary.AppendUvarint(b, s)
	}
	b = binary.AppendUvarint(b, uint64(m.Rows))
	b = binary.AppendVarint(b, m.MinTS)
	b = binary.AppendVarint(b, m.MaxTS)
	b = binary.AppendUvarint(b, uint64(len(m.Sets)))
	for _, s := range m.Sets {
		b = appendBytes(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Names)))
	for _, s := range m.Names {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Ops)))
	for _, o := range m.Ops {
		b = appendString(b, o.Service)
		b = appendString(b, o.Name)
		b = append(b, o.Kind)
	}
	b = binary.AppendUvarint(b, uint64(len(m.AttrKeys)))
	for _, s := range m.AttrKeys {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Blocks)))
	for _, bm := range m.Blocks {
		b = binary.AppendUvarint(b, uint64(bm.Rows))
		b = binary.AppendVarint(b, bm.MinTS)
		b = binary.AppendVarint(b, bm.MaxTS)
		for _, c := range bm.Cols {
			b = binary.AppendUvarint(b, c.Off)
			b = binary.AppendUvarint(b, c.Len)
		}
		b = appendBloom(b, bm.TraceBloom)
		b = appendBloom(b, bm.TokenBloom)
	}
	return b
}

func decodeMeta(raw []byte) (Meta, error) {
	d := decoder{buf: raw}
	var m Meta
	m.ID = d.uvarint()
	if k := d.bytes(1); k != nil {
		m.Kind = Kind(k[0])
	}
	m.WALSeq = d.uvarint()
	m.Sources = make([]uint64, d.count())
	for i := range m.Sources {
		m.Sources[i] = d.uvarint()
	}
	m.Rows = int(d.uvarint())
	m.MinTS = d.varint()
	m.MaxTS = d.varint()
	m.Sets = make([][]byte, d.count())
	for i := range m.Sets {
		m.Sets[i] = d.lenBytes()
	}
	m.Names = make([]string, d.count())
	for i := range m.Names {
		m.Names[i] = d.str()
	}
	m.Ops = make([]Op, d.count())
	for i := range m.Ops {
		m.Ops[i].Service = d.str()
		m.Ops[i].Name = d.str()
		if k := d.bytes(1); k != nil {
			m.Ops[i].Kind = k[0]
		}
	}
	m.AttrKeys = make([]string, d.count())
	for i := range m.AttrKeys {
		m.AttrKeys[i] = d.str()
	}
	m.Blocks = make([]BlockMeta, d.count())
	rows := 0
	for i := range m.Blocks {
		bm := &m.Blocks[i]
		bm.Rows = int(d.uvarint())
		bm.MinTS = d.varint()
		bm.MaxTS = d.varint()
		for c := range bm.Cols {
			bm.Cols[c].Off = d.uvarint()
			bm.Cols[c].Len = d.uvarint()
		}
		bm.TraceBloom = d.bloom()
		bm.TokenBloom = d.bloom()
		rows += bm.Rows
		if bm.Rows <= 0 || bm.Rows > MaxBlockRows || bm.MinTS > bm.MaxTS {
			d.fail()
		}
	}
	if d.err != nil || len(d.buf) != 0 || rows != m.Rows || (m.Kind < KindSpans || m.Kind > KindMetrics) {
		return Meta{}, fmt.Errorf("%w: footer does not decode", ErrCorrupt)
	}
	return m, nil
}
