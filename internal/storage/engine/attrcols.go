package engine

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// The attribute column of a block holds the string and int attributes of its rows (the rows' own
// attributes, not those of events or links) as separate streams per key, so that the values of one key sit
// together and compress well, and so that a query reads one key's values without decoding rows. The other
// attributes (booleans, doubles, bytes, arrays, maps, and a key repeated in one row) stay in the rows' blob;
// each row's shape, the sequence of its attributes, puts everything back in the original order.
//
//	keys    uvarint count, then per key: uvarint length + bytes
//	shapes  uvarint count, then per shape: uvarint entries, then per entry a uvarint:
//	        0 the next attribute left in the row's blob | 1+2k string of key k | 2+2k int of key k
//	rows    per row: uvarint index of its shape
//	then per key: uvarint length of the key's section, and the section:
//	        nstr uvarint | nint uvarint (occurrences of the key as a string and as an int, in row order)
//	        when nstr > 0, mode u8:
//	          0 raw:  nstr uvarint lengths, then the strings' bytes
//	          1 dict: ndict uvarint, ndict uvarint lengths, the dictionary's bytes, then nstr uvarint indexes
//	          2 skeletons: uvarint length, then the strings as part.SkeletonEncoder writes them
//	          3 dict by set: as dict, but each occurrence is coded in the context of its row's attribute set
//	            (the block's set column): ndict uvarint, ndict uvarint lengths, the dictionary's bytes, then
//	            nstr uvarint codes (0: a value new to the set; c > 0: the set's c-th value, in order of first
//	            occurrence), then per code 0 the uvarint index of the value in the dictionary (attrbyset.go)
//	        nint zigzag varints
//
// An empty column means that no row has an attribute in it. Mode 3 is written by merges only.

const (
	attrAbsent byte = 0
	attrStr    byte = 1
	attrInt    byte = 2
)

const (
	attrModeRaw       byte = 0
	attrModeDict      byte = 1
	attrModeSkeleton  byte = 2
	attrModeDictBySet byte = 3
)

// A key's strings are kept raw (not deduplicated) once this many of them are mostly distinct.
const attrRawAfter = 256

var errAttrCol = errors.New("attribute column does not decode")

// attrKeyCol collects the values of one key of a block being written.
type attrKeyCol struct {
	name    string
	next    int32 // the key that followed this one in the last row that had it: a guess that saves a lookup
	lastRow int32
	raw     bool              // strings kept as they come (high cardinality)
	dict    map[string]uint32 // string -> index in vals, while not raw
	vals    []string          // distinct strings (dict), or every string (raw)
	idx     []uint32          // per string occurrence, index in vals (dict only)
	ints    []int64
	seenInt map[int64]struct{}
	// skel encodes a raw key's strings as skeletons as they come, while each is in cache, when its first
	// attrRawAfter strings say the section will be written so (digitHeavy): section then takes the result.
	skel   *part.BodyEncoder
	skelOn bool
}

// attrCols collects the attribute column of a block being written, and the block's attribute tokens.
type attrCols struct {
	keys     []attrKeyCol
	keyIdx   map[string]int32
	shapeIdx map[string]uint32
	shapes   [][]byte // encoded entries of each shape
	rowShape []uint32
	rows     int32
	first    int32  // the first key of the last row: a guess
	entry    []byte // scratch: the encoded shape of the current row
	blobPos  []int  // scratch: positions of the current row's attributes left in the blob
	sec      []byte // scratch: a key's section
	skel     []byte
	strs     []string
	skelEnc  part.SkeletonEncoder
	num      []byte // scratch: the string form of an int
	// kvs remembers, by a hash of the encoded KeyValue, where the last attributes read in place went:
	// a KeyValue seen before in the block (the same bytes) goes to its key and value without being read.
	kvs      [kvCacheSize]kvEntry
	lastKey  int32  // the key the last attr put a value in
	lastVal  uint32 // the index of that value in the key's dictionary, if a string in a dictionary
	lastDict bool   // whether lastVal is set
	pos      int    // the current row's attributes so far
	prev     int32  // the key of the current row's previous attribute in the column, or -1
	// tokens receives the hashes of "key=value" of every attribute added (each distinct string or int once
	// per block); catalog receives the keys.
	tokens  *hashSet
	catalog map[string]struct{}
}

