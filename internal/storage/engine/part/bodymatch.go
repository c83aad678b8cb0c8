package part

import (
	"bytes"
	"fmt"
	"slices"
)

// MatchBodies answers a body-text search on a block's body column (raw, as ReadRaw returns it, of n rows)
// without rebuilding the bodies. A needle without digits and without the mark byte is in a body exactly when
// it is in the body's skeleton (it can neither overlap a digit run nor cross a mark), so each distinct
// skeleton is searched once. A needle of two or more digits is in a body exactly when it is in one of the
// body's digit runs (consecutive digits of a body always form one run), so the runs are searched. For any
// other needle ok is false and the caller rebuilds the bodies. str reports the rows with a string body, hit
// those whose body holds the needle.
func MatchBodies(raw []byte, n int, needle []byte) (str, hit []bool, ok bool, err error) {
	digits, ok := bodyNeedleKind(needle)
	if !ok {
		return nil, nil, false, nil
	}
	bad := fmt.Errorf("%w: body column does not hold %d rows", ErrCorrupt, n)
	d := decoder{buf: raw}
	refs := make([]uint64, n)
	for i := range refs {
		refs[i] = d.uvarint()
	}
	nd := d.count()
	lens := make([]uint64, nd)
	for i := range lens {
		lens[i] = d.uvarint()
	}
	skels := make([][]byte, nd)
	for i, l := range lens {
		if l > uint64(len(d.buf)) {
			return nil, nil, false, bad
		}
		skels[i] = d.bytes(int(l))
	}
	if d.err != nil {
		return nil, nil, false, bad
	}
	str = make([]bool, n)
	hit = make([]bool, n)
	for i, r := range refs {
		if r > uint64(nd) {
			return nil, nil, false, bad
		}
		str[i] = r > 0
	}
	if !digits {
		skelHit := make([]bool, nd)
		for k, s := range skels {
			skelHit[k] = bytes.Contains(s, needle)
		}
		for i, r := range refs {
			hit[i] = r > 0 && skelHit[r-1]
		}
		return str, hit, true, nil
	}
	// The run lengths, one per mark of the rows' skeletons in row order, then the runs' bytes. The runs are
	// in what is left: when the needle is nowhere in it, no body holds it.
	if !bytes.Contains(d.buf, needle) {
		return str, hit, true, nil
	}
	marks := make([]int, nd)
	for k, s := range skels {
		marks[k] = bytes.Count(s, []byte{bodyMark})
	}
	var starts []int // offset of each non-empty run in the digits
	var rows []int32 // its row
	off := 0
	for i, r := range refs {
		if r == 0 {
			continue
		}
		for range marks[r-1] {
			l := d.uvarint()
			if d.err != nil || l > uint64(len(raw)) {
				return nil, nil, false, bad
			}
			if l > 0 {
				starts = append(starts, off)
				rows = append(rows, int32(i))
				off += int(l)
			}
		}
	}
	if d.err != nil || off != len(d.buf) {
		return nil, nil, false, bad
	}
	text := d.buf
	for pos := 0; pos < len(text); {
		j := bytes.Index(text[pos:], needle)
		if j < 0 {
			break
		}
		p := pos + j
		k, found := slices.BinarySearch(starts, p)
		if !found {
			k--
		}
		if k < 0 {
			pos = p + 1
			continue
		}
		end := len(text)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		if p+len(needle) <= end {
			hit[rows[k]] = true // within one run
			pos = end
			continue
		}
		pos = p + 1 // straddles two runs
	}
	return str, hit, true, nil
}

// BodyNeedleMatchable reports whether MatchBodies answers for needle: it has no digit and no mark byte, or
// it is two or more digits.
func BodyNeedleMatchable(needle []byte) bool {
	_, ok := bodyNeedleKind(needle)
	return ok
}

func bodyNeedleKind(needle []byte) (digits, ok bool) {
	hasDigit, allDigits, hasMark := false, true, false
	for _, c := range needle {
		isDigit := c >= '0' && c <= '9'
		hasDigit = hasDigit || isDigit
		allDigits = allDigits && isDigit
		hasMark = hasMark || c == bodyMark
	}
	switch {
	case len(needle) > 0 && !hasDigit && !hasMark:
		return false, true
	case len(needle) >= 2 && allDigits:
		return true, true
	}
	return false, false
}
