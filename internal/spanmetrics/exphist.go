package spanmetrics

import "math"

// expHist is a base-2 exponential histogram of positive values (OTLP ExponentialHistogram, Prometheus native
// histogram): bucket i at scale s holds the values in (2^(i/2^s), 2^((i+1)/2^s)]. Zero goes to the zero
// bucket. When the buckets would span more than maxExpBuckets, the scale drops by one (pairs of buckets merge),
// so memory stays bounded whatever the durations.
type expHist struct {
	scale  int32
	offset int32    // index of counts[0]
	counts []uint64 // dense, from offset
	zero   uint64
}

// Starting scale 3 puts 8 buckets in each doubling (about 9% apart); maxExpBuckets of them cover 2^20, e.g.
// 1 µs to 1 s, before the scale drops.
const (
	startScale    = 3
	maxExpBuckets = 160
)

func newExpHist() expHist { return expHist{scale: startScale} }

// index is the bucket of v > 0 at scale: ceil(log2(v) * 2^scale) - 1.
func index(v float64, scale int32) int32 {
	return int32(math.Ceil(math.Log2(v)*math.Ldexp(1, int(scale)))) - 1
}

func (h *expHist) add(v float64) {
	if !(v > 0) {
		h.zero++
		return
	}
	i := index(v, h.scale)
	for len(h.counts) > 0 {
		lo, hi := min(h.offset, i), max(h.offset+int32(len(h.counts))-1, i)
		if hi-lo+1 <= maxExpBuckets {
			break
		}
		h.downscale()
		i = index(v, h.scale)
	}
	switch {
	case len(h.counts) == 0:
		h.offset = i
		h.counts = append(h.counts[:0], 1)
		return
	case i < h.offset:
		grown := make([]uint64, int(h.offset-i)+len(h.counts))
		copy(grown[h.offset-i:], h.counts)
		h.counts, h.offset = grown, i
	case i >= h.offset+int32(len(h.counts)):
		for int32(len(h.counts)) <= i-h.offset {
			h.counts = append(h.counts, 0)
		}
	}
	h.counts[i-h.offset]++
}

// downscale halves the resolution: bucket i becomes i>>1 (floor division keeps the boundaries nested).
func (h *expHist) downscale() {
	newOff := h.offset >> 1
	last := (h.offset + int32(len(h.counts)) - 1) >> 1
	merged := make([]uint64, last-newOff+1)
	for j, c := range h.counts {
		merged[((h.offset+int32(j))>>1)-newOff] += c
	}
	h.counts, h.offset = merged, newOff
	h.scale--
}
