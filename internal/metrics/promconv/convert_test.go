package promconv

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// sample is one appended Prometheus sample, in a form easy to compare.
type sample struct {
	series string // labels in Prometheus text form
	t      int64
	v      float64
	h      *histogram.Histogram
	typ    string
	ex     []string // exemplars as "labels value"
}

type recorder struct {
	samples []sample
	refuse  func(ls labels.Labels) bool
}

func (r *recorder) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, _ *histogram.FloatHistogram, o storage.AppendV2Options) (storage.SeriesRef, error) {
	if r.refuse != nil && r.refuse(ls) {
		return 0, &SampleError{Reason: "refused by test"}
	}
	s := sample{series: seriesString(ls), t: t, v: v, typ: string(o.Metadata.Type)}
	if h != nil {
		s.h = h.Copy()
	}
	for _, e := range o.Exemplars {
		s.ex = append(s.ex, fmt.Sprintf("%s %g", e.Labels.String(), e.Value))
	}
	r.samples = append(r.samples, s)
	return 1, nil
}
func (r *recorder) Commit() error   { return nil }
func (r *recorder) Rollback() error { return nil }

// find returns the samples of the series whose text form is series.
func (r *recorder) find(series string) []sample {
	var out []sample
	for _, s := range r.samples {
		if s.series == series {
			out = append(out, s)
		}
	}
	return out
}

func (r *recorder) names() []string {
	var out []string
	for _, s := range r.samples {
		ls, _ := parseName(s.series)
		if !slices.Contains(out, ls) {
			out = append(out, ls)
		}
	}
	sort.Strings(out)
	return out
}

func parseName(series string) (string, bool) {
	i := strings.IndexByte(series, '{')
	if i < 0 {
		return series, true
	}
	return series[:i], true
}

// seriesString writes ls as name{labels}, the name unquoted even when it is not a legacy name.
func seriesString(ls labels.Labels) string {
	name := ls.Get(labels.MetricName)
	rest := ls.DropMetricName().String()
	if rest == "{}" {
		return name
	}
	return name + rest
}

const t0 = 1_700_000_000_000 // ms

func ts(ms int64) pcommon.Timestamp { return pcommon.Timestamp(ms * 1e6) }

// batch builds a one-resource, one-scope batch; res holds resource attributes.
func batch(res map[string]any, fill func(ms pmetric.MetricSlice)) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	_ = rm.Resource().Attributes().FromRaw(res)
	sm := rm.ScopeMetrics().AppendEmpty()
	fill(sm.Metrics())
	return md
}

var svc = map[string]any{"service.name": "checkout"}

func gauge(name, unit string, v float64, attrs map[string]any) func(pmetric.MetricSlice) {
	return func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		p := m.SetEmptyGauge().DataPoints().AppendEmpty()
		p.SetTimestamp(ts(t0))
		p.SetDoubleValue(v)
		_ = p.Attributes().FromRaw(attrs)
	}
}

func sum(name, unit string, monotonic bool, temp pmetric.AggregationTemporality, v float64) func(pmetric.MetricSlice) {
	return func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		s := m.SetEmptySum()
		s.SetIsMonotonic(monotonic)
		s.SetAggregationTemporality(temp)
		p := s.DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(t0 - 10_000))
		p.SetTimestamp(ts(t0))
		p.SetDoubleValue(v)
	}
}

