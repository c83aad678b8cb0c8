package ui

import (
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// metrics returns a request counter and a request-duration histogram for three routes of the frontend,
// one cumulative point every 30 s over the last 30 minutes, with exemplars pointing at stored traces.
func (f *fixture) metrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	resourceFor(rm.Resource(), "frontend")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("otlpd.fixture/metrics")
	counter := sm.Metrics().AppendEmpty()
	counter.SetName("app.requests")
	counter.SetUnit("1")
	sum := counter.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hist := sm.Metrics().AppendEmpty()
	hist.SetName("app.request.duration")
	hist.SetUnit("s")
	hh := hist.SetEmptyHistogram()
	hh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}
	start := f.now.Add(-30 * time.Minute)
	for ri, route := range []string{"/", "/cart", "/checkout"} {
		total := 0.0
		buckets := make([]uint64, len(bounds)+1)
		var count uint64
		var hsum float64
		for i := 0; i <= 60; i++ {
			at := start.Add(time.Duration(i) * 30 * time.Second)
			rate := 20 + 8*math.Sin(float64(i)/6+float64(ri)) + float64(ri*10)
			total += rate * 30
			dp := sum.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
			dp.SetDoubleValue(total)
			dp.Attributes().PutStr("http.route", route)
			n := uint64(rate * 30)
			for k := uint64(0); k < n; k++ {
				d := 0.004 * math.Exp(float64((k*7+uint64(i)*3+uint64(ri))%40)/8)
				b := len(bounds)
				for j, ub := range bounds {
					if d <= ub {
						b = j
						break
					}
				}
				buckets[b]++
				hsum += d
			}
			count += n
			hp := hh.DataPoints().AppendEmpty()
			hp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			hp.SetTimestamp(pcommon.NewTimestampFromTime(at))
			hp.Attributes().PutStr("http.route", route)
			hp.ExplicitBounds().FromRaw(bounds)
			hp.BucketCounts().FromRaw(buckets)
			hp.SetCount(count)
			hp.SetSum(hsum)
			if i%10 == 5 { // an exemplar pointing at a stored trace
				tr := f.traces[f.order[(i/10+ri*7)%len(f.order)]][0]
				ex := hp.Exemplars().AppendEmpty()
				ex.SetTimestamp(pcommon.NewTimestampFromTime(at.Add(-time.Second)))
				ex.SetDoubleValue(tr.end.Sub(tr.start).Seconds())
				ex.SetTraceID(pcommon.TraceID(tr.traceID))
				ex.SetSpanID(pcommon.SpanID(tr.spanID[:8]))
			}
		}
	}
	return md
}
