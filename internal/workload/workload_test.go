package workload

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const testSeed = 42

func tracesBytes(t *testing.T, td ptrace.Traces) []byte {
	t.Helper()
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeterministic(t *testing.T) {
	t.Logf("seed %d", testSeed)
	a, b, c := New(testSeed, Options{}), New(testSeed, Options{}), New(testSeed+1, Options{})
	for i := range 5 {
		ta, tb, tc := tracesBytes(t, a.NextTraces(512)), tracesBytes(t, b.NextTraces(512)), tracesBytes(t, c.NextTraces(512))
		if !bytes.Equal(ta, tb) {
			t.Fatalf("batch %d: same seed, different traces", i)
		}
		if bytes.Equal(ta, tc) {
			t.Fatalf("batch %d: different seeds, same traces", i)
		}
		la, _ := (&plog.ProtoMarshaler{}).MarshalLogs(a.NextLogs(512))
		lb, _ := (&plog.ProtoMarshaler{}).MarshalLogs(b.NextLogs(512))
		if !bytes.Equal(la, lb) {
			t.Fatalf("batch %d: same seed, different logs", i)
		}
		ma, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(a.NextMetrics(1000))
		mb, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(b.NextMetrics(1000))
		if !bytes.Equal(ma, mb) {
			t.Fatalf("batch %d: same seed, different metrics", i)
		}
	}
}

// spanKey renders a span with its resource's service so that streams can be compared whatever the batching.
func collectSpans(td ptrace.Traces, into []string) []string {
	for _, rs := range td.ResourceSpans().All() {
		svc, _ := rs.Resource().Attributes().Get("service.instance.id")
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				one := ptrace.NewTraces()
				sp.CopyTo(one.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty())
				b, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(one)
				into = append(into, svc.Str()+string(b))
			}
		}
	}
	return into
}

func TestBatchingDoesNotChangeStream(t *testing.T) {
	one := New(testSeed, Options{})
	many := New(testSeed, Options{})
	whole := collectSpans(one.NextTraces(1000), nil)
	var parts []string
	for range 10 {
		parts = collectSpans(many.NextTraces(100), parts)
	}
	if len(whole) != 1000 || len(parts) != 1000 {
		t.Fatalf("got %d and %d spans, want 1000", len(whole), len(parts))
	}
	count := map[string]int{}
	for _, s := range whole {
		count[s]++
	}
	for _, s := range parts {
		count[s]--
	}
	for _, v := range count {
		if v != 0 {
			t.Fatal("10 batches of 100 spans differ from one batch of 1000")
		}
	}
}

type flatSpan struct {
	res  pcommon.Map
	span ptrace.Span
}

func flatten(td ptrace.Traces) []flatSpan {
	var out []flatSpan
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				out = append(out, flatSpan{rs.Resource().Attributes(), sp})
			}
		}
	}
	return out
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	} else {
		t.Logf("%s = %.4f", what, got)
	}
}