func convert(t *testing.T, opts Options, md pmetric.Metrics) (*recorder, Result) {
	t.Helper()
	c, err := NewConverter(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	res, err := c.Convert(context.Background(), md, r)
	if err != nil {
		t.Fatal(err)
	}
	return r, res
}

func TestMetricNames(t *testing.T) {
	cum, delta := pmetric.AggregationTemporalityCumulative, pmetric.AggregationTemporalityDelta
	_ = delta
	f := func(name string, fill func(pmetric.MetricSlice), want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			r, _ := convert(t, Options{}, batch(svc, fill))
			got := r.names()
			want = append(want[:len(want):len(want)], "target_info")
			sort.Strings(want)
			if !slices.Equal(got, want) && !(len(r.samples) > 0 && slices.Equal(got, without(want, "target_info"))) {
				t.Errorf("names = %q, want %q", got, want)
			}
		})
	}
	// Characters outside [a-zA-Z0-9_:] become "_", runs collapse, a leading digit gets "_".
	f("dots", gauge("system.cpu.load", "", 1, nil), "system_cpu_load")
	f("runs collapse", gauge("foo..bar!!baz", "", 1, nil), "foo_bar_baz")
	f("colon kept", gauge("ns:foo", "", 1, nil), "ns:foo")
	f("leading digit", gauge("2xx.count", "", 1, nil), "_2xx_count")
	// Units.
	f("seconds", gauge("process.uptime", "s", 1, nil), "process_uptime_seconds")
	f("milliseconds", gauge("latency", "ms", 1, nil), "latency_milliseconds")
	f("minutes", gauge("age", "min", 1, nil), "age_minutes")
	f("bytes", gauge("heap", "By", 1, nil), "heap_bytes")
	f("kibibytes", gauge("heap", "KiBy", 1, nil), "heap_kibibytes")
	f("celsius", gauge("temp", "Cel", 1, nil), "temp_celsius")
	f("percent", gauge("cpu", "%", 1, nil), "cpu_percent")
	f("hertz", gauge("freq", "Hz", 1, nil), "freq_hertz")
	f("annotation dropped", gauge("queue.length", "{request}", 1, nil), "queue_length")
	f("per unit", gauge("speed", "m/s", 1, nil), "speed_meters_per_second")
	f("bytes per second", gauge("throughput", "By/s", 1, nil), "throughput_bytes_per_second")
	f("per hour", gauge("jobs", "{job}/h", 1, nil), "jobs_per_hour")
	f("unit already in name", gauge("process.cpu.time.seconds", "s", 1, nil), "process_cpu_time_seconds")
	// Unit "1": _ratio only for gauges.
	f("ratio gauge", gauge("cpu.utilization", "1", 0.5, nil), "cpu_utilization_ratio")
	f("ratio not on counters", sum("cpu.busy", "1", true, cum, 3), "cpu_busy_total")
	// Sums.
	f("counter total", sum("http.requests", "", true, cum, 3), "http_requests_total")
	f("no duplicate total", sum("http.requests.total", "", true, cum, 3), "http_requests_total")
	f("unit before total", sum("process.cpu.time", "s", true, cum, 3), "process_cpu_time_seconds_total")
	f("non-monotonic is a gauge", sum("queue.items", "{item}", false, cum, 3), "queue_items")
	f("histogram", histogramMetric("http.server.request.duration", "s", cum), "http_server_request_duration_seconds_bucket",
		"http_server_request_duration_seconds_count", "http_server_request_duration_seconds_sum")
}

func without(s []string, x string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(y string) bool { return y == x })
}

func TestUnconvertibleNameIsRejected(t *testing.T) {
	r, res := convert(t, Options{}, batch(svc, func(ms pmetric.MetricSlice) {
		gauge("...", "", 1, nil)(ms)
		gauge("ok", "", 2, nil)(ms)
	}))
	if res.Rejected != 1 {
		t.Errorf("Rejected = %d, want 1 (%v)", res.Rejected, res.Reasons)
	}
	if len(r.find(`ok{job="checkout"}`)) != 1 {
		t.Errorf("the valid metric of the batch was not stored: %v", r.names())
	}
}

