package part

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"
)

// The body column splits each string body into a skeleton, the body with every run of two or more ASCII
// digits replaced by the byte 0x01, and the digit runs. Log bodies rendered from a few templates then share
// few skeletons, held once per block in a dictionary, while the digits, which vary, sit together:
//
//	n uvarints: 0 no string body | 1+k the skeleton k of the dictionary
//	ndict uvarint, then ndict uvarint lengths, then the skeletons' bytes
//	one uvarint per 0x01 of the rows' skeletons, in row order: the length of the digit run (0: a literal 0x01)
//	the digit runs' bytes, in row order

const bodyMark = 0x01

// minDigitRun is the shortest run of digits taken out of a skeleton.
const minDigitRun = 2

// bodyEncoder holds the scratch of the body column of a Writer.
type bodyEncoder struct {
	enc BodyEncoder
}

func (e *bodyEncoder) encode(dst []byte, rows []Row) []byte {
	e.enc.Reset()
	for i := range rows {
		e.enc.Add(rows[i].Body)
	}
	return e.enc.Append(dst)
}

// BodyEncoder builds a body column row by row, so that a caller can add each body while it has it in
// cache: Reset, then Add for every row in order, then Append.
type BodyEncoder struct {
	skelOf map[string]uint32
	skels  []string
	refs   []uint32 // per row: 0 or 1+skeleton
	runs   []byte   // uvarint run lengths
	digits []byte
	skel   []byte
	// of the body last added: where its digit runs taken out are, whether it holds the mark itself
	lastRuns [][2]int32
	lastMark bool
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// bodySpecial tells the bytes a skeleton does not copy as they are: digits and the mark.
var bodySpecial = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t[bodyMark] = true
	return t
}()

// nextSpecial returns the index of the first digit or mark of b at or after j (len(b) when none), eight
// bytes at a time.
func nextSpecial(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		if m := specialBytes(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for j < len(b) && !bodySpecial[b[j]] {
		j++
	}
	return j
}

// specialBytes sets the high bit of each byte of x (little-endian) that is a digit or the mark, and no
// other bit: each byte is tested on its own, without carries between bytes.
func specialBytes(x uint64) uint64 {
	const (
		ones = 0x0101010101010101
		low7 = 0x7f7f7f7f7f7f7f7f
		high = 0x8080808080808080
	)
	// Digits: y = x ^ '0' is below 10 exactly for '0'..'9'. A byte of y is below 10 when its high bit is
	// clear and its low seven bits plus 0x76 (128-10) do not reach 0x80.
	y := x ^ ('0' * ones)
	digit := ^((y&low7 + (0x80-10)*ones) | y) & high
	// The mark: z = x ^ mark is zero exactly for the mark; a byte of z is zero when its low seven bits
	// plus 0x7f do not reach 0x80 and its high bit is clear.
	z := x ^ (bodyMark * ones)
	mark := ^((z&low7 + low7) | z) & high
	return digit | mark
}

// Reset starts a new column.
func (e *BodyEncoder) Reset() {
	if e.skelOf == nil {
		e.skelOf = map[string]uint32{}
	}
	clear(e.skelOf)
	e.skels, e.refs, e.runs, e.digits = e.skels[:0], e.refs[:0], e.runs[:0], e.digits[:0]
}

// Add adds the next row's body: nil for a row without a string body (empty, not nil, for an empty string).
// The encoder keeps nothing of b. It reports whether b's skeleton is new to the column (see
// AppendVaryingWordHashes).
func (e *BodyEncoder) Add(b []byte) (fresh bool) {
	if b == nil {
		e.refs = append(e.refs, 0)
		return false
	}
	s := e.skel[:0]
	e.lastRuns, e.lastMark = e.lastRuns[:0], false
	for j := 0; j < len(b); {
		// Copy the bytes up to the next digit or mark at once.
		k := nextSpecial(b, j)
		s = append(s, b[j:k]...)
		if j = k; j == len(b) {
			break
		}
		if b[j] == bodyMark {
			s = append(s, bodyMark)
			e.runs = append(e.runs, 0)
			e.lastMark = true
			j++
			continue
		}
		k = j + 1
		for k < len(b) && isDigit(b[k]) {
			k++
		}
		if k-j < minDigitRun {
			s = append(s, b[j:k]...)
		} else {
			s = append(s, bodyMark)
			e.runs = binary.AppendUvarint(e.runs, uint64(k-j))
			e.digits = append(e.digits, b[j:k]...)
			e.lastRuns = append(e.lastRuns, [2]int32{int32(j), int32(k)})
		}
		j = k
	}
	e.skel = s
	id, ok := e.skelOf[string(s)]
	if !ok {
		id = uint32(len(e.skels))
		e.skels = append(e.skels, string(s))
		e.skelOf[e.skels[id]] = id
	}
	e.refs = append(e.refs, 1+id)
	return !ok
}

// AppendVaryingWordHashes appends to dst the hashes AppendWordHashes gives of the words of b, the body last
// added, that hold a digit run the skeleton took out: the only words in which b may differ from a body of the
// same skeleton. Each other word of b, bounded by bytes that are neither word bytes nor digits, appears the
// same in the skeleton, and so as a whole word in every body of that skeleton: a caller that has the words of
// one of them (Add reports the first) needs only these. ok is false, with nothing appended, when b holds the
// mark byte itself (a literal mark shares a skeleton with a digit run but splits words where the run does
// not): the caller takes every word of b then.
func (e *BodyEncoder) AppendVaryingWordHashes(dst []uint64, b []byte) (_ []uint64, ok bool) {
	if e.lastMark {
		return dst, false
	}
	end := 0 // of the last word hashed: a run within it is in the same word
	for _, r := range e.lastRuns {
		start := int(r[0])
		if start < end {
			continue
		}
		for start > 0 && wordByte[b[start-1]] {
			start--
		}
		for end = int(r[1]); end < len(b) && wordByte[b[end]]; end++ {
		}
		dst = append(dst, HashToken(TokenWord, unsafe.String(unsafe.SliceData(b[start:end]), end-start), 0, ""))
	}
	return dst, true
}

// Rows is the number of rows added since Reset.
func (e *BodyEncoder) Rows() int { return len(e.refs) }

// Append appends the column of the rows added since Reset to dst.
func (e *BodyEncoder) Append(dst []byte) []byte {
	for _, r := range e.refs {
		dst = binary.AppendUvarint(dst, uint64(r))
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.skels)))
	for _, s := range e.skels {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
	}
	for _, s := range e.skels {
		dst = append(dst, s...)
	}
	dst = append(dst, e.runs...)
	return append(dst, e.digits...)
}

