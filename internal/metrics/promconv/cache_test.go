package promconv

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// sampleKey is a sample as text, for comparing what two converters appended regardless of order.
func (s sample) key() string {
	h := ""
	if s.h != nil {
		h = s.h.String()
	}
	return fmt.Sprintf("%s %d %x %s %s %v", s.series, s.t, math.Float64bits(s.v), h, s.typ, s.ex)
}

func sampleKeys(r *recorder) []string {
	out := make([]string, len(r.samples))
	for i, s := range r.samples {
		out[i] = s.key()
	}
	slices.Sort(out)
	return out
}

// randomBatch makes a batch of series drawn from a small fixed set (so that batches repeat series) at
// interval i: several resources and scopes, gauges, cumulative and delta sums, classic histograms (some
// without sum, some with a +Inf bound, bounds that change), exponential histograms and summaries, with the
// odd exemplar and NO_RECORDED_VALUE point.
func randomBatch(rng *rand.Rand, i int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	now := ts(t0 + int64(i)*10_000)
	start := ts(t0 - 1000)
	for r := range 1 + rng.IntN(3) {
		rm := md.ResourceMetrics().AppendEmpty()
		ra := rm.Resource().Attributes()
		ra.PutStr("service.name", fmt.Sprintf("svc-%d", r))
		ra.PutStr("service.instance.id", "i-1")
		if r == 1 {
			ra.PutInt("process.pid", 42)
		}
		if r == 2 {
			ra.PutStr("host.name", "h")
			ra.PutEmptySlice("tags").AppendEmpty().SetStr("a")
		}
		for sc := range 1 + rng.IntN(2) {
			sm := rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName(fmt.Sprintf("scope-%d", sc))
			if sc == 1 {
				sm.Scope().SetVersion("1.0")
				sm.Scope().Attributes().PutBool("x", true)
			}
			ms := sm.Metrics()
			attrs := func(m pcommon.Map) {
				m.PutStr("route", fmt.Sprintf("/r%d", rng.IntN(3)))
				switch rng.IntN(4) {
				case 0:
					m.PutInt("code", 200)
				case 1:
					m.PutStr("code", "200") // same label, another attribute type
				case 2:
					m.PutDouble("ratio", 0.5)
				}
			}
			flags := func() pmetric.DataPointFlags {
				if rng.IntN(20) == 0 {
					return pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)
				}
				return pmetric.DefaultDataPointFlags
			}
			exemplar := func(es pmetric.ExemplarSlice, v float64) {
				if rng.IntN(10) == 0 {
					e := es.AppendEmpty()
					e.SetTimestamp(now)
					e.SetDoubleValue(v)
					e.SetTraceID(pcommon.TraceID{1, 2, 3})
				}
			}

			g := ms.AppendEmpty()
			g.SetName("queue.depth")
			g.SetUnit("{item}")
			g.SetDescription("Items waiting.")
			gps := g.SetEmptyGauge().DataPoints()
			for range rng.IntN(4) {
				p := gps.AppendEmpty()
				attrs(p.Attributes())
				p.SetTimestamp(now)
				p.SetIntValue(rng.Int64N(100))
				p.SetFlags(flags())
			}

			s := ms.AppendEmpty()
			s.SetName("requests")
			s.SetUnit("{request}")
			sum := s.SetEmptySum()
			sum.SetIsMonotonic(rng.IntN(8) != 0)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			if rng.IntN(8) == 0 {
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			}
			for range 1 + rng.IntN(4) {
				p := sum.DataPoints().AppendEmpty()
				attrs(p.Attributes())
				p.SetStartTimestamp(start)
				p.SetTimestamp(now)
				p.SetDoubleValue(float64(i*10 + rng.IntN(10)))
				p.SetFlags(flags())
				exemplar(p.Exemplars(), 1)
			}

			h := ms.AppendEmpty()
			h.SetName("duration")
			h.SetUnit("ms")
			hist := h.SetEmptyHistogram()
			hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for range 1 + rng.IntN(4) {
				p := hist.DataPoints().AppendEmpty()
				attrs(p.Attributes())
				p.SetStartTimestamp(start)
				p.SetTimestamp(now)
				bounds := []float64{1, 5, 10}
				switch rng.IntN(10) {
				case 0:
					bounds = []float64{1, 5, 10, 50}
				case 1:
					bounds = []float64{1, 5, math.Inf(1)}
				}
				p.ExplicitBounds().FromRaw(bounds)
				counts := make([]uint64, len(bounds)+1)
				var n uint64
				for k := range counts {
					counts[k] = uint64(i + rng.IntN(5))
					n += counts[k]
				}
				if rng.IntN(10) == 0 {
					counts = counts[:len(counts)-1] // fewer counts than bounds + 1
				}
				p.BucketCounts().FromRaw(counts)
				p.SetCount(n)
				if rng.IntN(5) != 0 {
					p.SetSum(float64(n) * 3.5)
				}
				p.SetFlags(flags())
				exemplar(p.Exemplars(), 4)
			}

			if rng.IntN(2) == 0 {
				e := ms.AppendEmpty()
				e.SetName("rpc.duration")
				e.SetUnit("s")
				eh := e.SetEmptyExponentialHistogram()
				eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				p := eh.DataPoints().AppendEmpty()
				attrs(p.Attributes())
				p.SetStartTimestamp(start)
				p.SetTimestamp(now)
				p.SetScale(2)
				p.Positive().BucketCounts().FromRaw([]uint64{uint64(i), 1})
				p.SetCount(uint64(i + 1))
				p.SetSum(float64(i))
			}
			if rng.IntN(2) == 0 {
				m := ms.AppendEmpty()
				m.SetName("latency.summary")
				p := m.SetEmptySummary().DataPoints().AppendEmpty()
				attrs(p.Attributes())
				p.SetStartTimestamp(start)
				p.SetTimestamp(now)
				p.SetCount(uint64(i))
				p.SetSum(float64(i) * 2)
				q := p.QuantileValues().AppendEmpty()
				q.SetQuantile(0.5)
				q.SetValue(1)
			}
			if rng.IntN(6) == 0 {
				m := ms.AppendEmpty()
				m.SetName("") // no Prometheus name: rejected
				m.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(now)
			}
		}
	}
	return md
}