func TestTypesAndMetadata(t *testing.T) {
	cum := pmetric.AggregationTemporalityCumulative
	r, _ := convert(t, Options{}, batch(svc, func(ms pmetric.MetricSlice) {
		sum("reqs", "", true, cum, 7)(ms)
		sum("inflight", "", false, cum, -2)(ms)
		gauge("temp", "", 21.5, nil)(ms)
	}))
	for series, want := range map[string]sample{
		`reqs_total{job="checkout"}`: {v: 7, typ: "counter"},
		`inflight{job="checkout"}`:   {v: -2, typ: "gauge"},
		`temp{job="checkout"}`:       {v: 21.5, typ: "gauge"},
	} {
		got := r.find(series)
		if len(got) != 1 || got[0].v != want.v || got[0].typ != want.typ || got[0].t != t0 {
			t.Errorf("%s = %+v, want value %g type %s at %d", series, got, want.v, want.typ, int64(t0))
		}
	}
}

func TestLabels(t *testing.T) {
	f := func(name string, attrs map[string]any, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			r, _ := convert(t, Options{}, batch(svc, gauge("g", "", 1, attrs)))
			if got := r.find(want); len(got) != 1 {
				var all []string
				for _, s := range r.samples {
					all = append(all, s.series)
				}
				t.Errorf("no series %s; got %q", want, all)
			}
		})
	}
	f("invalid characters", map[string]any{"http.request.method": "GET"}, `g{http_request_method="GET", job="checkout"}`)
	f("leading digit", map[string]any{"2xx": "y"}, `g{job="checkout", key_2xx="y"}`)
	f("leading single underscore", map[string]any{"_tmp": "y"}, `g{job="checkout", key_tmp="y"}`)
	f("invalid runs are not collapsed in labels", map[string]any{"a..b": "y"}, `g{a__b="y", job="checkout"}`)
	f("double underscore kept", map[string]any{"__tmp": "y"}, `g{__tmp="y", job="checkout"}`)
	f("collision joined in key order", map[string]any{"a_b": "second", "a.b": "first"}, `g{a_b="first;second", job="checkout"}`)
	f("int stringified", map[string]any{"code": 200}, `g{code="200", job="checkout"}`)
	f("bool stringified", map[string]any{"ok": true}, `g{job="checkout", ok="true"}`)
	f("double stringified", map[string]any{"ratio": 0.25}, `g{job="checkout", ratio="0.25"}`)
	f("slice stringified", map[string]any{"list": []any{"a", 1}}, `g{job="checkout", list="[\"a\",1]"}`)
}

func TestJobInstanceAndTargetInfo(t *testing.T) {
	f := func(name string, res map[string]any, series string, targetInfo string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			r, _ := convert(t, Options{}, batch(res, gauge("g", "", 1, nil)))
			if len(r.find(series)) != 1 {
				t.Errorf("no series %s; got %v", series, r.samples)
			}
			var ti []sample
			for _, s := range r.samples {
				if strings.HasPrefix(s.series, "target_info") {
					ti = append(ti, s)
				}
			}
			if targetInfo == "" {
				if len(ti) != 0 {
					t.Errorf("target_info = %v, want none", ti)
				}
				return
			}
			if len(ti) == 0 || ti[0].series != targetInfo || ti[0].v != 1 || ti[0].typ != "gauge" {
				t.Errorf("target_info = %+v, want %s = 1", ti, targetInfo)
			}
		})
	}
	f("namespace/name and instance", map[string]any{
		"service.namespace": "shop", "service.name": "cart", "service.instance.id": "i-1", "host.name": "h1",
	}, `g{instance="i-1", job="shop/cart"}`, `target_info{host_name="h1", instance="i-1", job="shop/cart"}`)
	f("name only", map[string]any{"service.name": "cart", "host.name": "h1"},
		`g{job="cart"}`, `target_info{host_name="h1", job="cart"}`)
	f("only identifying attributes: no target_info", map[string]any{"service.name": "cart", "service.instance.id": "i-1"},
		`g{instance="i-1", job="cart"}`, "")
	f("no job nor instance: no target_info", map[string]any{"host.name": "h1"}, `g`, "")
}