func (c *attrCols) reset() {
	if c.keyIdx == nil {
		c.keyIdx, c.shapeIdx = map[string]int32{}, map[string]uint32{}
	}
	for i := range c.keys {
		k := &c.keys[i]
		clear(k.dict)
		clear(k.seenInt)
		k.vals, k.idx, k.ints, k.skelOn = k.vals[:0], k.idx[:0], k.ints[:0], false
	}
	c.keys = c.keys[:0]
	clear(c.kvs[:])
	clear(c.keyIdx)
	clear(c.shapeIdx)
	c.shapes = c.shapes[:0]
	c.rowShape = c.rowShape[:0]
	c.rows = 0
	c.first = -1
}

func (c *attrCols) key(k string) int32 {
	if i, ok := c.keyIdx[k]; ok {
		return i
	}
	i := int32(len(c.keys))
	c.keyIdx[k] = i
	if int(i) < cap(c.keys) {
		c.keys = c.keys[:i+1]
	} else {
		c.keys = append(c.keys, attrKeyCol{})
	}
	ck := &c.keys[i]
	ck.name, ck.next, ck.lastRow, ck.raw, ck.skelOn = k, -1, -1, false, false
	if ck.dict == nil {
		ck.dict, ck.seenInt = map[string]uint32{}, map[int64]struct{}{}
	}
	c.catalogKey(k)
	return i
}

func (c *attrCols) token(k, s string) {
	if c.tokens != nil && len(s) <= maxTokenValue {
		c.tokens.add(part.HashToken(part.TokenAttr, k, '=', s))
	}
}

// add puts the string and int attributes of m (the next row) in the column, without changing m, and returns
// the positions in m of the attributes the row's blob must keep (valid until the next add).
func (c *attrCols) add(m pcommon.Map) []int {
	c.beginRow()
	for k, v := range m.All() {
		switch v.Type() {
		case pcommon.ValueTypeStr:
			if c.attr(k, attrStr, v.Str(), 0) {
				continue
			}
		case pcommon.ValueTypeInt:
			if c.attr(k, attrInt, "", v.Int()) {
				continue
			}
		}
		c.blobAttr(k, v.AsString())
	}
	return c.endRow()
}

// addWire adds the next attribute of the row from a KeyValue message read in place, and reports whether the
// column holds it (else the caller keeps the message in the row's blob).
func (c *attrCols) addWire(kv []byte) (bool, error) {
	h := maphash.Bytes(kvSeed, kv)
	e := &c.kvs[h%kvCacheSize]
	if e.hash == h && e.kv == wireStr(kv) && c.again(e) {
		return true, nil
	}
	kb, vb, err := otlpwire.ReadKeyValue(kv)
	if err != nil {
		return false, err
	}
	v, err := otlpwire.ReadValue(vb)
	if err != nil {
		return false, err
	}
	k := wireStr(kb)
	switch {
	case v.Kind == otlpwire.KindString && c.attr(k, attrStr, v.Str(), 0):
		if c.lastDict {
			*e = kvEntry{hash: h, kv: wireStr(kv), key: c.lastKey, val: c.lastVal}
		}
		return true, nil
	case v.Kind == otlpwire.KindInt && c.attr(k, attrInt, "", v.Int()):
		*e = kvEntry{hash: h, kv: wireStr(kv), key: c.lastKey, isInt: true, ival: v.Int()}
		return true, nil
	}
	c.blobAttr(k, valueString(v))
	return false, nil
}

// beginRow starts the attributes of the next row.
func (c *attrCols) beginRow() {
	c.entry = c.entry[:0]
	c.blobPos = c.blobPos[:0]
	c.pos = 0
	c.prev = -1
}

// attr adds the next attribute of the row, a string or an int (t), to the column, unless its key was in the
// row already: then it returns false and the caller adds it with blobAttr.
func (c *attrCols) attr(k string, t byte, s string, i int64) bool {
	row := c.rows
	g := c.first
	if c.prev >= 0 {
		g = c.keys[c.prev].next
	}
	ki := g
	if g < 0 || c.keys[g].name != k {
		ki = c.key(k)
		if c.prev >= 0 {
			c.keys[c.prev].next = ki
		} else {
			c.first = ki
		}
	}
	ck := &c.keys[ki]
	if ck.lastRow == row {
		return false
	}
	ck.lastRow = row
	c.prev = ki
	c.lastKey, c.lastDict = ki, false
	if t == attrStr {
		c.addStr(ck, s)
		c.entry = binary.AppendUvarint(c.entry, 1+2*uint64(ki))
	} else {
		ck.ints = append(ck.ints, i)
		if _, seen := ck.seenInt[i]; !seen {
			ck.seenInt[i] = struct{}{}
			c.num = strconv.AppendInt(c.num[:0], i, 10)
			c.token(k, unsafe.String(unsafe.SliceData(c.num), len(c.num)))
		}
		c.entry = binary.AppendUvarint(c.entry, 2+2*uint64(ki))
	}
	c.pos++
	return true
}

