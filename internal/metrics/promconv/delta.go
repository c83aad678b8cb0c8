package promconv

import (
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/config"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func promoteConfig(attrs []string) config.OTLPConfig {
	return config.OTLPConfig{PromoteResourceAttributes: attrs}
}

// AccumulatorOptions bounds the delta-to-cumulative state (see the package documentation).
type AccumulatorOptions struct {
	MaxSeries int              // 0: 100,000
	IdleTTL   time.Duration    // 0: 1 hour
	Now       func() time.Time // nil: time.Now
}

// Accumulator turns delta points into cumulative ones, keeping per-series state. Safe for concurrent use.
type Accumulator struct {
	opts      AccumulatorOptions
	seed1     maphash.Seed
	seed2     maphash.Seed
	mu        sync.Mutex
	series    map[seriesKey]*deltaState
	lastSweep time.Time
}

type seriesKey struct{ a, b uint64 }

type deltaState struct {
	start, last pcommon.Timestamp
	seen        time.Time

	// sums
	isInt bool
	i     int64
	f     float64

	// histograms
	count         uint64
	sum           float64
	bounds        []float64
	buckets       []uint64
	scale         int32
	zeroCount     uint64
	zeroThreshold float64
	pos, neg      expBuckets
}

type expBuckets struct {
	offset int32
	counts []uint64
}

// NewAccumulator returns an empty Accumulator.
func NewAccumulator(opts AccumulatorOptions) *Accumulator {
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = 100_000
	}
	if opts.IdleTTL <= 0 {
		opts.IdleTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Accumulator{opts: opts, seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), series: map[seriesKey]*deltaState{}}
}

// Len returns the number of series with state.
func (a *Accumulator) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.series)
}

func hasDelta(md pmetric.Metrics) bool {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if t, ok := temporality(ms.At(k)); ok && t == pmetric.AggregationTemporalityDelta {
					return true
				}
			}
		}
	}
	return false
}

// Apply returns md with every delta metric made cumulative. When md has no delta metric it is returned as it
// is; otherwise a converted copy is returned and md is not modified. dropped counts the points left out, and
// reasons says why.
func (a *Accumulator) Apply(md pmetric.Metrics) (out pmetric.Metrics, dropped int64, reasons []string) {
	if !hasDelta(md) {
		return md, 0, nil
	}
	out = pmetric.NewMetrics()
	md.CopyTo(out)
	why := func(s string) {
		if !slices.Contains(reasons, s) && len(reasons) < 8 {
			reasons = append(reasons, s)
		}
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opts.Now()
	if now.Sub(a.lastSweep) > a.opts.IdleTTL/8 {
		a.sweep(now)
	}

	var h keyHasher
	rms := out.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		h.begin(a)
		h.attrs(rm.Resource().Attributes())
		resState := h.state()
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			sm := sms.At(j)
			h.restore(resState)
			h.str(sm.Scope().Name())
			h.str(sm.Scope().Version())
			h.attrs(sm.Scope().Attributes())
			scopeState := h.state()
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				t, ok := temporality(m)
				if !ok || t != pmetric.AggregationTemporalityDelta {
					return false
				}
				h.restore(scopeState)
				h.str(m.Name())
				h.str(m.Unit())
				h.byte(byte(m.Type()))
				metricState := h.state()
				var n int64
				var r string
				switch m.Type() {
				case pmetric.MetricTypeSum:
					if !m.Sum().IsMonotonic() {
						dropped += int64(m.Sum().DataPoints().Len())
						why(fmt.Sprintf("metric %q: delta non-monotonic sums are dropped", m.Name()))
						return true
					}
					n, r = a.sums(now, &h, metricState, m.Sum().DataPoints())
					m.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				case pmetric.MetricTypeHistogram:
					n, r = a.histograms(now, &h, metricState, m.Histogram().DataPoints())
					m.Histogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				case pmetric.MetricTypeExponentialHistogram:
					n, r = a.expHistograms(now, &h, metricState, m.ExponentialHistogram().DataPoints())
					m.ExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				}
				dropped += n
				if r != "" {
					why(fmt.Sprintf("metric %q: %s", m.Name(), r))
				}
				return pointCount(m) == 0
			})
		}
	}
	return out, dropped, reasons
}

// sweep forgets series idle for longer than IdleTTL. The caller holds a.mu.
func (a *Accumulator) sweep(now time.Time) {
	a.lastSweep = now
	for k, s := range a.series {
		if now.Sub(s.seen) > a.opts.IdleTTL {
			delete(a.series, k)
		}
	}
}

// get returns the state of a series, creating it when there is room. The caller holds a.mu.
func (a *Accumulator) get(now time.Time, k seriesKey) (*deltaState, bool, string) {
	if s := a.series[k]; s != nil {
		return s, false, ""
	}
	if len(a.series) >= a.opts.MaxSeries {
		a.sweep(now)
		if len(a.series) >= a.opts.MaxSeries {
			return nil, false, fmt.Sprintf("delta-to-cumulative state is full (%d series)", a.opts.MaxSeries)
		}
	}
	s := &deltaState{}
	a.series[k] = s
	return s, true, ""
}