// bodyLayout is a body column of n rows read up to its run lengths: what decodeBodies and bodyCuts share.
type bodyLayout struct {
	refs  []uint64 // per row: 0 or 1+skeleton
	skels [][]byte
	marks []int   // per skeleton, its mark bytes
	nruns int     // run lengths that follow, one per mark of the rows' skeletons
	dict  int     // offset of the skeleton dictionary (ndict)
	runs  int     // offset of the first run length
	d     decoder // at the first run length
}

// readBodyLayout reads a body column of n rows up to its run lengths; ok is false when raw is not one.
func readBodyLayout(raw []byte, n int) (l bodyLayout, ok bool) {
	d := decoder{buf: raw}
	l.refs = make([]uint64, n)
	for i := range l.refs {
		l.refs[i] = d.uvarint()
	}
	l.dict = len(raw) - len(d.buf)
	nd := d.count()
	l.skels = make([][]byte, nd)
	lens := make([]uint64, nd)
	for i := range lens {
		lens[i] = d.uvarint()
	}
	for i, n := range lens {
		if n > uint64(len(d.buf)) {
			return l, false
		}
		l.skels[i] = d.bytes(int(n))
	}
	if d.err != nil {
		return l, false
	}
	l.marks = make([]int, nd)
	for i, s := range l.skels {
		for _, c := range s {
			if c == bodyMark {
				l.marks[i]++
			}
		}
	}
	for _, r := range l.refs {
		if r > uint64(nd) {
			return l, false
		}
		if r > 0 {
			l.nruns += l.marks[r-1]
		}
	}
	if l.nruns > len(d.buf) { // a run length takes a byte at least
		return l, false
	}
	l.runs, l.d = len(raw)-len(d.buf), d
	return l, true
}

// decodeBodies decodes the body column of n rows.
func decodeBodies(raw []byte, n int) ([][]byte, error) {
	bad := fmt.Errorf("%w: body column does not decode to %d rows", ErrCorrupt, n)
	l, ok := readBodyLayout(raw, n)
	if !ok {
		return nil, bad
	}
	refs, skels, marks, nruns, d := l.refs, l.skels, l.marks, l.nruns, l.d
	runs := make([]int, nruns)
	total := 0
	for i := range runs {
		l := d.uvarint()
		if l > uint64(len(raw)) {
			return nil, bad
		}
		runs[i] = int(l)
		total += int(l)
	}
	if d.err != nil || total != len(d.buf) {
		return nil, bad
	}
	// Sizes first, so that the bodies share one allocation.
	digits := d.buf
	size := len(digits)
	for _, r := range refs {
		if r > 0 {
			size += len(skels[r-1]) - marks[r-1]
		}
	}
	for _, l := range runs {
		if l == 0 {
			size++
		}
	}
	out := make([]byte, 0, size)
	bodies := make([][]byte, n)
	ri := 0
	for i, r := range refs {
		if r == 0 {
			continue
		}
		start := len(out)
		for _, c := range skels[r-1] {
			if c != bodyMark {
				out = append(out, c)
				continue
			}
			l := runs[ri]
			ri++
			if l == 0 {
				out = append(out, bodyMark)
				continue
			}
			out = append(out, digits[:l]...)
			digits = digits[l:]
		}
		bodies[i] = out[start:len(out):len(out)]
	}
	return bodies, nil
}

// SkeletonEncoder writes strings in the layout of the body column (every string present): a dictionary of
// skeletons, and the digit runs apart. The engine uses it for attribute values of high cardinality.
type SkeletonEncoder struct {
	e    bodyEncoder
	rows []Row
}

// Append appends the encoding of vals to dst.
func (s *SkeletonEncoder) Append(dst []byte, vals []string) []byte {
	s.rows = s.rows[:0]
	for _, v := range vals {
		b := []byte{}
		if v != "" {
			b = unsafe.Slice(unsafe.StringData(v), len(v))
		}
		s.rows = append(s.rows, Row{Body: b})
	}
	dst = s.e.encode(dst, s.rows)
	clear(s.rows)
	return dst
}

// DecodeSkeletons decodes what SkeletonEncoder.Append wrote for n strings. The strings share one new
// allocation.
func DecodeSkeletons(raw []byte, n int) ([][]byte, error) {
	vals, err := decodeBodies(raw, n)
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		if v == nil {
			return nil, fmt.Errorf("%w: a string missing from a skeleton column", ErrCorrupt)
		}
	}
	return vals, nil
}