func TestTraceShape(t *testing.T) {
	t.Logf("seed %d", testSeed)
	g := New(testSeed, Options{Rate: 1000})
	var spans []flatSpan
	for range 100 {
		spans = append(spans, flatten(g.NextTraces(1000))...)
	}
	byTrace := map[pcommon.TraceID][]flatSpan{}
	var order []pcommon.TraceID
	var errs, exc, events, links, attrs int
	distinct := map[string]map[string]bool{}
	resources := map[string]int{}
	for _, fs := range spans {
		sp := fs.span
		if _, ok := byTrace[sp.TraceID()]; !ok {
			order = append(order, sp.TraceID())
		}
		byTrace[sp.TraceID()] = append(byTrace[sp.TraceID()], fs)
		attrs += sp.Attributes().Len()
		for k, v := range sp.Attributes().All() {
			if distinct[k] == nil {
				distinct[k] = map[string]bool{}
			}
			distinct[k][v.AsString()] = true
		}
		id, _ := fs.res.Get("service.instance.id")
		resources[id.Str()] = fs.res.Len()
		if sp.Status().Code() == ptrace.StatusCodeError {
			errs++
		}
		for _, ev := range sp.Events().All() {
			if ev.Name() == "exception" {
				exc++
				st, _ := ev.Attributes().Get("exception.stacktrace")
				if n := strings.Count(st.Str(), "\n") + 1; n != 20 {
					t.Fatalf("stack trace has %d lines, want 20", n)
				}
			} else {
				events++
			}
		}
		links += sp.Links().Len()
	}
	n := float64(len(spans))
	within(t, "error fraction", float64(errs)/n, 0.02, 0.003)
	if exc != errs {
		t.Errorf("%d exception events for %d error spans", exc, errs)
	}
	within(t, "other event fraction", float64(events)/n, 0.05, 0.005)
	within(t, "link fraction", float64(links)/n, 0.01, 0.002)
	within(t, "attributes per span", float64(attrs)/n, 10, 1)
	if len(resources) != 100 {
		t.Errorf("%d distinct resources, want 100", len(resources))
	}
	for id, nattr := range resources {
		if nattr < 10 {
			t.Errorf("resource %s has %d attributes, want about 10", id, nattr)
		}
	}
	for key, want := range map[string][2]int{
		"http.request.method": {5, 5}, "http.route": {36, 40}, "user.id": {5000, 10000}, "db.system.name": {2, 6},
		"rpc.method": {15, 20},
	} {
		if got := len(distinct[key]); got < want[0] || got > want[1] {
			t.Errorf("%s has %d distinct values, want %d..%d", key, got, want[0], want[1])
		}
	}
	// The last trace may continue in the next batch: check complete traces only.
	order = order[:len(order)-1]
	sizes := 0
	for _, id := range order {
		tr := byTrace[id]
		sizes += len(tr)
		if len(tr) < 2 || len(tr) > 40 {
			t.Fatalf("trace %s has %d spans, want 2..40", id, len(tr))
		}
		byID := map[pcommon.SpanID]ptrace.Span{}
		services := map[string]bool{}
		roots := 0
		for _, fs := range tr {
			byID[fs.span.SpanID()] = fs.span
			svc, _ := fs.res.Get("service.name")
			services[svc.Str()] = true
		}
		for _, fs := range tr {
			sp := fs.span
			if sp.EndTimestamp() < sp.StartTimestamp() {
				t.Fatalf("span ends before it starts")
			}
			if sp.ParentSpanID().IsEmpty() {
				roots++
				if sp.Kind() != ptrace.SpanKindServer {
					t.Fatalf("root is %v, want SERVER", sp.Kind())
				}
				continue
			}
			par, ok := byID[sp.ParentSpanID()]
			if !ok {
				t.Fatalf("trace %s: parent of span %s missing", id, sp.SpanID())
			}
			if sp.StartTimestamp() < par.StartTimestamp() || sp.EndTimestamp() > par.EndTimestamp() {
				t.Fatalf("trace %s: span %s [%d,%d] outside parent [%d,%d]", id, sp.SpanID(), sp.StartTimestamp(),
					sp.EndTimestamp(), par.StartTimestamp(), par.EndTimestamp())
			}
		}
		if roots != 1 {
			t.Fatalf("trace %s has %d roots", id, roots)
		}
		if len(tr) >= 3 && (len(services) < 2 || len(services) > 5) {
			t.Fatalf("trace %s of %d spans spans %d services, want 2..5", id, len(tr), len(services))
		}
	}
	within(t, "spans per trace", float64(sizes)/float64(len(order)), 10, 1)
	// 100,000 spans at 1,000 spans/s cover about 100 s.
	first, last := spans[0].span.StartTimestamp(), spans[len(spans)-1].span.StartTimestamp()
	within(t, "seconds covered", float64(last-first)/1e9, 100, 2)
}

func TestLogShape(t *testing.T) {
	t.Logf("seed %d", testSeed)
	g := New(testSeed, Options{})
	sev := map[string]int{}
	var kv, withTrace, attrs, strBodies, bodyBytes, total int
	refs := map[[24]byte]bool{}
	for range 40 {
		ld := g.NextLogs(512)
		if ld.LogRecordCount() != 512 {
			t.Fatalf("got %d records, want 512", ld.LogRecordCount())
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					total++
					sev[lr.SeverityText()]++
					attrs += lr.Attributes().Len()
					if lr.Body().Type() == pcommon.ValueTypeMap {
						kv++
					} else {
						strBodies++
						bodyBytes += len(lr.Body().Str())
					}
					if !lr.TraceID().IsEmpty() {
						withTrace++
						var k [24]byte
						tid, sid := lr.TraceID(), lr.SpanID()
						copy(k[:16], tid[:])
						copy(k[16:], sid[:])
						refs[k] = true
					}
				}
			}
		}
	}
	n := float64(total)
	for text, want := range map[string]float64{"INFO": 0.60, "DEBUG": 0.20, "WARN": 0.12, "ERROR": 0.07, "FATAL": 0.01} {
		within(t, text+" fraction", float64(sev[text])/n, want, 0.015)
	}
	within(t, "map body fraction", float64(kv)/n, 0.10, 0.015)
	within(t, "with trace fraction", float64(withTrace)/n, 0.50, 0.02)
	within(t, "attributes per log", float64(attrs)/n, 8, 0.5)
	within(t, "string body bytes", float64(bodyBytes)/float64(strBodies), 100, 12)
	// Every referenced span is one the trace stream of the same seed produces.
	seen := 0
	tg := New(testSeed, Options{})
	for range 30 {
		for _, fs := range flatten(tg.NextTraces(1000)) {
			var k [24]byte
			tid, sid := fs.span.TraceID(), fs.span.SpanID()
			copy(k[:16], tid[:])
			copy(k[16:], sid[:])
			if refs[k] {
				seen++
			}
		}
	}
	if seen != len(refs) {
		t.Errorf("%d of %d spans referenced by logs found in the trace stream", seen, len(refs))
	}
}