func TestPromoteResourceAttributes(t *testing.T) {
	r, _ := convert(t, Options{PromoteResourceAttributes: []string{"k8s.namespace.name"}},
		batch(map[string]any{"service.name": "cart", "k8s.namespace.name": "prod", "host.name": "h"}, gauge("g", "", 1, nil)))
	if len(r.find(`g{job="cart", k8s_namespace_name="prod"}`)) != 1 {
		t.Errorf("promoted attribute missing: %v", r.samples)
	}
}

func TestScopeLabels(t *testing.T) {
	md := batch(svc, gauge("g", "", 1, nil))
	sm := md.ResourceMetrics().At(0).ScopeMetrics().At(0)
	sm.Scope().SetName("io.otlpd.test")
	sm.Scope().SetVersion("1.2.3")
	sm.SetSchemaUrl("https://opentelemetry.io/schemas/1.30.0")
	sm.Scope().Attributes().PutStr("library.mode", "fast")
	r, _ := convert(t, Options{}, md)
	want := `g{job="checkout", otel_scope_library_mode="fast", otel_scope_name="io.otlpd.test", otel_scope_schema_url="https://opentelemetry.io/schemas/1.30.0", otel_scope_version="1.2.3"}`
	if len(r.find(want)) != 1 {
		t.Errorf("no series %s; got %v", want, r.samples)
	}
}

func withExemplar(e pmetric.ExemplarSlice, v float64) {
	x := e.AppendEmpty()
	x.SetTimestamp(ts(t0 - 500))
	x.SetDoubleValue(v)
	x.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	x.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	x.FilteredAttributes().PutStr("user", "u1")
}

func TestExemplars(t *testing.T) {
	cum := pmetric.AggregationTemporalityCumulative
	md := batch(svc, func(ms pmetric.MetricSlice) {
		sum("reqs", "", true, cum, 7)(ms)
		withExemplar(ms.At(0).Sum().DataPoints().At(0).Exemplars(), 1)
		sum("inflight", "", false, cum, 3)(ms)
		withExemplar(ms.At(1).Sum().DataPoints().At(0).Exemplars(), 1)
		gauge("temp", "", 3, nil)(ms)
		withExemplar(ms.At(2).Gauge().DataPoints().At(0).Exemplars(), 1)
		histogramMetric("lat", "s", cum)(ms)
		withExemplar(ms.At(3).Histogram().DataPoints().At(0).Exemplars(), 0.3)
		expHistogramMetric("elat", "s", cum, 3, []uint64{1, 2})(ms)
		withExemplar(ms.At(4).ExponentialHistogram().DataPoints().At(0).Exemplars(), 1.1)
	})
	r, _ := convert(t, Options{}, md)
	const ex = `{span_id="0102030405060708", trace_id="0102030405060708090a0b0c0d0e0f10", user="u1"}`
	f := func(series string, want []string) {
		t.Helper()
		got := r.find(series)
		if len(got) != 1 || !slices.Equal(got[0].ex, want) {
			t.Errorf("%s exemplars = %+v, want %q", series, got, want)
		}
	}
	f(`reqs_total{job="checkout"}`, []string{ex + " 1"})
	f(`inflight{job="checkout"}`, nil)
	f(`temp{job="checkout"}`, nil)
	// A classic histogram puts the exemplar on the bucket that holds its value.
	f(`lat_seconds_bucket{job="checkout", le="0.5"}`, []string{ex + " 0.3"})
	f(`lat_seconds_bucket{job="checkout", le="0.1"}`, nil)
	f(`elat_seconds{job="checkout"}`, []string{ex + " 1.1"})
}

// histogramMetric has bounds 0.1, 0.5, 1 and counts 1, 2, 3, 4 (10 in all, sum 12.5).
func histogramMetric(name, unit string, temp pmetric.AggregationTemporality) func(pmetric.MetricSlice) {
	return func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(temp)
		p := h.DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(t0 - 10_000))
		p.SetTimestamp(ts(t0))
		p.ExplicitBounds().FromRaw([]float64{0.1, 0.5, 1})
		p.BucketCounts().FromRaw([]uint64{1, 2, 3, 4})
		p.SetCount(10)
		p.SetSum(12.5)
		p.SetMin(0.01)
		p.SetMax(4)
	}
}