// TestSeriesCacheAppendsWhatTheTranslatorDoes converts the same random batches with the series cache and
// without it (every point through the translator) and compares every sample and every count, with some
// samples refused by the appender.
func TestSeriesCacheAppendsWhatTheTranslatorDoes(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for _, size := range []int{0, 5} { // the default, and a cache that fills up
		rng := rand.New(rand.NewPCG(seed, uint64(size)))
		cached, err := NewConverter(Options{SeriesCacheSize: size})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := NewConverter(Options{SeriesCacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		refuse := func(ls labels.Labels) bool {
			return strings.Contains(ls.Get("route"), "/r2") && ls.Get("le") == "5"
		}
		for i := range 40 {
			md := randomBatch(rng, i)
			rc, rp := &recorder{refuse: refuse}, &recorder{refuse: refuse}
			resC, err := cached.Convert(context.Background(), md, rc)
			if err != nil {
				t.Fatal(err)
			}
			resP, err := plain.Convert(context.Background(), md, rp)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sampleKeys(rc), sampleKeys(rp); !slices.Equal(got, want) {
				t.Fatalf("size %d batch %d: samples differ\nwith cache:\n%s\nwithout:\n%s", size, i,
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			slices.Sort(resC.Reasons)
			slices.Sort(resP.Reasons)
			if resC.Samples != resP.Samples || resC.Failed != resP.Failed || resC.Rejected != resP.Rejected ||
				!slices.Equal(resC.Reasons, resP.Reasons) {
				t.Fatalf("size %d batch %d: results differ: %+v with cache, %+v without", size, i, resC, resP)
			}
		}
		if n := cached.CachedSeries(); n == 0 || (size > 0 && n > size) {
			t.Fatalf("size %d: %d series cached", size, n)
		}
	}
}

// TestSeriesCacheSecondBatchAppendsByReference checks that the points of a known series take the cache:
// the second batch hands the appender the references the first one returned.
func TestSeriesCacheSecondBatchAppendsByReference(t *testing.T) {
	c, err := NewConverter(Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := &refRecorder{}
	if _, err := c.Convert(context.Background(), batch(svc, histogramMetric("lat", "s", pmetric.AggregationTemporalityCumulative)), first); err != nil {
		t.Fatal(err)
	}
	md := batch(svc, histogramMetric("lat", "s", pmetric.AggregationTemporalityCumulative))
	p := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Histogram().DataPoints().At(0)
	p.SetTimestamp(p.Timestamp() + 10e9)
	p.Exemplars().RemoveIf(func(pmetric.Exemplar) bool { return true })
	second := &refRecorder{}
	if _, err := c.Convert(context.Background(), md, second); err != nil {
		t.Fatal(err)
	}
	byRef := 0
	for _, r := range second.refs {
		if r != 0 {
			byRef++
		}
	}
	// Every series of the histogram point (the resource has no target_info: job only).
	if want := len(first.refs); want != 6 || byRef != want {
		t.Fatalf("%d of %d samples appended by reference, want %d", byRef, len(second.refs), want)
	}
	if c.ForgetSeriesBefore(t0+20_000) != 1 || c.CachedSeries() != 0 {
		t.Fatalf("forget: %d series left", c.CachedSeries())
	}
}

// refRecorder records the references it is given and hands out new ones.
type refRecorder struct {
	recorder
	refs []uint64
	next uint64
}

func (r *refRecorder) Append(ref storage.SeriesRef, _ labels.Labels, _, _ int64, _ float64, _ *histogram.Histogram, _ *histogram.FloatHistogram, _ storage.AppendV2Options) (storage.SeriesRef, error) {
	r.refs = append(r.refs, uint64(ref))
	if ref != 0 {
		return ref, nil
	}
	r.next++
	return storage.SeriesRef(r.next), nil
}
