package engine

import (
	"encoding/binary"
	"math"
)

// Mode 3 of an attribute column's section (attrModeDictBySet) codes a dictionary key's values in the context
// of their rows' attribute sets (resource and scope): an attribute that follows from the resource, as
// code.file.path or a logger name do from the service, costs next to nothing once its set has seen it,
// where a dictionary index costs as much as the key's values are many in the whole block. Merges write it
// (byset, on the blocks a flush wrote, whose columns they compress anyway) when it promises fewer bits.

// occurrenceSets returns a function giving the set of the row of each string occurrence of key k, in row
// order; it returns nil when sets is not one per row.
func occurrenceSets(h *attrHeader, sets []uint32, k int) func() []uint32 {
	return func() []uint32 {
		if len(sets) != len(h.rowShape) {
			return nil
		}
		return appendOccurrenceSets(make([]uint32, 0, h.strs[k]), h, sets, k)
	}
}

// appendOccurrenceSets appends to dst the set of the row of each string occurrence of key k, in row order.
func appendOccurrenceSets(dst []uint32, h *attrHeader, sets []uint32, k int) []uint32 {
	e := uint32(1 + 2*k)
	for row, si := range h.rowShape {
		for _, x := range h.shapes[si] {
			if x == e {
				dst = append(dst, sets[row])
				break
			}
		}
	}
	return dst
}

// allOccurrenceSets is appendOccurrenceSets for every key at once, in one pass over the rows.
func allOccurrenceSets(h *attrHeader, sets []uint32) [][]uint32 {
	occ := make([][]uint32, len(h.keys))
	for k := range occ {
		occ[k] = make([]uint32, 0, h.strs[k])
	}
	last := make([]int, len(h.keys)) // 1 + the last row that gave key k an occurrence
	for row, si := range h.rowShape {
		for _, x := range h.shapes[si] {
			if x%2 == 0 {
				continue // an int (2+2k) or an attribute left in the blob (0)
			}
			k := int(x-1) / 2
			if k < len(occ) && last[k] != row+1 { // the first string entry of k in the row, as appendOccurrenceSets
				last[k] = row + 1
				occ[k] = append(occ[k], sets[row])
			}
		}
	}
	return occ
}

// maxDenseSet is the largest set index for which a block's sets are tracked in a slice.
const maxDenseSet = 1 << 16

// readBySet reads the codes and new-value indexes of a mode 3 section (after its dictionary vals) and
// returns the n strings.
func readBySet(sr *attrReader, vals []string, n int, occSets func() []uint32) ([]string, error) {
	sets := occSets()
	if len(sets) != n {
		return nil, errAttrCol // the block's sets are needed, one per occurrence
	}
	codes := make([]uint32, n)
	news := 0
	for i := range codes {
		c := sr.uvarint()
		if c > uint64(n) {
			return nil, errAttrCol
		}
		codes[i] = uint32(c)
		if c == 0 {
			news++
		}
	}
	// Per set, its values (dictionary indexes) in order of first occurrence: sets are indexes into the part's
	// dictionary of sets, dense, so a slice by set; a map past maxDenseSet.
	maxSet := uint32(0)
	for _, s := range sets {
		maxSet = max(maxSet, s)
	}
	var dense [][]uint32
	var sparse map[uint32][]uint32
	if maxSet <= maxDenseSet {
		dense = make([][]uint32, maxSet+1)
	} else {
		sparse = map[uint32][]uint32{}
	}
	out := make([]string, n)
	for i, c := range codes {
		var l []uint32
		if dense != nil {
			l = dense[sets[i]]
		} else {
			l = sparse[sets[i]]
		}
		var g uint64
		if c == 0 {
			if g = sr.uvarint(); g >= uint64(len(vals)) {
				return nil, errAttrCol
			}
			if dense != nil {
				dense[sets[i]] = append(l, uint32(g))
			} else {
				sparse[sets[i]] = append(l, uint32(g))
			}
		} else {
			if int(c) > len(l) {
				return nil, errAttrCol
			}
			g = uint64(l[c-1])
		}
		out[i] = vals[g]
	}
	if sr.bad {
		return nil, errAttrCol
	}
	return out, nil
}

