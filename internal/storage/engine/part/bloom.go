package part

import "math/bits"

// Bloom is a Bloom filter over 64-bit hashes, bloomK probes by double hashing, sized by NewBloom. The number
// of bits is each filter's own (its length); bloomK is part of the format.
type Bloom []uint64

const (
	// TraceBloomBits is the bits per trace ID of a block's trace filter: about 0.07% false positives, so a
	// trace by ID reads about 2 blocks it does not need in 2,500 (10M spans); it costs 0.1-0.2 B per item.
	TraceBloomBits = 16
	// TokenBloomBits is the bits per token of a block's token filter: about 2.3% false positives (1% at 10
	// bits, which took 4.5 B per log record of the reference workload: its bodies' numbers make about 3.6
	// distinct words per record).
	TokenBloomBits = 8
	bloomK         = 7
)

// NewBloom returns a filter sized for n items at bitsPerItem bits each.
func NewBloom(n, bitsPerItem int) Bloom {
	bits := max(64, n*bitsPerItem)
	return make(Bloom, (bits+63)/64)
}

// Add sets the bits of h.
func (b Bloom) Add(h uint64) {
	if len(b) == 0 {
		return
	}
	n := uint64(len(b)) * 64
	h1, h2 := h, h>>33|h<<31|1
	for i := uint64(0); i < bloomK; i++ {
		bit := (h1 + i*h2) % n
		b[bit/64] |= 1 << (bit % 64)
	}
}

// AddAll calls each with a function that adds a hash to b, as Add does, for filters that take many: the
// remainder by the filter's size, a division per probe in Add, is computed by multiplications
// (BenchmarkBloomAdd).
func (b Bloom) AddAll(each func(add func(h uint64))) {
	if len(b) == 0 {
		return
	}
	n := uint64(len(b)) * 64
	mh, ml := remainderMagic(n)
	each(func(h uint64) {
		x, h2 := h, h>>33|h<<31|1
		for range bloomK {
			bit := remainder(x, mh, ml, n)
			b[bit/64] |= 1 << (bit % 64)
			x += h2
		}
	})
}

// remainderMagic returns the 128-bit M = floor((2^128-1)/d) + 1 with which remainder computes a % d (d > 1):
// Lemire, Kaser and Kurz, "Faster remainder by direct computation" (2019), exact for every 64-bit a.
func remainderMagic(d uint64) (hi, lo uint64) {
	hi = ^uint64(0) / d
	q, _ := bits.Div64(^uint64(0)%d, ^uint64(0), d)
	lo, carry := bits.Add64(q, 1, 0)
	return hi + carry, lo
}

// remainder returns a % d given remainderMagic(d): the low 128 bits of M*a, times d, shifted right by 128.
func remainder(a, mh, ml, d uint64) uint64 {
	ph, pl := bits.Mul64(ml, a)
	lh, ll := ph+mh*a, pl
	h1, _ := bits.Mul64(ll, d)
	h2, l2 := bits.Mul64(lh, d)
	_, carry := bits.Add64(l2, h1, 0)
	return h2 + carry
}

// Has reports whether h may have been added (false: certainly not). An empty filter answers true.
func (b Bloom) Has(h uint64) bool {
	if len(b) == 0 {
		return true
	}
	n := uint64(len(b)) * 64
	h1, h2 := h, h>>33|h<<31|1
	for i := uint64(0); i < bloomK; i++ {
		bit := (h1 + i*h2) % n
		if b[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// Hash is the hash used for bloom keys: 64-bit FNV-1a with a final avalanche mix. It is part of the on-disk
// format: changing it changes the format version.
func Hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}

// HashBytes is Hash of b.
func HashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return mix(h)
}

func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Tokens calls fn for each word of s: a maximal run of bytes that are ASCII letters, digits, '_' or any byte
// of a multi-byte UTF-8 character.
func Tokens(s string, fn func(tok string)) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isWordByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(s[start:i])
			start = -1
		}
	}
}

// WholeTokens calls fn for each word of needle that is a whole word in any text containing needle: every word
// except a first word touching the start of needle and a last word touching its end.
func WholeTokens(needle string, fn func(tok string)) {
	start := -1
	for i := 0; i <= len(needle); i++ {
		if i < len(needle) && isWordByte(needle[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if start > 0 && i < len(needle) {
				fn(needle[start:i])
			}
			start = -1
		}
	}
}

func isWordByte(c byte) bool { return wordByte[c] }

// wordByte tells the bytes of words: ASCII letters, digits, '_' and every byte of a multi-byte character.
var wordByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	}
	return t
}()

// AppendWordHashes appends to dst HashToken(TokenWord, w, 0, "") of each word w of s (as Tokens finds them),
// in one pass over s.
func AppendWordHashes(dst []uint64, s string) []uint64 {
	const prime = 1099511628211
	offset := uint64(14695981039346656037)
	offset = (offset ^ uint64(TokenWord)) * prime // the hash of the prefix
	h, in := offset, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if wordByte[c] {
			h = (h ^ uint64(c)) * prime
			in = true
			continue
		}
		if in {
			dst = append(dst, mix(h))
			h, in = offset, false
		}
	}
	if in {
		dst = append(dst, mix(h))
	}
	return dst
}

// Token prefixes keep the kinds of token apart in one filter.
const (
	TokenAttr byte = 1 // key=value of an attribute
	TokenWord byte = 2 // a word of a log body
)

// HashToken is Hash of prefix, a, and (when sep is not 0) sep and b, without building the string.
func HashToken(prefix byte, a string, sep byte, b string) uint64 {
	h := uint64(14695981039346656037)
	h ^= uint64(prefix)
	h *= 1099511628211
	for i := 0; i < len(a); i++ {
		h ^= uint64(a[i])
		h *= 1099511628211
	}
	if sep != 0 {
		h ^= uint64(sep)
		h *= 1099511628211
		for i := 0; i < len(b); i++ {
			h ^= uint64(b[i])
			h *= 1099511628211
		}
	}
	return mix(h)
}
