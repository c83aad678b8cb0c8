package promconv

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// deltaPoint is one delta interval (start, end] in ms relative to t0 with its value.
type deltaPoint struct {
	start, end int64
	v          float64
	stale      bool
}

func deltaSum(name string, monotonic bool, pts ...deltaPoint) pmetric.Metrics {
	return batch(svc, func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName(name)
		s := m.SetEmptySum()
		s.SetIsMonotonic(monotonic)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		for _, p := range pts {
			dp := s.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(ts(t0 + p.start))
			dp.SetTimestamp(ts(t0 + p.end))
			dp.SetDoubleValue(p.v)
			if p.stale {
				dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
			}
		}
	})
}

var stale = math.Float64frombits(value.StaleNaN)

type point struct {
	t int64
	v float64
}

// run converts batches in order with one converter and returns the samples of series.
func run(t *testing.T, c *Converter, series string, batches ...pmetric.Metrics) ([]point, Result) {
	t.Helper()
	r := &recorder{}
	var total Result
	for _, md := range batches {
		res, err := c.Convert(context.Background(), md, r)
		if err != nil {
			t.Fatal(err)
		}
		total.Rejected += res.Rejected
		total.Reasons = append(total.Reasons, res.Reasons...)
	}
	var out []point
	for _, s := range r.find(series) {
		out = append(out, point{s.t - t0, s.v})
	}
	return out, total
}

func TestDeltaToCumulative(t *testing.T) {
	const series = `reqs_total{job="checkout"}`
	f := func(name string, want []point, wantRejected int64, batches ...pmetric.Metrics) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			c, _ := NewConverter(Options{})
			got, res := run(t, c, series, batches...)
			if len(got) != len(want) {
				t.Fatalf("points = %v, want %v", got, want)
			}
			for i := range got {
				if got[i].t != want[i].t || (got[i].v != want[i].v && !(value.IsStaleNaN(want[i].v) && value.IsStaleNaN(got[i].v))) {
					t.Errorf("points = %v, want %v", got, want)
					break
				}
			}
			if res.Rejected != wantRejected {
				t.Errorf("Rejected = %d, want %d (%v)", res.Rejected, wantRejected, res.Reasons)
			}
		})
	}
	f("contiguous intervals add up", []point{{10, 3}, {20, 7}, {30, 7}}, 0,
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}),
		deltaSum("reqs", true, deltaPoint{10, 20, 4, false}),
		deltaSum("reqs", true, deltaPoint{20, 30, 0, false}))
	f("several intervals in one batch, out of order within it", []point{{10, 3}, {20, 7}}, 0,
		deltaSum("reqs", true, deltaPoint{10, 20, 4, false}, deltaPoint{0, 10, 3, false}))
	f("a gap continues the series", []point{{10, 3}, {50, 5}}, 0,
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}),
		deltaSum("reqs", true, deltaPoint{40, 50, 2, false}))
	f("a point at the same time is rejected", []point{{10, 3}}, 1,
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}),
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}))
	f("an older point is rejected", []point{{20, 3}}, 1,
		deltaSum("reqs", true, deltaPoint{10, 20, 3, false}),
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}))
	f("an overlapping interval is rejected", []point{{20, 3}, {40, 4}}, 1,
		deltaSum("reqs", true, deltaPoint{10, 20, 3, false}),
		deltaSum("reqs", true, deltaPoint{15, 30, 9, false}),
		deltaSum("reqs", true, deltaPoint{30, 40, 1, false}))
	f("no recorded value is a staleness marker and keeps the sum",
		[]point{{10, 3}, {20, stale}, {30, 5}}, 0,
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}),
		deltaSum("reqs", true, deltaPoint{10, 20, 0, true}),
		deltaSum("reqs", true, deltaPoint{20, 30, 2, false}))
	f("delta non-monotonic sums are dropped", nil, 2,
		deltaSum("reqs", false, deltaPoint{0, 10, 3, false}, deltaPoint{10, 20, 3, false}))
}

func TestDeltaStartTime(t *testing.T) {
	c, _ := NewConverter(Options{})
	app := &startRecorder{}
	for _, md := range []pmetric.Metrics{
		deltaSum("reqs", true, deltaPoint{5, 10, 3, false}),
		deltaSum("reqs", true, deltaPoint{10, 20, 4, false}),
	} {
		if _, err := c.Convert(context.Background(), md, app); err != nil {
			t.Fatal(err)
		}
	}
	// The cumulative start is the first interval's start, and it stays.
	if want := []int64{t0 + 5, t0 + 5}; !slices.Equal(app.st, want) {
		t.Errorf("start times = %v, want %v", app.st, want)
	}
}

type startRecorder struct {
	recorder
	st []int64
}

func (r *startRecorder) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, o storage.AppendV2Options) (storage.SeriesRef, error) {
	if ls.Get("__name__") == "reqs_total" {
		r.st = append(r.st, st)
	}
	return r.recorder.Append(ref, ls, st, t, v, h, fh, o)
}

func TestDeltaInputIsNotModified(t *testing.T) {
	c, _ := NewConverter(Options{})
	md := deltaSum("reqs", true, deltaPoint{0, 10, 3, false})
	before := pmetric.NewMetrics()
	md.CopyTo(before)
	if _, err := c.Convert(context.Background(), md, &recorder{}); err != nil {
		t.Fatal(err)
	}
	m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
	if m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta || m.Sum().DataPoints().At(0).DoubleValue() != 3 {
		t.Error("Convert modified its input")
	}
}