// byset rewrites the dictionary sections of an attribute column of rows rows, whose sets are sets, in mode 3
// where that promises at most three quarters of the bits of their indexes (by the entropy of the indexes,
// and of the codes per set plus the new values' indexes), and appends the column to dst. Other sections are
// copied. It reports whether some section changed (if not, dst is returned as it was).
func byset(dst, raw []byte, rows int, sets []uint32) ([]byte, bool, error) {
	if len(raw) == 0 || len(sets) != rows {
		return dst, false, nil
	}
	r := &attrReader{raw: raw}
	h, err := readAttrHeader(r, rows)
	if err != nil {
		return nil, false, err
	}
	head := r.off
	type rewrite struct {
		start, end int
		sec        []byte
	}
	var rws []rewrite
	var occ [][]uint32 // per key, its occurrence sets (allOccurrenceSets), once a key needs them
	for k := range h.keys {
		start, end := r.span()
		if r.bad {
			return nil, false, errAttrCol
		}
		if h.strs[k] == 0 {
			continue
		}
		sec := raw[start:end]
		sr := &attrReader{raw: sec}
		sr.uvarint() // nstr
		sr.uvarint() // nint
		if sr.bad || sr.off >= len(sec) || sec[sr.off] != attrModeDict {
			continue
		}
		sr.off++
		dictStart := sr.off
		ndict := sr.count(1)
		var dictBytes uint64
		for range ndict {
			dictBytes += sr.uvarint()
		}
		if sr.bad || dictBytes > uint64(len(sec)-sr.off) {
			return nil, false, errAttrCol
		}
		sr.off += int(dictBytes)
		dictEnd := sr.off
		n := h.strs[k]
		if ndict <= 1 || ndict > n/4 {
			// One value costs no bits to begin with; more than n/4 values make more than n/4 occurrences
			// new to their set, where bySetCodes gives up.
			continue
		}
		idx := make([]uint32, n)
		for i := range idx {
			x := sr.uvarint()
			if x >= uint64(ndict) {
				return nil, false, errAttrCol
			}
			idx[i] = uint32(x)
		}
		if sr.bad {
			return nil, false, errAttrCol
		}
		if occ == nil {
			occ = allOccurrenceSets(h, sets)
		}
		codes, news, ok := bySetCodes(idx, occ[k], ndict)
		if !ok {
			continue
		}
		out := make([]byte, 0, len(sec))
		out = binary.AppendUvarint(out, uint64(n))
		out = binary.AppendUvarint(out, uint64(h.ints[k]))
		out = append(out, attrModeDictBySet)
		out = append(out, sec[dictStart:dictEnd]...)
		for _, c := range codes {
			out = binary.AppendUvarint(out, uint64(c))
		}
		for _, g := range news {
			out = binary.AppendUvarint(out, uint64(g))
		}
		out = append(out, sec[sr.off:]...) // the ints
		rws = append(rws, rewrite{start, end, out})
	}
	if len(rws) == 0 {
		return dst, false, nil
	}
	dst = append(dst, raw[:head]...)
	r = &attrReader{raw: raw, off: head}
	for range h.keys {
		start, end := r.span()
		sec := raw[start:end]
		if len(rws) > 0 && rws[0].start == start {
			sec = rws[0].sec
			rws = rws[1:]
		}
		dst = binary.AppendUvarint(dst, uint64(len(sec)))
		dst = append(dst, sec...)
	}
	return dst, true, nil
}

// bySetCodes returns the codes of mode 3 for the dictionary indexes idx of occurrences whose sets are occ,
// and the indexes of the values new to their set, and whether they promise at most three quarters of the
// bits of idx. It gives up (false) once a quarter of the occurrences are new to their set.
func bySetCodes(idx, occ []uint32, ndict int) (codes, news []uint32, ok bool) {
	n := len(idx)
	maxSet := uint32(0)
	for _, s := range occ {
		maxSet = max(maxSet, s)
	}
	if maxSet > maxDenseSet {
		return nil, nil, false // a part of that many sets: not worth the memory here
	}
	vals := make([][]uint32, maxSet+1) // per set: its values (dictionary indexes) in order of first occurrence
	cnts := make([][]int32, maxSet+1)  // per set: occurrences per code
	codes = make([]uint32, n)
	for i, g := range idx {
		s := occ[i]
		l := vals[s]
		c := 0
		for j, x := range l {
			if x == g {
				c = j + 1
				break
			}
		}
		if c == 0 {
			if len(news) >= n/4 {
				return nil, nil, false
			}
			vals[s] = append(l, g)
			news = append(news, g)
			if cnts[s] == nil {
				cnts[s] = make([]int32, 1, 4)
			}
			cnts[s] = append(cnts[s], 0)
		}
		codes[i] = uint32(c)
		cnts[s][c]++
	}
	count := make([]int32, ndict)
	for _, g := range idx {
		count[g]++
	}
	plain := entropyBits(count, n)
	cond := float64(len(news)) * math.Log2(float64(max(ndict, 2)))
	for _, cs := range cnts {
		total := 0
		for _, c := range cs {
			total += int(c)
		}
		cond += entropyBits(cs, total)
	}
	return codes, news, cond <= 0.75*plain
}

// entropyBits is the bits of n symbols with the given counts, coded at their empirical entropy.
func entropyBits(count []int32, n int) float64 {
	bits := 0.0
	for _, c := range count {
		if c > 0 {
			bits += float64(c) * math.Log2(float64(n)/float64(c))
		}
	}
	return bits
}
