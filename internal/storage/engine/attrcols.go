package engine

import (
	"encoding/binary"
	"errors"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The attribute column of a block holds the string and int attributes of its rows (the rows' own
// attributes, not those of events or links), key by key, so that values of one key sit together and compress
// well, and so that a query reads a key's values without decoding rows. The attributes are removed from the
// rows' blob and put back, at their original position, when a row is decoded.
//
//	keys   uvarint count, then per key: uvarint length + bytes
//	then, for each key, for each row of the block:
//	       tag u8: 0 absent | 1 string | 2 int
//	       when present: pos uvarint (index among the row's attributes), then the value:
//	       string: uvarint length + bytes; int: zigzag varint

const (
	attrAbsent byte = 0
	attrStr    byte = 1
	attrInt    byte = 2
)

var errAttrCol = errors.New("attribute column does not decode")

type attrEnt struct {
	tag byte
	pos uint32
	s   string
	i   int64
}

// attrCols collects the attribute column of a block being written.
type attrCols struct {
	keys   []string
	keyIdx map[string]int
	ents   [][]attrEnt // [key][row]
	rows   int
}

func (c *attrCols) reset() {
	if c.keyIdx == nil {
		c.keyIdx = map[string]int{}
	}
	c.keys = c.keys[:0]
	clear(c.keyIdx)
	for i := range c.ents {
		c.ents[i] = c.ents[i][:0]
	}
	c.ents = c.ents[:0]
	c.rows = 0
}

// extract moves the string and int attributes of m (the next row) into the column.
func (c *attrCols) extract(m pcommon.Map) {
	row := c.rows
	c.rows++
	pos := uint32(0)
	moved := false
	for k, v := range m.All() {
		var e attrEnt
		switch v.Type() {
		case pcommon.ValueTypeStr:
			e = attrEnt{tag: attrStr, pos: pos, s: v.Str()}
		case pcommon.ValueTypeInt:
			e = attrEnt{tag: attrInt, pos: pos, i: v.Int()}
		default:
			pos++
			continue
		}
		pos++
		ki, ok := c.keyIdx[k]
		if !ok {
			ki = len(c.keys)
			c.keys = append(c.keys, k)
			c.keyIdx[k] = ki
			if ki < cap(c.ents) {
				c.ents = c.ents[:ki+1]
				c.ents[ki] = c.ents[ki][:0]
			} else {
				c.ents = append(c.ents, nil)
			}
		}
		col := c.ents[ki]
		for len(col) < row {
			col = append(col, attrEnt{})
		}
		c.ents[ki] = append(col, e)
		moved = true
	}
	if moved {
		m.RemoveIf(func(_ string, v pcommon.Value) bool {
			return v.Type() == pcommon.ValueTypeStr || v.Type() == pcommon.ValueTypeInt
		})
	}
}

func (c *attrCols) encode(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(c.keys)))
	for _, k := range c.keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
	}
	for ki := range c.keys {
		col := c.ents[ki]
		for r := range c.rows {
			if r >= len(col) || col[r].tag == attrAbsent {
				dst = append(dst, attrAbsent)
				continue
			}
			e := col[r]
			dst = append(dst, e.tag)
			dst = binary.AppendUvarint(dst, uint64(e.pos))
			if e.tag == attrStr {
				dst = binary.AppendUvarint(dst, uint64(len(e.s)))
				dst = append(dst, e.s...)
			} else {
				dst = binary.AppendVarint(dst, e.i)
			}
		}
	}
	return dst
}

// attrColsDec is a decoded attribute column.
type attrColsDec struct {
	keys   []string
	ents   [][]attrEnt // [key][slot]
	rowIdx []int32     // row -> slot (-1: not decoded); nil: slot = row
}

func (d *attrColsDec) slot(row int) int {
	if d.rowIdx == nil {
		return row
	}
	return int(d.rowIdx[row])
}

