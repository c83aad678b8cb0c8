package spanmetrics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// spanSpec is a span to generate: service, name, kind, status and duration.
type spanSpec struct {
	svc, name string
	kind      ptrace.SpanKind
	status    ptrace.StatusCode
	dur       time.Duration
	id        byte
}

func traces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		if s.svc != "" {
			rs.Resource().Attributes().PutStr("service.name", s.svc)
		}
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		sp.Status().SetCode(s.status)
		start := pcommon.Timestamp(1_700_000_000_000_000_000)
		sp.SetStartTimestamp(start)
		sp.SetEndTimestamp(start + pcommon.Timestamp(s.dur))
		sp.SetTraceID(pcommon.TraceID{s.id, 1})
		sp.SetSpanID(pcommon.SpanID{s.id, 2})
	}
	return td
}

// point finds the data point of metric name whose attributes are attrs (string values).
func point(t *testing.T, md pmetric.Metrics, name string, attrs map[string]string) (pmetric.NumberDataPoint, pmetric.HistogramDataPoint, bool) {
	t.Helper()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Name() != name {
					continue
				}
				match := func(a pcommon.Map) bool {
					if a.Len() != len(attrs) {
						return false
					}
					for k, v := range attrs {
						got, ok := a.Get(k)
						if !ok || got.AsString() != v {
							return false
						}
					}
					return true
				}
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for _, p := range m.Sum().DataPoints().All() {
						if match(p.Attributes()) {
							return p, pmetric.NewHistogramDataPoint(), true
						}
					}
				case pmetric.MetricTypeHistogram:
					for _, p := range m.Histogram().DataPoints().All() {
						if match(p.Attributes()) {
							return pmetric.NewNumberDataPoint(), p, true
						}
					}
				}
			}
		}
	}
	return pmetric.NewNumberDataPoint(), pmetric.NewHistogramDataPoint(), false
}

func key4(svc, name, kind, status string) map[string]string {
	return map[string]string{"service.name": svc, "span.name": name, "span.kind": kind, "status.code": status}
}