// blobAttr adds the next attribute of the row as one left in the row's blob: a key repeated in the row, or a
// value of another type than string or int (str is its string form, for the token filter).
func (c *attrCols) blobAttr(k, str string) {
	c.catalogKey(k)
	c.token(k, str)
	c.entry = append(c.entry, 0)
	c.blobPos = append(c.blobPos, c.pos)
	c.pos++
}

// endRow ends the row and returns the positions of its attributes left in the blob (valid until the next
// row).
func (c *attrCols) endRow() []int {
	c.rows++
	si, ok := c.shapeIdx[string(c.entry)]
	if !ok {
		si = uint32(len(c.shapes))
		c.shapeIdx[string(c.entry)] = si
		c.shapes = append(c.shapes, append([]byte(nil), c.entry...))
	}
	c.rowShape = append(c.rowShape, si)
	return c.blobPos
}

// catalogKey records an attribute key in the catalog (a copy: k may be a view of a batch).
func (c *attrCols) catalogKey(k string) {
	if c.catalog == nil {
		return
	}
	if _, ok := c.catalog[k]; !ok {
		c.catalog[strings.Clone(k)] = struct{}{}
	}
}

func (c *attrCols) addStr(ck *attrKeyCol, s string) {
	if ck.raw {
		ck.vals = append(ck.vals, s)
		c.token(ck.name, s)
		if ck.skelOn {
			ck.skel.Add(skelBytes(s))
		}
		return
	}
	id, ok := ck.dict[s]
	if !ok {
		id = uint32(len(ck.vals))
		ck.dict[s] = id
		ck.vals = append(ck.vals, s)
		c.token(ck.name, s)
	}
	c.lastVal, c.lastDict = id, true
	c.addIdx(ck, id)
}

// addIdx adds the next string of a key in dictionary mode, which becomes raw once its strings turn out to
// be mostly distinct.
func (c *attrCols) addIdx(ck *attrKeyCol, id uint32) {
	ck.idx = append(ck.idx, id)
	if n := len(ck.idx); n == attrRawAfter && len(ck.vals)*4 > n*3 {
		// Mostly distinct: keep the strings as they come, without the dictionary.
		all := make([]string, n, 2*n)
		for i, x := range ck.idx {
			all[i] = ck.vals[x]
		}
		ck.vals, ck.idx, ck.raw = all, ck.idx[:0], true
		clear(ck.dict)
		// digitHeavy reads the first digitSample strings, all here: section's choice is known now.
		if ck.skelOn = digitHeavy(all); ck.skelOn {
			if ck.skel == nil {
				ck.skel = &part.BodyEncoder{}
			}
			ck.skel.Reset()
			for _, v := range all {
				ck.skel.Add(skelBytes(v))
			}
		}
	}
}

// skelBytes is s as bytes for part.BodyEncoder.Add, empty rather than nil for "" (a string body).
func skelBytes(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// encode appends the column to dst.
func (c *attrCols) encode(dst []byte) []byte {
	if len(c.keys) == 0 && (len(c.shapes) == 0 || (len(c.shapes) == 1 && len(c.shapes[0]) == 0)) {
		return dst // no attribute in any row
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.keys)))
	for i := range c.keys {
		dst = appendStr(dst, c.keys[i].name)
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.shapes)))
	for _, sh := range c.shapes {
		n := 0
		for _, b := range sh {
			if b < 0x80 {
				n++
			}
		}
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = append(dst, sh...)
	}
	for _, s := range c.rowShape {
		dst = binary.AppendUvarint(dst, uint64(s))
	}
	for i := range c.keys {
		sec := c.section(c.sec[:0], &c.keys[i])
		dst = binary.AppendUvarint(dst, uint64(len(sec)))
		dst = append(dst, sec...)
		c.sec = sec
	}
	return dst
}