func TestClassicHistogram(t *testing.T) {
	r, _ := convert(t, Options{}, batch(svc, histogramMetric("lat", "s", pmetric.AggregationTemporalityCumulative)))
	for series, v := range map[string]float64{
		`lat_seconds_bucket{job="checkout", le="0.1"}`:  1,
		`lat_seconds_bucket{job="checkout", le="0.5"}`:  3, // cumulative counts
		`lat_seconds_bucket{job="checkout", le="1"}`:    6,
		`lat_seconds_bucket{job="checkout", le="+Inf"}`: 10,
		`lat_seconds_count{job="checkout"}`:             10,
		`lat_seconds_sum{job="checkout"}`:               12.5,
	} {
		if got := r.find(series); len(got) != 1 || got[0].v != v {
			t.Errorf("%s = %+v, want %g", series, got, v)
		}
	}
}

func expHistogramMetric(name, unit string, temp pmetric.AggregationTemporality, scale int32, pos []uint64) func(pmetric.MetricSlice) {
	return func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		h := m.SetEmptyExponentialHistogram()
		h.SetAggregationTemporality(temp)
		p := h.DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(t0 - 10_000))
		p.SetTimestamp(ts(t0))
		p.SetScale(scale)
		p.Positive().SetOffset(-1)
		p.Positive().BucketCounts().FromRaw(pos)
		var n uint64
		for _, c := range pos {
			n += c
		}
		p.SetZeroCount(2)
		p.SetZeroThreshold(1e-9)
		p.SetCount(n + 2)
		p.SetSum(5)
		p.SetMin(0)
		p.SetMax(3)
	}
}

func TestExponentialHistogram(t *testing.T) {
	cum := pmetric.AggregationTemporalityCumulative
	f := func(name string, scale int32, pos []uint64, wantSchema int32, wantOffset int32, wantBuckets []int64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			r, _ := convert(t, Options{}, batch(svc, expHistogramMetric("lat", "s", cum, scale, pos)))
			got := r.find(`lat_seconds{job="checkout"}`)
			if len(got) != 1 || got[0].h == nil {
				t.Fatalf("native histogram missing: %+v", r.samples)
			}
			h := got[0].h
			if h.Schema != wantSchema {
				t.Errorf("schema = %d, want %d", h.Schema, wantSchema)
			}
			if len(h.PositiveSpans) == 0 || h.PositiveSpans[0].Offset != wantOffset {
				t.Errorf("spans = %+v, want first offset %d", h.PositiveSpans, wantOffset)
			}
			// Buckets are delta-encoded in a native histogram; decode to absolute counts.
			var abs []int64
			var c int64
			for _, d := range h.PositiveBuckets {
				c += d
				abs = append(abs, c)
			}
			if !slices.Equal(abs, wantBuckets) {
				t.Errorf("buckets = %v, want %v", abs, wantBuckets)
			}
			var n uint64
			for _, b := range pos {
				n += b
			}
			// The point's own zero threshold and zero count are kept.
			if h.Count != n+2 || h.ZeroCount != 2 || h.Sum != 5 || h.ZeroThreshold != 1e-9 {
				t.Errorf("count %d zero %d sum %g threshold %g, want %d 2 5 1e-9", h.Count, h.ZeroCount, h.Sum, h.ZeroThreshold, n+2)
			}
		})
	}
	// OTel bucket index i covers (base^i, base^(i+1)]; Prometheus index i covers (base^(i-1), base^i], so the
	// offset grows by one: OTel offset -1 becomes Prometheus offset 0.
	f("scale kept", 3, []uint64{1, 2, 3}, 3, 0, []int64{1, 2, 3})
	f("negative scale kept", -2, []uint64{4}, -2, 0, []int64{4})
	// Scale 9 is above Prometheus's maximum 8: pairs of buckets merge. OTel indexes -1,0,1,2 at scale 9 become
	// -1,0,0,1 at scale 8, Prometheus indexes 0,1,2.
	f("scale 9 downscaled to 8", 9, []uint64{1, 2, 3, 4}, 8, 0, []int64{1, 5, 4})
	// At scale 10, OTel indexes -1..3 shift right by 2: -1 stays -1, 0..3 become 0.
	f("scale 10 downscaled to 8", 10, []uint64{1, 2, 3, 4, 5}, 8, 0, []int64{1, 14})
}