func TestCountsAndHistogram(t *testing.T) {
	clk := &clock{time.Unix(1_700_000_100, 0)}
	g := New(nil, Options{Now: clk.now, Buckets: []float64{10, 100}})
	_ = g.ConsumeTraces(context.Background(), traces(
		spanSpec{"cart", "GET /cart", ptrace.SpanKindServer, ptrace.StatusCodeUnset, 5 * time.Millisecond, 1},
		spanSpec{"cart", "GET /cart", ptrace.SpanKindServer, ptrace.StatusCodeUnset, 10 * time.Millisecond, 2}, // on the bound: le=10
		spanSpec{"cart", "GET /cart", ptrace.SpanKindServer, ptrace.StatusCodeUnset, 50 * time.Millisecond, 3},
		spanSpec{"cart", "GET /cart", ptrace.SpanKindServer, ptrace.StatusCodeUnset, 2 * time.Second, 4},
		spanSpec{"cart", "GET /cart", ptrace.SpanKindServer, ptrace.StatusCodeError, 7 * time.Millisecond, 5},
		spanSpec{"", "orphan", ptrace.SpanKindInternal, ptrace.StatusCodeOk, 0, 6},
	))
	clk.t = clk.t.Add(15 * time.Second)
	md := g.Collect()

	ok := key4("cart", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")
	calls, _, found := point(t, md, CallsMetric, ok)
	if !found || calls.IntValue() != 4 {
		t.Fatalf("calls of %v: found %v value %d, want 4", ok, found, calls.IntValue())
	}
	if !calls.StartTimestamp().AsTime().Equal(time.Unix(1_700_000_100, 0)) || !calls.Timestamp().AsTime().Equal(clk.t) {
		t.Errorf("calls timestamps start %v time %v", calls.StartTimestamp().AsTime(), calls.Timestamp().AsTime())
	}
	_, h, found := point(t, md, DurationMetric, ok)
	if !found || h.Count() != 4 || h.Sum() != 5+10+50+2000 {
		t.Fatalf("histogram: found %v count %d sum %v", found, h.Count(), h.Sum())
	}
	if got := fmt.Sprint(h.BucketCounts().AsRaw(), h.ExplicitBounds().AsRaw()); got != "[2 1 1] [10 100]" {
		t.Errorf("buckets %s, want [2 1 1] [10 100]", got)
	}
	if h.Exemplars().Len() != 1 || h.Exemplars().At(0).DoubleValue() != 2000 || h.Exemplars().At(0).TraceID() != (pcommon.TraceID{4, 1}) {
		t.Errorf("exemplar: want the slowest span (2000 ms, trace 04...)")
	}
	if calls, _, found := point(t, md, CallsMetric, key4("cart", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR")); !found || calls.IntValue() != 1 {
		t.Errorf("error calls: found %v value %d, want 1", found, calls.IntValue())
	}
	if calls, _, found := point(t, md, CallsMetric, key4("unknown_service", "orphan", "SPAN_KIND_INTERNAL", "STATUS_CODE_OK")); !found || calls.IntValue() != 1 {
		t.Errorf("span without service.name: found %v value %d", found, calls.IntValue())
	}
	for _, rm := range md.ResourceMetrics().All() {
		if v, _ := rm.Resource().Attributes().Get("service.name"); v.Str() == "" {
			t.Error("a resource without service.name")
		}
	}

	// Cumulative: the next write adds to the counts; the exemplar is per interval.
	_ = g.ConsumeTraces(context.Background(), traces(spanSpec{"cart", "GET /cart", ptrace.SpanKindServer, ptrace.StatusCodeUnset, time.Millisecond, 7}))
	clk.t = clk.t.Add(15 * time.Second)
	md = g.Collect()
	_, h, _ = point(t, md, DurationMetric, ok)
	if h.Count() != 5 || h.BucketCounts().At(0) != 3 || h.Exemplars().Len() != 1 || h.Exemplars().At(0).DoubleValue() != 1 {
		t.Errorf("second write: count %d, first bucket %d, exemplars %d", h.Count(), h.BucketCounts().At(0), h.Exemplars().Len())
	}
	if _, h, _ := point(t, md, DurationMetric, key4("cart", "GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR")); h.Exemplars().Len() != 0 {
		t.Error("an exemplar repeated in an interval without spans")
	}
}

func TestOverflowAndIdle(t *testing.T) {
	clk := &clock{time.Unix(1_700_000_000, 0)}
	g := New(nil, Options{Now: clk.now, MaxSeries: 3, IdleTTL: time.Minute})
	for i := range 10 {
		_ = g.ConsumeTraces(context.Background(), traces(spanSpec{"api", fmt.Sprintf("GET /item/%d", i), ptrace.SpanKindServer, 0, time.Millisecond, byte(i)}))
	}
	if g.Series() != 4 || g.OverflowSpans() != 7 {
		t.Fatalf("series %d overflow %d, want 3 keys + 1 overflow series and 7 overflow spans", g.Series(), g.OverflowSpans())
	}
	md := g.Collect()
	calls, _, found := point(t, md, CallsMetric, map[string]string{"service.name": "api", "otel.metric.overflow": "true"})
	if !found || calls.IntValue() != 7 {
		t.Errorf("overflow series: found %v value %d, want 7", found, calls.IntValue())
	}

	// Keys idle past the TTL go; active ones stay.
	clk.t = clk.t.Add(50 * time.Second)
	_ = g.ConsumeTraces(context.Background(), traces(spanSpec{"api", "GET /item/0", ptrace.SpanKindServer, 0, time.Millisecond, 1}))
	clk.t = clk.t.Add(30 * time.Second)
	md = g.Collect()
	if g.Series() != 1 || md.DataPointCount() != 2 {
		t.Errorf("after idle: %d series, %d points; want the one active key (calls + histogram)", g.Series(), md.DataPointCount())
	}
}

type recorder struct{ got chan pmetric.Metrics }

func (r recorder) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	r.got <- md
	return nil
}

func TestRunWritesAndFlushesOnStop(t *testing.T) {
	rec := recorder{make(chan pmetric.Metrics, 100)}
	g := New(rec, Options{Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	_ = g.ConsumeTraces(context.Background(), traces(spanSpec{"a", "x", ptrace.SpanKindClient, 0, time.Millisecond, 1}))
	select {
	case md := <-rec.got:
		if md.DataPointCount() != 2 {
			t.Errorf("%d points, want 2", md.DataPointCount())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing written")
	}
	cancel()
	<-done
	// The last write happens on stop.
	last := pmetric.NewMetrics()
	for len(rec.got) > 0 {
		last = <-rec.got
	}
	if last.DataPointCount() != 2 {
		t.Errorf("write on stop: %d points, want 2", last.DataPointCount())
	}
}

func BenchmarkConsumeTraces(b *testing.B) {
	specs := make([]spanSpec, 512)
	for i := range specs {
		specs[i] = spanSpec{fmt.Sprint("svc", i%20), fmt.Sprint("op", i%60), ptrace.SpanKind(i % 5), ptrace.StatusCode(i % 3), time.Duration(i) * time.Millisecond, byte(i)}
	}
	td := traces(specs...)
	g := New(nil, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = g.ConsumeTraces(context.Background(), td)
	}
	b.ReportMetric(float64(b.N*len(specs))/b.Elapsed().Seconds(), "spans/s")
}