// section writes the section of one key.
func (c *attrCols) section(dst []byte, ck *attrKeyCol) []byte {
	nstr := len(ck.vals)
	if !ck.raw {
		nstr = len(ck.idx)
	}
	dst = binary.AppendUvarint(dst, uint64(nstr))
	dst = binary.AppendUvarint(dst, uint64(len(ck.ints)))
	if nstr > 0 {
		switch {
		case (ck.raw || len(ck.vals)*2 > len(ck.idx)) && digitHeavy(ck.vals):
			// Mostly distinct values with numbers in them (paths, queries, IDs): skeletons and digits.
			all := ck.vals
			if !ck.raw {
				all = c.strs[:0]
				for _, x := range ck.idx {
					all = append(all, ck.vals[x])
				}
				c.strs = all
			}
			dst = append(dst, attrModeSkeleton)
			if ck.raw && ck.skelOn {
				c.skel = ck.skel.Append(c.skel[:0]) // the same encoding, made as the strings came
			} else {
				c.skel = c.skelEnc.Append(c.skel[:0], all)
			}
			dst = binary.AppendUvarint(dst, uint64(len(c.skel)))
			dst = append(dst, c.skel...)
			clear(c.strs)
		case ck.raw:
			dst = append(dst, attrModeRaw)
			dst = appendStrings(dst, ck.vals)
		default:
			dst = append(dst, attrModeDict)
			dst = binary.AppendUvarint(dst, uint64(len(ck.vals)))
			dst = appendStrings(dst, ck.vals)
			for _, x := range ck.idx {
				dst = binary.AppendUvarint(dst, uint64(x))
			}
		}
	}
	for _, x := range ck.ints {
		dst = binary.AppendVarint(dst, x)
	}
	return dst
}

// appendStrings writes the lengths of vals, then their bytes.
func appendStrings(dst []byte, vals []string) []byte {
	for _, s := range vals {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
	}
	for _, s := range vals {
		dst = append(dst, s...)
	}
	return dst
}

// digitHeavy reports whether at least a tenth of the bytes of vals are in runs of digits that a skeleton
// would take out, judging by the first digitSample values (a key's values in a block are of a kind; reading
// every value of a key of distinct values cost 2% of ingest).
func digitHeavy(vals []string) bool {
	total, digits := 0, 0
	for _, v := range vals[:min(len(vals), digitSample)] {
		total += len(v)
		run := 0
		for i := 0; i <= len(v); i++ {
			if i < len(v) && v[i] >= '0' && v[i] <= '9' {
				run++
				continue
			}
			if run >= 2 {
				digits += run
			}
			run = 0
		}
	}
	return digits*10 >= total && digits > 0
}

// digitSample is how many values digitHeavy looks at.
const digitSample = 256

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// attrReader reads the parts of an attribute column.
type attrReader struct {
	raw []byte
	off int
	bad bool
}

func (r *attrReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.raw[r.off:])
	if k <= 0 {
		r.bad = true
		r.off = len(r.raw)
		return 0
	}
	r.off += k
	return v
}

// count reads a count of items that take at least min bytes each.
func (r *attrReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.raw)-r.off)/uint64(min) {
		r.bad = true
		r.off = len(r.raw)
		return 0
	}
	return int(n)
}

// span reads a length and returns the offsets of that many bytes.
func (r *attrReader) span() (int, int) {
	l := r.uvarint()
	if l > uint64(len(r.raw)-r.off) {
		r.bad = true
		r.off = len(r.raw)
		return 0, 0
	}
	i := r.off
	r.off += int(l)
	return i, r.off
}

// attrHeader is the keys, shapes and row shapes of a column.
type attrHeader struct {
	keys     [][2]int   // offsets of each key's bytes
	shapes   [][]uint32 // entries
	rowShape []uint32
	strs     []int // per key: string occurrences the shapes promise
	ints     []int
}