// order checks a delta point against its series and says whether to reject it.
func order(s *deltaState, fresh bool, start, t pcommon.Timestamp) string {
	if fresh {
		if start == 0 || start > t {
			start = t
		}
		s.start = start
		return ""
	}
	if t <= s.last {
		return "delta point at or before the previous point of its series"
	}
	if start != 0 && start < s.last {
		return "delta point overlaps the interval of the previous point of its series"
	}
	return ""
}

func (a *Accumulator) sums(now time.Time, h *keyHasher, ms hashState, dps pmetric.NumberDataPointSlice) (int64, string) {
	// Several intervals of a series may come in one batch: accumulate them in time order.
	dps.Sort(func(a, b pmetric.NumberDataPoint) bool { return a.Timestamp() < b.Timestamp() })
	var dropped int64
	var reason string
	dps.RemoveIf(func(p pmetric.NumberDataPoint) bool {
		h.restore(ms)
		h.attrs(p.Attributes())
		s, fresh, r := a.get(now, h.key())
		if s == nil {
			dropped++
			reason = r
			return true
		}
		if r := order(s, fresh, p.StartTimestamp(), p.Timestamp()); r != "" {
			dropped++
			reason = r
			return true
		}
		s.last, s.seen = p.Timestamp(), now
		p.SetStartTimestamp(s.start)
		if p.Flags().NoRecordedValue() {
			return false
		}
		switch p.ValueType() {
		case pmetric.NumberDataPointValueTypeInt:
			if fresh {
				s.isInt = true
			}
			if s.isInt {
				s.i += p.IntValue()
				p.SetIntValue(s.i)
			} else {
				s.f += float64(p.IntValue())
				p.SetDoubleValue(s.f)
			}
		case pmetric.NumberDataPointValueTypeDouble:
			if s.isInt {
				s.isInt, s.f = false, float64(s.i)
			}
			s.f += p.DoubleValue()
			p.SetDoubleValue(s.f)
		}
		return false
	})
	return dropped, reason
}

func (a *Accumulator) histograms(now time.Time, h *keyHasher, ms hashState, dps pmetric.HistogramDataPointSlice) (int64, string) {
	dps.Sort(func(a, b pmetric.HistogramDataPoint) bool { return a.Timestamp() < b.Timestamp() })
	var dropped int64
	var reason string
	dps.RemoveIf(func(p pmetric.HistogramDataPoint) bool {
		h.restore(ms)
		h.attrs(p.Attributes())
		s, fresh, r := a.get(now, h.key())
		if s == nil {
			dropped++
			reason = r
			return true
		}
		if r := order(s, fresh, p.StartTimestamp(), p.Timestamp()); r != "" {
			dropped++
			reason = r
			return true
		}
		s.last, s.seen = p.Timestamp(), now
		if p.Flags().NoRecordedValue() {
			p.SetStartTimestamp(s.start)
			return false
		}
		bounds := p.ExplicitBounds().AsRaw()
		if !fresh && !slices.Equal(bounds, s.bounds) {
			// New bucket layout: a reset, the cumulative series starts again here.
			fresh = true
			s.start = p.StartTimestamp()
			if s.start == 0 || s.start > p.Timestamp() {
				s.start = p.Timestamp()
			}
		}
		if fresh {
			s.bounds = bounds
			s.buckets = make([]uint64, p.BucketCounts().Len())
			s.count, s.sum = 0, 0
		}
		p.SetStartTimestamp(s.start)
		bc := p.BucketCounts()
		if bc.Len() == len(s.buckets) {
			for i := range s.buckets {
				s.buckets[i] += bc.At(i)
			}
			bc.FromRaw(s.buckets)
		}
		s.count += p.Count()
		p.SetCount(s.count)
		if p.HasSum() {
			s.sum += p.Sum()
			p.SetSum(s.sum)
		}
		// Min and max are per interval; they have no cumulative meaning here.
		p.RemoveMin()
		p.RemoveMax()
		return false
	})
	return dropped, reason
}