func TestExponentialHistogramDefaultZeroThreshold(t *testing.T) {
	md := batch(svc, expHistogramMetric("lat", "s", pmetric.AggregationTemporalityCumulative, 2, []uint64{1}))
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).ExponentialHistogram().DataPoints().At(0).SetZeroThreshold(0)
	r, _ := convert(t, Options{}, md)
	got := r.find(`lat_seconds{job="checkout"}`)
	if len(got) != 1 || got[0].h.ZeroThreshold != 1e-128 {
		t.Errorf("zero threshold = %+v, want 1e-128", got)
	}
}

// TestExponentialHistogramZeroThresholdPerPoint checks that each point keeps its own zero threshold when a
// batch holds several.
func TestExponentialHistogramZeroThresholdPerPoint(t *testing.T) {
	md := batch(svc, func(ms pmetric.MetricSlice) {
		expHistogramMetric("lat", "s", pmetric.AggregationTemporalityCumulative, 2, []uint64{1})(ms)
		expHistogramMetric("rt", "s", pmetric.AggregationTemporalityCumulative, 2, []uint64{3})(ms)
	})
	m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	m.At(0).ExponentialHistogram().DataPoints().At(0).SetZeroThreshold(0.001)
	m.At(1).ExponentialHistogram().DataPoints().At(0).SetZeroThreshold(0.5)
	r, _ := convert(t, Options{}, md)
	for series, want := range map[string]float64{`lat_seconds{job="checkout"}`: 0.001, `rt_seconds{job="checkout"}`: 0.5} {
		if got := r.find(series); len(got) != 1 || got[0].h == nil || got[0].h.ZeroThreshold != want {
			t.Errorf("%s: %+v, want zero threshold %g", series, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	md := batch(svc, func(ms pmetric.MetricSlice) {
		m := ms.AppendEmpty()
		m.SetName("rpc.latency")
		m.SetUnit("ms")
		p := m.SetEmptySummary().DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(t0 - 60_000))
		p.SetTimestamp(ts(t0))
		p.SetCount(40)
		p.SetSum(800)
		q := p.QuantileValues().AppendEmpty()
		q.SetQuantile(0.5)
		q.SetValue(15)
		q = p.QuantileValues().AppendEmpty()
		q.SetQuantile(0.99)
		q.SetValue(90)
	})
	r, _ := convert(t, Options{}, md)
	for series, v := range map[string]float64{
		`rpc_latency_milliseconds{job="checkout", quantile="0.5"}`:  15,
		`rpc_latency_milliseconds{job="checkout", quantile="0.99"}`: 90,
		`rpc_latency_milliseconds_count{job="checkout"}`:            40,
		`rpc_latency_milliseconds_sum{job="checkout"}`:              800,
		`rpc_latency_milliseconds_created{job="checkout"}`:          float64(t0-60_000) / 1000,
	} {
		if got := r.find(series); len(got) != 1 || got[0].v != v || got[0].typ != "summary" {
			t.Errorf("%s = %+v, want %g (summary)", series, got, v)
		}
	}
}

func TestNoRecordedValueIsStale(t *testing.T) {
	cum := pmetric.AggregationTemporalityCumulative
	md := batch(svc, func(ms pmetric.MetricSlice) {
		gauge("g", "", 5, nil)(ms)
		sum("c", "", true, cum, 5)(ms)
		histogramMetric("h", "", cum)(ms)
		expHistogramMetric("e", "", cum, 2, []uint64{1})(ms)
	})
	m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	m.At(0).Gauge().DataPoints().At(0).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	m.At(1).Sum().DataPoints().At(0).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	m.At(2).Histogram().DataPoints().At(0).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	m.At(3).ExponentialHistogram().DataPoints().At(0).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	r, _ := convert(t, Options{}, md)
	for _, series := range []string{`g{job="checkout"}`, `c_total{job="checkout"}`, `h_count{job="checkout"}`,
		`h_bucket{job="checkout", le="+Inf"}`, `h_sum{job="checkout"}`} {
		got := r.find(series)
		if len(got) != 1 || !value.IsStaleNaN(got[0].v) {
			t.Errorf("%s = %+v, want a staleness marker", series, got)
		}
	}
	if got := r.find(`e{job="checkout"}`); len(got) != 1 || got[0].h == nil || !value.IsStaleNaN(got[0].h.Sum) {
		t.Errorf("exponential histogram = %+v, want a stale native histogram", got)
	}
}

func TestStrategies(t *testing.T) {
	f := func(st Strategy, wantCounter, wantLabel string) {
		t.Helper()
		t.Run(string(st), func(t *testing.T) {
			md := batch(svc, func(ms pmetric.MetricSlice) {
				sum("http.server.duration", "ms", true, pmetric.AggregationTemporalityCumulative, 1)(ms)
				ms.At(0).Sum().DataPoints().At(0).Attributes().PutStr("http.route", "/a")
			})
			r, _ := convert(t, Options{Strategy: st}, md)
			if len(r.samples) == 0 {
				t.Fatal("nothing appended")
			}
			var found bool
			for _, s := range r.samples {
				ls, _ := parseName(s.series)
				if ls == wantCounter && strings.Contains(s.series, wantLabel) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s with label %s; got %+v", wantCounter, wantLabel, r.samples)
			}
		})
	}
	f(UnderscoreEscapingWithSuffixes, "http_server_duration_milliseconds_total", `http_route="/a"`)
	f(UnderscoreEscapingWithoutSuffixes, "http_server_duration", `http_route="/a"`)
	f(NoUTF8EscapingWithSuffixes, "http.server.duration_milliseconds_total", `"http.route"="/a"`)
	f(NoTranslation, "http.server.duration", `"http.route"="/a"`)
	if _, err := ParseStrategy("Bogus"); err == nil {
		t.Error("ParseStrategy accepted an unknown strategy")
	}
	if s, err := ParseStrategy(""); err != nil || s != UnderscoreEscapingWithSuffixes {
		t.Errorf("default strategy = %q, %v", s, err)
	}
}

func TestSampleErrorsDoNotAbortTheBatch(t *testing.T) {
	c, _ := NewConverter(Options{})
	r := &recorder{refuse: func(ls labels.Labels) bool { return ls.Get("le") == "0.5" }}
	res, err := c.Convert(context.Background(), batch(svc, histogramMetric("lat", "", pmetric.AggregationTemporalityCumulative)), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 1 || len(r.find(`lat_count{job="checkout"}`)) != 1 {
		t.Errorf("Failed = %d, samples %v: want one refusal and the rest stored", res.Failed, r.samples)
	}
}

func TestNaNAndInfValues(t *testing.T) {
	r, _ := convert(t, Options{}, batch(svc, func(ms pmetric.MetricSlice) {
		gauge("a", "", math.Inf(1), nil)(ms)
		gauge("b", "", math.NaN(), nil)(ms)
	}))
	if got := r.find(`a{job="checkout"}`); len(got) != 1 || !math.IsInf(got[0].v, 1) {
		t.Errorf("+Inf gauge = %+v", got)
	}
	if got := r.find(`b{job="checkout"}`); len(got) != 1 || !math.IsNaN(got[0].v) || value.IsStaleNaN(got[0].v) {
		t.Errorf("NaN gauge = %+v, want a NaN that is not a staleness marker", got)
	}
}

var _ = time.Second