func readAttrHeader(r *attrReader, rows int) (*attrHeader, error) {
	h := &attrHeader{}
	h.keys = make([][2]int, r.count(1))
	for i := range h.keys {
		h.keys[i][0], h.keys[i][1] = r.span()
	}
	h.shapes = make([][]uint32, r.count(1))
	nk := uint64(len(h.keys))
	seen := make([]int, len(h.keys)) // shape index + 1 that last used each key
	for si := range h.shapes {
		sh := make([]uint32, r.count(1))
		for j := range sh {
			e := r.uvarint()
			if e != 0 {
				k := (e - 1) / 2
				if k >= nk || seen[k] == si+1 {
					return nil, errAttrCol // an unknown key, or a key twice in one shape
				}
				seen[k] = si + 1
			}
			sh[j] = uint32(e)
		}
		h.shapes[si] = sh
	}
	if r.bad || rows < 0 || rows > len(r.raw)-r.off {
		return nil, errAttrCol
	}
	h.rowShape = make([]uint32, rows)
	h.strs, h.ints = make([]int, len(h.keys)), make([]int, len(h.keys))
	for i := range h.rowShape {
		s := r.uvarint()
		if s >= uint64(len(h.shapes)) {
			return nil, errAttrCol
		}
		h.rowShape[i] = uint32(s)
		for _, e := range h.shapes[s] {
			if e == 0 {
				continue
			}
			if k := (e - 1) / 2; e%2 == 1 {
				h.strs[k]++
			} else {
				h.ints[k]++
			}
		}
	}
	if r.bad {
		return nil, errAttrCol
	}
	return h, nil
}

// attrSection is one key's values: the string occurrences as views of the column's bytes (or of the strings
// a skeleton section rebuilt), and the ints.
type attrSection struct {
	strs []string
	ints []int64
}

func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// readAttrSection reads a key's section; strs and ints are what the shapes promise; occSets returns the
// attribute set of each string occurrence's row (nil when the block's sets are unknown), for mode 3. The
// strings are views of r.raw, which must not change while they are in use.
func readAttrSection(r *attrReader, strs, ints int, occSets func() []uint32) (*attrSection, error) {
	start, end := r.span()
	if r.bad {
		return nil, errAttrCol
	}
	sr := &attrReader{raw: r.raw[:end], off: start}
	if int(sr.uvarint()) != strs || int(sr.uvarint()) != ints || sr.bad {
		return nil, errAttrCol
	}
	s := &attrSection{}
	if strs > 0 {
		if sr.off >= end {
			return nil, errAttrCol
		}
		mode := sr.raw[sr.off]
		sr.off++
		switch mode {
		case attrModeRaw, attrModeDict, attrModeDictBySet:
			n := strs
			if mode != attrModeRaw {
				n = sr.count(1)
			}
			vals := make([]string, n)
			lens := make([]uint64, n)
			for i := range lens {
				lens[i] = sr.uvarint()
			}
			for i, l := range lens {
				if l > uint64(end-sr.off) {
					return nil, errAttrCol
				}
				vals[i] = view(sr.raw[sr.off : sr.off+int(l)])
				sr.off += int(l)
			}
			if mode == attrModeRaw {
				s.strs = vals
				break
			}
			if mode == attrModeDictBySet {
				var err error
				if s.strs, err = readBySet(sr, vals, strs, occSets); err != nil {
					return nil, err
				}
				break
			}
			s.strs = make([]string, strs)
			for i := range s.strs {
				x := sr.uvarint()
				if x >= uint64(len(vals)) {
					return nil, errAttrCol
				}
				s.strs[i] = vals[x]
			}
		case attrModeSkeleton:
			i, j := sr.span()
			if sr.bad {
				return nil, errAttrCol
			}
			vals, err := part.DecodeSkeletons(sr.raw[i:j], strs)
			if err != nil {
				return nil, errAttrCol
			}
			s.strs = make([]string, strs)
			for i, v := range vals {
				s.strs[i] = view(v)
			}
		default:
			return nil, errAttrCol
		}
	}
	s.ints = make([]int64, ints)
	for i := range s.ints {
		v, k := binary.Varint(sr.raw[sr.off:])
		if k <= 0 {
			return nil, errAttrCol
		}
		s.ints[i] = v
		sr.off += k
	}
	if sr.bad || sr.off != end {
		return nil, errAttrCol
	}
	return s, nil
}

type attrEnt struct {
	tag byte
	s   string
	i   int64
}

// attrColsDec is a decoded attribute column: per decoded row, its column values in the order of its shape.
type attrColsDec struct {
	keys     []string
	shapes   [][]uint32
	rowShape []uint32  // per row
	rowIdx   []int32   // row -> slot (-1: not decoded); nil: slot = row
	first    []int32   // per slot, the index in vals of its first value
	vals     []attrEnt // tag unset: see the shape
}