func deltaHistogram(start, end int64, bounds []float64, counts []uint64, sum float64) pmetric.Metrics {
	return batch(svc, func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName("lat")
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		p := h.DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(t0 + start))
		p.SetTimestamp(ts(t0 + end))
		p.ExplicitBounds().FromRaw(bounds)
		p.BucketCounts().FromRaw(counts)
		var n uint64
		for _, c := range counts {
			n += c
		}
		p.SetCount(n)
		p.SetSum(sum)
	})
}

func TestDeltaHistogram(t *testing.T) {
	c, _ := NewConverter(Options{})
	b := []float64{1, 2}
	r := &recorder{}
	for _, md := range []pmetric.Metrics{
		deltaHistogram(0, 10, b, []uint64{1, 0, 2}, 7),
		deltaHistogram(10, 20, b, []uint64{0, 3, 1}, 9),
		// New bounds: the cumulative series starts again.
		deltaHistogram(20, 30, []float64{5}, []uint64{2, 0}, 4),
	} {
		if _, err := c.Convert(context.Background(), md, r); err != nil {
			t.Fatal(err)
		}
	}
	for series, want := range map[string][]float64{
		`lat_bucket{job="checkout", le="1"}`:    {1, 1},
		`lat_bucket{job="checkout", le="2"}`:    {1, 4},
		`lat_bucket{job="checkout", le="5"}`:    {2},
		`lat_bucket{job="checkout", le="+Inf"}`: {3, 7, 2},
		`lat_count{job="checkout"}`:             {3, 7, 2},
		`lat_sum{job="checkout"}`:               {7, 16, 4},
	} {
		var got []float64
		for _, s := range r.find(series) {
			got = append(got, s.v)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

func deltaExp(start, end int64, scale, offset int32, counts []uint64, zero uint64) pmetric.Metrics {
	return batch(svc, func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName("elat")
		h := m.SetEmptyExponentialHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		p := h.DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(t0 + start))
		p.SetTimestamp(ts(t0 + end))
		p.SetScale(scale)
		p.Positive().SetOffset(offset)
		p.Positive().BucketCounts().FromRaw(counts)
		n := zero
		for _, c := range counts {
			n += c
		}
		p.SetZeroCount(zero)
		p.SetCount(n)
		p.SetSum(float64(n))
	})
}

func TestDeltaExponentialHistogram(t *testing.T) {
	c, _ := NewConverter(Options{})
	r := &recorder{}
	for _, md := range []pmetric.Metrics{
		deltaExp(0, 10, 2, 4, []uint64{1, 2}, 1), // scale 2: indexes 4, 5
		deltaExp(10, 20, 1, 1, []uint64{5}, 0),   // scale 1: index 1 = scale-2 indexes 2, 3
		deltaExp(20, 30, 2, 3, []uint64{1}, 2),   // scale 2 index 3 = scale-1 index 1
	} {
		if _, err := c.Convert(context.Background(), md, r); err != nil {
			t.Fatal(err)
		}
	}
	got := r.find(`elat{job="checkout"}`)
	if len(got) != 3 {
		t.Fatalf("samples = %+v", r.samples)
	}
	// After the second point the state is at scale 1: indexes 1 (5), 2 (1+2: scale-2 indexes 4 and 5).
	// After the third: index 1 gets 1 more. Prometheus indexes are OTel's + 1.
	last := got[2].h
	if last.Schema != 1 || last.Count != 12 || last.ZeroCount != 3 || last.Sum != 12 {
		t.Fatalf("last = %+v", last)
	}
	var abs []int64
	var n int64
	for _, d := range last.PositiveBuckets {
		n += d
		abs = append(abs, n)
	}
	if len(last.PositiveSpans) != 1 || last.PositiveSpans[0].Offset != 2 || !slices.Equal(abs, []int64{6, 3}) {
		t.Errorf("spans %+v buckets %v, want offset 2 buckets [6 3]", last.PositiveSpans, abs)
	}
}

func TestExpBucketsDownscaleNegativeIndexes(t *testing.T) {
	b := expBuckets{offset: -3, counts: []uint64{1, 1, 1, 1}} // indexes -3..0
	b.downscale(1)
	// -3>>1 = -2, -2>>1 = -1, -1>>1 = -1, 0>>1 = 0
	if b.offset != -2 || !slices.Equal(b.counts, []uint64{1, 2, 1}) {
		t.Errorf("downscale = %d %v, want -2 [1 2 1]", b.offset, b.counts)
	}
}

func TestAccumulatorBounds(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, _ := NewConverter(Options{Accumulator: AccumulatorOptions{MaxSeries: 2, IdleTTL: time.Minute, Now: func() time.Time { return now }}})
	mk := func(name string) pmetric.Metrics { return deltaSum(name, true, deltaPoint{0, 10, 1, false}) }
	r := &recorder{}
	for _, n := range []string{"a", "b", "c"} {
		res, _ := c.Convert(context.Background(), mk(n), r)
		if n == "c" && res.Rejected != 1 {
			t.Errorf("third series with MaxSeries 2: Rejected = %d, want 1", res.Rejected)
		}
	}
	if c.Accumulator().Len() != 2 {
		t.Errorf("state holds %d series, want 2", c.Accumulator().Len())
	}
	// Idle series are forgotten after IdleTTL; then a new series fits, and a forgotten one starts again.
	now = now.Add(2 * time.Minute)
	res, _ := c.Convert(context.Background(), mk("c"), r)
	if res.Rejected != 0 || c.Accumulator().Len() != 1 {
		t.Errorf("after the TTL: Rejected = %d, state %d series; want 0 and 1", res.Rejected, c.Accumulator().Len())
	}
}