func TestMetricShape(t *testing.T) {
	g := New(testSeed, Options{})
	type point struct {
		ts    pcommon.Timestamp
		value float64
	}
	first := map[string]point{}
	for batch := range 2 * Resources {
		md := g.NextMetrics(1000)
		if md.DataPointCount() != 1000 || md.ResourceMetrics().Len() != 1 {
			t.Fatalf("batch %d: %d points in %d resources, want 1000 in 1", batch, md.DataPointCount(), md.ResourceMetrics().Len())
		}
		rm := md.ResourceMetrics().At(0)
		id, _ := rm.Resource().Attributes().Get("service.instance.id")
		series := map[string]bool{}
		kinds := map[pmetric.MetricType]int{}
		for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
			kinds[m.Type()]++
			add := func(attrs pcommon.Map, ts pcommon.Timestamp, v float64) {
				key := id.Str() + m.Name() + attrString(attrs)
				if series[key] {
					t.Fatalf("batch %d: series %s twice", batch, key)
				}
				series[key] = true
				if batch < Resources {
					first[key] = point{ts, v}
					return
				}
				p, ok := first[key]
				if !ok {
					t.Fatalf("batch %d: series %s not in the first interval", batch, key)
				}
				if ts-p.ts != pcommon.Timestamp(MetricInterval) {
					t.Fatalf("series %s: timestamps %d then %d, want 10 s apart", key, p.ts, ts)
				}
				if v < p.value {
					t.Fatalf("series %s: cumulative value went down from %v to %v", key, p.value, v)
				}
			}
			switch m.Type() {
			case pmetric.MetricTypeSum:
				if !m.Sum().IsMonotonic() || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
					t.Fatal("counter is not cumulative monotonic")
				}
				for _, dp := range m.Sum().DataPoints().All() {
					add(dp.Attributes(), dp.Timestamp(), dp.DoubleValue())
				}
			case pmetric.MetricTypeGauge:
				for _, dp := range m.Gauge().DataPoints().All() {
					add(dp.Attributes(), dp.Timestamp(), math.Inf(1)*float64(batch/Resources))
				}
			case pmetric.MetricTypeHistogram:
				for _, dp := range m.Histogram().DataPoints().All() {
					if !slicesEqual(dp.ExplicitBounds().AsRaw(), DefaultHistogramBounds) {
						t.Fatalf("histogram bounds %v", dp.ExplicitBounds().AsRaw())
					}
					if dp.BucketCounts().Len() != 16 || total(dp.BucketCounts().AsRaw()) != dp.Count() {
						t.Fatal("histogram bucket counts do not add up to count")
					}
					add(dp.Attributes(), dp.Timestamp(), float64(dp.Count()))
				}
			case pmetric.MetricTypeExponentialHistogram:
				for _, dp := range m.ExponentialHistogram().DataPoints().All() {
					if total(dp.Positive().BucketCounts().AsRaw()) != dp.Count() {
						t.Fatal("exponential histogram bucket counts do not add up to count")
					}
					add(dp.Attributes(), dp.Timestamp(), float64(dp.Count()))
				}
			}
		}
		if len(series) != SeriesPerResource {
			t.Fatalf("batch %d: %d series, want %d", batch, len(series), SeriesPerResource)
		}
		if len(kinds) != 4 {
			t.Fatalf("batch %d: metric types %v, want all four", batch, kinds)
		}
	}
	if len(first) != Resources*SeriesPerResource {
		t.Fatalf("%d series in total, want %d", len(first), Resources*SeriesPerResource)
	}
}

func attrString(m pcommon.Map) string {
	var b strings.Builder
	for k, v := range m.All() {
		b.WriteString(k + "=" + v.AsString() + ",")
	}
	return b.String()
}

func slicesEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