func (d *attrColsDec) slot(row int) int {
	if d.rowIdx == nil {
		return row
	}
	return int(d.rowIdx[row])
}

// value returns the column value of key k on row (tag attrAbsent when the row has none or was not decoded).
func (d *attrColsDec) value(row, k int) attrEnt {
	slot := d.slot(row)
	if d.rowShape == nil || slot < 0 {
		return attrEnt{}
	}
	vi := d.first[slot]
	for _, e := range d.shapes[d.rowShape[row]] {
		if e == 0 {
			continue
		}
		if int(e-1)/2 == k {
			v := d.vals[vi]
			v.tag = attrStr
			if e%2 == 0 {
				v.tag = attrInt
			}
			return v
		}
		vi++
	}
	return attrEnt{}
}

// decodeAttrCols decodes a block's attribute column of rows rows, whose attribute sets are sets (the set
// column; nil if not read: then a section of mode 3 does not decode). When sel is not nil, only the entries of
// the rows where sel is true are kept (the others read as absent), and only their strings are copied; when
// sel is nil, the strings share one allocation.
func decodeAttrCols(raw []byte, rows int, sel []bool, sets []uint32) (*attrColsDec, error) {
	d := &attrColsDec{}
	if len(raw) == 0 {
		return d, nil
	}
	if sel != nil && len(sel) != rows {
		return nil, errAttrCol
	}
	// When sel is nil, the values are views of one copy of raw; otherwise the kept values are copied.
	keep := strings.Clone
	if sel == nil {
		c := string(raw)
		raw = unsafe.Slice(unsafe.StringData(c), len(c))
		keep = func(s string) string { return s }
	}
	r := &attrReader{raw: raw}
	h, err := readAttrHeader(r, rows)
	if err != nil {
		return nil, err
	}
	d.keys = make([]string, len(h.keys))
	for i, k := range h.keys {
		d.keys[i] = keep(view(raw[k[0]:k[1]]))
	}
	d.shapes, d.rowShape = h.shapes, h.rowShape
	slots := rows
	if sel != nil {
		d.rowIdx = make([]int32, rows)
		slots = 0
		for i, ok := range sel {
			d.rowIdx[i] = -1
			if ok {
				d.rowIdx[i] = int32(slots)
				slots++
			}
		}
	}
	secs := make([]*attrSection, len(h.keys))
	for k := range secs {
		if secs[k], err = readAttrSection(r, h.strs[k], h.ints[k], occurrenceSets(h, sets, k)); err != nil {
			return nil, err
		}
	}
	if r.off != len(raw) {
		return nil, errAttrCol
	}
	colVals := make([]int, len(h.shapes)) // column values per shape
	for si, sh := range h.shapes {
		for _, e := range sh {
			if e != 0 {
				colVals[si]++
			}
		}
	}
	nv := 0
	for row, si := range h.rowShape {
		if sel == nil || sel[row] {
			nv += colVals[si]
		}
	}
	d.first = make([]int32, slots)
	d.vals = make([]attrEnt, 0, nv)
	nstr, nint := make([]int, len(h.keys)), make([]int, len(h.keys))
	for row, si := range h.rowShape {
		kept := sel == nil || sel[row]
		if kept {
			d.first[d.slot(row)] = int32(len(d.vals))
		}
		for _, e := range h.shapes[si] {
			if e == 0 {
				continue
			}
			k := (e - 1) / 2
			if e%2 == 1 {
				if kept {
					d.vals = append(d.vals, attrEnt{s: keep(secs[k].strs[nstr[k]])})
				}
				nstr[k]++
			} else {
				if kept {
					d.vals = append(d.vals, attrEnt{i: secs[k].ints[nint[k]]})
				}
				nint[k]++
			}
		}
	}
	return d, nil
}