// decodeAttrCols decodes a block's attribute column of rows rows. When sel is not nil, only the entries of
// the rows where sel is true are kept (the others read as absent), and only their strings are copied; when
// sel is nil, the strings share one allocation.
func decodeAttrCols(raw []byte, rows int, sel []bool) (*attrColsDec, error) {
	d := &attrColsDec{}
	if len(raw) == 0 {
		return d, nil
	}
	var str string // when sel is nil, the values are substrings of it
	if sel == nil {
		str = string(raw)
	}
	sub := func(i, j int) string {
		if sel == nil {
			return str[i:j]
		}
		return string(raw[i:j])
	}
	off := 0
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(raw[off:])
		if k <= 0 {
			return 0, false
		}
		off += k
		return v, true
	}
	n, ok := uv()
	if !ok || n > uint64(len(raw)) {
		return nil, errAttrCol
	}
	d.keys = make([]string, n)
	for i := range d.keys {
		l, ok := uv()
		if !ok || l > uint64(len(raw)-off) {
			return nil, errAttrCol
		}
		d.keys[i] = sub(off, off+int(l))
		off += int(l)
	}
	if rows > 0 && uint64(len(raw)-off) < n*uint64(rows) {
		return nil, errAttrCol
	}
	if sel != nil && len(sel) != rows {
		return nil, errAttrCol
	}
	slots := rows
	if sel != nil {
		d.rowIdx = make([]int32, rows)
		slots = 0
		for r, ok := range sel {
			d.rowIdx[r] = -1
			if ok {
				d.rowIdx[r] = int32(slots)
				slots++
			}
		}
	}
	d.ents = make([][]attrEnt, n)
	for ki := range d.ents {
		col := make([]attrEnt, slots)
		for r := range rows {
			if off >= len(raw) {
				return nil, errAttrCol
			}
			tag := raw[off]
			off++
			if tag == attrAbsent {
				continue
			}
			pos, ok := uv()
			if !ok || pos > 1<<20 {
				return nil, errAttrCol
			}
			keep := sel == nil || sel[r]
			e := attrEnt{tag: tag, pos: uint32(pos)}
			switch tag {
			case attrStr:
				l, ok := uv()
				if !ok || l > uint64(len(raw)-off) {
					return nil, errAttrCol
				}
				if keep {
					e.s = sub(off, off+int(l))
				}
				off += int(l)
			case attrInt:
				v, k := binary.Varint(raw[off:])
				if k <= 0 {
					return nil, errAttrCol
				}
				e.i = v
				off += k
			default:
				return nil, errAttrCol
			}
			if sel == nil {
				col[r] = e
			} else if keep {
				col[d.rowIdx[r]] = e
			}
		}
		d.ents[ki] = col
	}
	if off != len(raw) {
		return nil, errAttrCol
	}
	return d, nil
}

// restore puts the column's attributes of row back into m, at their original positions.
func (d *attrColsDec) restore(row int, m pcommon.Map) {
	type moved struct {
		key string
		e   *attrEnt
	}
	var ms []moved
	slot := d.slot(row)
	if slot < 0 {
		return
	}
	for ki, col := range d.ents {
		if col[slot].tag != attrAbsent {
			ms = append(ms, moved{d.keys[ki], &col[slot]})
		}
	}
	if len(ms) == 0 {
		return
	}
	slices.SortFunc(ms, func(a, b moved) int { return int(a.e.pos) - int(b.e.pos) })
	rest := pcommon.NewMap()
	m.MoveTo(rest)
	m.EnsureCapacity(rest.Len() + len(ms))
	put := func(x moved) {
		if x.e.tag == attrStr {
			m.PutStr(x.key, x.e.s)
		} else {
			m.PutInt(x.key, x.e.i)
		}
	}
	mi := 0
	for k, v := range rest.All() {
		for mi < len(ms) && int(ms[mi].e.pos) <= m.Len() {
			put(ms[mi])
			mi++
		}
		v.CopyTo(m.PutEmpty(k))
	}
	for ; mi < len(ms); mi++ {
		put(ms[mi])
	}
}

// attrStrEq walks a block's attribute column and returns, per row, whether the row's attribute key is the
// string v; nil when no row has key. It keeps nothing else of the column.
func attrStrEq(raw []byte, rows int, key, v string) ([]bool, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	off := 0
	uv := func() (uint64, bool) {
		x, k := binary.Uvarint(raw[off:])
		if k <= 0 {
			return 0, false
		}
		off += k
		return x, true
	}
	n, ok := uv()
	if !ok || n > uint64(len(raw)) {
		return nil, errAttrCol
	}
	want := -1
	for i := range int(n) {
		l, ok := uv()
		if !ok || l > uint64(len(raw)-off) {
			return nil, errAttrCol
		}
		if string(raw[off:off+int(l)]) == key {
			want = i
		}
		off += int(l)
	}
	if want < 0 {
		return nil, nil
	}
	out := make([]bool, rows)
	for ki := 0; ki <= want; ki++ {
		for r := range rows {
			if off >= len(raw) {
				return nil, errAttrCol
			}
			tag := raw[off]
			off++
			if tag == attrAbsent {
				continue
			}
			if _, ok := uv(); !ok {
				return nil, errAttrCol
			}
			switch tag {
			case attrStr:
				l, ok := uv()
				if !ok || l > uint64(len(raw)-off) {
					return nil, errAttrCol
				}
				if ki == want {
					out[r] = string(raw[off:off+int(l)]) == v
				}
				off += int(l)
			case attrInt:
				_, k := binary.Varint(raw[off:])
				if k <= 0 {
					return nil, errAttrCol
				}
				off += k
			default:
				return nil, errAttrCol
			}
		}
	}
	return out, nil
}