func (a *Accumulator) expHistograms(now time.Time, h *keyHasher, ms hashState, dps pmetric.ExponentialHistogramDataPointSlice) (int64, string) {
	dps.Sort(func(a, b pmetric.ExponentialHistogramDataPoint) bool { return a.Timestamp() < b.Timestamp() })
	var dropped int64
	var reason string
	dps.RemoveIf(func(p pmetric.ExponentialHistogramDataPoint) bool {
		h.restore(ms)
		h.attrs(p.Attributes())
		s, fresh, r := a.get(now, h.key())
		if s == nil {
			dropped++
			reason = r
			return true
		}
		if r := order(s, fresh, p.StartTimestamp(), p.Timestamp()); r != "" {
			dropped++
			reason = r
			return true
		}
		s.last, s.seen = p.Timestamp(), now
		p.SetStartTimestamp(s.start)
		if p.Flags().NoRecordedValue() {
			return false
		}
		if fresh {
			s.scale = p.Scale()
			s.zeroThreshold = p.ZeroThreshold()
		}
		// Bring the state and the point to the coarser of the two scales, then add.
		scale := min(s.scale, p.Scale())
		s.pos.downscale(s.scale - scale)
		s.neg.downscale(s.scale - scale)
		s.scale = scale
		pp := expBuckets{offset: p.Positive().Offset(), counts: p.Positive().BucketCounts().AsRaw()}
		pn := expBuckets{offset: p.Negative().Offset(), counts: p.Negative().BucketCounts().AsRaw()}
		pp.downscale(p.Scale() - scale)
		pn.downscale(p.Scale() - scale)
		s.pos.add(pp)
		s.neg.add(pn)
		s.zeroThreshold = max(s.zeroThreshold, p.ZeroThreshold())
		s.zeroCount += p.ZeroCount()
		s.count += p.Count()
		if p.HasSum() {
			s.sum += p.Sum()
			p.SetSum(s.sum)
		}
		p.SetScale(s.scale)
		p.SetZeroCount(s.zeroCount)
		p.SetZeroThreshold(s.zeroThreshold)
		p.SetCount(s.count)
		p.Positive().SetOffset(s.pos.offset)
		p.Positive().BucketCounts().FromRaw(s.pos.counts)
		p.Negative().SetOffset(s.neg.offset)
		p.Negative().BucketCounts().FromRaw(s.neg.counts)
		p.RemoveMin()
		p.RemoveMax()
		return false
	})
	return dropped, reason
}

// downscale merges buckets so that the scale drops by by: bucket i at scale s is inside bucket i>>by at scale
// s-by (an arithmetic shift, so negative indexes round toward minus infinity as they must).
func (b *expBuckets) downscale(by int32) {
	if by <= 0 || len(b.counts) == 0 {
		return
	}
	first := b.offset >> by
	last := (b.offset + int32(len(b.counts)) - 1) >> by
	out := make([]uint64, last-first+1)
	for i, c := range b.counts {
		out[((b.offset+int32(i))>>by)-first] += c
	}
	b.offset, b.counts = first, out
}

// add adds o (at the same scale) into b.
func (b *expBuckets) add(o expBuckets) {
	if len(o.counts) == 0 {
		return
	}
	if len(b.counts) == 0 {
		b.offset, b.counts = o.offset, slices.Clone(o.counts)
		return
	}
	first := min(b.offset, o.offset)
	last := max(b.offset+int32(len(b.counts)), o.offset+int32(len(o.counts)))
	if first != b.offset || last != b.offset+int32(len(b.counts)) {
		out := make([]uint64, last-first)
		copy(out[b.offset-first:], b.counts)
		b.offset, b.counts = first, out
	}
	for i, c := range o.counts {
		b.counts[o.offset-b.offset+int32(i)] += c
	}
}

// keyHasher builds a 128-bit series identity from two seeded maphashes.
type keyHasher struct {
	h1, h2 maphash.Hash
	buf    []byte
}

type hashState struct{ buf []byte }

func (h *keyHasher) begin(a *Accumulator) {
	h.h1.SetSeed(a.seed1)
	h.h2.SetSeed(a.seed2)
	h.buf = h.buf[:0]
}

// The identity is accumulated as bytes and hashed at the end; state/restore let resource and scope prefixes
// be built once.
func (h *keyHasher) state() hashState    { return hashState{buf: h.buf} }
func (h *keyHasher) restore(s hashState) { h.buf = s.buf[:len(s.buf):len(s.buf)] }
func (h *keyHasher) byte(b byte)         { h.buf = append(h.buf, b) }
func (h *keyHasher) str(s string)        { h.buf = appendLen(h.buf, len(s)); h.buf = append(h.buf, s...) }
func appendLen(b []byte, n int) []byte {
	return append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
}

func (h *keyHasher) attrs(m pcommon.Map) {
	keys := make([]string, 0, m.Len())
	m.Range(func(k string, _ pcommon.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Strings(keys)
	h.byte(0xfe)
	for _, k := range keys {
		v, _ := m.Get(k)
		h.str(k)
		h.byte(byte(v.Type()))
		h.str(v.AsString())
	}
	h.byte(0xff)
}

func (h *keyHasher) key() seriesKey {
	h.h1.Reset()
	h.h2.Reset()
	_, _ = h.h1.Write(h.buf)
	_, _ = h.h2.Write(h.buf)
	return seriesKey{h.h1.Sum64(), h.h2.Sum64()}
}