// restore puts the column's attributes of row back into m (which holds the attributes the blob kept), in
// their original order.
func (d *attrColsDec) restore(row int, m pcommon.Map) {
	if d.rowShape == nil {
		return
	}
	slot := d.slot(row)
	if slot < 0 {
		return
	}
	sh := d.shapes[d.rowShape[row]]
	if !slices.ContainsFunc(sh, func(e uint32) bool { return e != 0 }) {
		return // every attribute of the row is in m already, as it came (repeated keys included)
	}
	vi := d.first[slot]
	put := func(m pcommon.Map, e uint32) {
		k := (e - 1) / 2
		if e%2 == 1 {
			m.PutStr(d.keys[k], d.vals[vi].s)
		} else {
			m.PutInt(d.keys[k], d.vals[vi].i)
		}
		vi++
	}
	if m.Len() == 0 {
		m.EnsureCapacity(len(sh))
		for _, e := range sh {
			if e != 0 {
				put(m, e)
			}
		}
		return
	}
	rest := pcommon.NewMap()
	m.MoveTo(rest)
	type kv struct {
		k string
		v pcommon.Value
	}
	kept := make([]kv, 0, rest.Len())
	for k, v := range rest.All() {
		kept = append(kept, kv{k, v})
	}
	m.EnsureCapacity(len(sh) + len(kept))
	next := 0
	for _, e := range sh {
		if e != 0 {
			put(m, e)
		} else if next < len(kept) {
			kept[next].v.CopyTo(m.PutEmpty(kept[next].k))
			next++
		}
	}
	// Attributes the shape did not expect (a damaged column) are kept at the end.
	for _, x := range kept[next:] {
		x.v.CopyTo(m.PutEmpty(x.k))
	}
}

// attrStrEq walks a block's attribute column and returns, per row, whether the row's attribute key is the
// string v; nil when no row has key. It decodes only that key's section. sets is as for decodeAttrCols.
func attrStrEq(raw []byte, rows int, sets []uint32, key, v string) ([]bool, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	r := &attrReader{raw: raw}
	h, err := readAttrHeader(r, rows)
	if err != nil {
		return nil, err
	}
	want := -1
	for i, k := range h.keys {
		if string(raw[k[0]:k[1]]) == key {
			want = i
			break
		}
	}
	if want < 0 {
		return nil, nil
	}
	for range want {
		if r.span(); r.bad {
			return nil, errAttrCol
		}
	}
	sec, err := readAttrSection(r, h.strs[want], h.ints[want], occurrenceSets(h, sets, want))
	if err != nil {
		return nil, err
	}
	out := make([]bool, rows)
	e := uint32(1 + 2*want)
	occ := 0
	for row, si := range h.rowShape {
		for _, x := range h.shapes[si] {
			if x == e {
				out[row] = sec.strs[occ] == v
				occ++
				break
			}
		}
	}
	return out, nil
}

// kvCacheSize is the number of entries of attrCols.kvs. With blocks of 8,192 rows, BenchmarkAttrCols (at
// 8,192 rows) took 318 ns per span and 191 per log record with 1,024 entries, 313/181 with 2,048, 301/180
// with 4,096 (192 KiB) and 292/182 with 8,192; in BenchmarkIngest/spans 8,192 did no better than 1,024.
const kvCacheSize = 4096

// kvSeed seeds the hashes of attrCols.kvs.
var kvSeed = maphash.MakeSeed()

// kvEntry is an encoded KeyValue (a view of the batch it came from) and where attr put it: its key, and its
// string's index in the key's dictionary or its int.
type kvEntry struct {
	hash  uint64
	kv    string
	key   int32
	val   uint32
	isInt bool
	ival  int64
}

// again adds the next attribute of the row as attr added e's KeyValue before, and reports whether it could:
// not when the key is in the row already or its strings are no longer in a dictionary (attr then decides).
func (c *attrCols) again(e *kvEntry) bool {
	ki := e.key
	ck := &c.keys[ki]
	if ck.lastRow == c.rows || (!e.isInt && ck.raw) {
		return false
	}
	g := c.first
	if c.prev >= 0 {
		g = c.keys[c.prev].next
	}
	if g != ki {
		if c.prev >= 0 {
			c.keys[c.prev].next = ki
		} else {
			c.first = ki
		}
	}
	ck.lastRow = c.rows
	c.prev = ki
	if e.isInt {
		ck.ints = append(ck.ints, e.ival)
		c.entry = binary.AppendUvarint(c.entry, 2+2*uint64(ki))
	} else {
		c.addIdx(ck, e.val)
		c.entry = binary.AppendUvarint(c.entry, 1+2*uint64(ki))
	}
	c.pos++
	return true
}
