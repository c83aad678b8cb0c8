package metricstest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// timeCapture remembers the time of each exported collection of the requests counter, as the SDK stamped it.
// The SDK stamps each instrument with its own clock reading, so the time must come from the counter the
// increase() and rate() checks query: another instrument's stamp may fall in a different millisecond.
type timeCapture struct {
	sdkmetric.Exporter
	times []time.Time
}

func (c *timeCapture) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	var t time.Time
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if !strings.HasSuffix(m.Name, ".requests") {
				continue
			}
			if s, ok := m.Data.(metricdata.Sum[float64]); ok && len(s.DataPoints) > 0 {
				t = s.DataPoints[0].Time
			}
		}
	}
	c.times = append(c.times, t)
	return c.Exporter.Export(ctx, rm)
}

// app is one application's instruments, all six kinds.
type app struct {
	mp        *sdkmetric.MeterProvider
	exp       *timeCapture
	requests  metric.Float64Counter
	inflight  metric.Int64UpDownCounter
	latency   metric.Float64Histogram // explicit buckets
	rpc       metric.Float64Histogram // exponential
	temp      metric.Float64Gauge
	jobsTotal float64 // reported by the observable counter
	queue     float64 // reported by the observable gauge
}

var (
	bounds   = []float64{0.1, 0.5, 1, 5}
	rpcScale = int32(3)
)

func newApp(t *testing.T, prefix string, exp sdkmetric.Exporter) *app {
	t.Helper()
	a := &app{exp: &timeCapture{Exporter: exp}}
	res := resource.NewSchemaless(attribute.String("service.name", "e2e-"+prefix), attribute.String("service.instance.id", "i1"),
		attribute.String("host.name", "test-host"))
	a.mp = sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(a.exp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOnFilter),
		sdkmetric.WithView(
			sdkmetric.NewView(sdkmetric.Instrument{Name: prefix + ".latency"},
				sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: bounds}}),
			sdkmetric.NewView(sdkmetric.Instrument{Name: prefix + ".rpc.duration"},
				sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: rpcScale}}),
		),
	)
	m := a.mp.Meter("otlpd/e2e")
	var err error
	must := func(e error) {
		if e != nil {
			t.Fatal(e)
		}
	}
	a.requests, err = m.Float64Counter(prefix + ".requests")
	must(err)
	a.inflight, err = m.Int64UpDownCounter(prefix + ".inflight")
	must(err)
	a.latency, err = m.Float64Histogram(prefix+".latency", metric.WithUnit("s"))
	must(err)
	a.rpc, err = m.Float64Histogram(prefix+".rpc.duration", metric.WithUnit("s"))
	must(err)
	a.temp, err = m.Float64Gauge(prefix + ".temperature")
	must(err)
	_, err = m.Float64ObservableCounter(prefix+".jobs", metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
		o.Observe(a.jobsTotal)
		return nil
	}))
	must(err)
	_, err = m.Float64ObservableGauge(prefix+".queue", metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
		o.Observe(a.queue)
		return nil
	}))
	must(err)
	t.Cleanup(func() { _ = a.mp.Shutdown(context.Background()) })
	return a
}

// expected is what the test recorded, kept independently of otlpd.
type expected struct {
	requests map[string]float64
	inflight int64
	temp     float64
	jobs     float64
	queue    float64
	latency  []float64
	rpc      []float64
}

var traceID = trace.TraceID{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

func spanCtx() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

// record plays a fixed script of rounds on a and flushes after each one.
func record(t *testing.T, a *app) expected {
	t.Helper()
	ctx := spanCtx()
	e := expected{requests: map[string]float64{}}
	routes := []string{"/a", "/b"}
	// Round 0 only creates the counters at zero, so that increase() from the first sample is exact.
	for _, r := range routes {
		a.requests.Add(ctx, 0, metric.WithAttributes(attribute.String("route", r)))
	}
	a.jobsTotal = 0
	if err := a.mp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	latencies := []float64{0.05, 0.2, 0.3, 0.7, 0.8, 2, 3, 7, 0.15, 0.45, 0.6, 0.9}
	rpcs := []float64{0.011, 0.02, 0.03, 0.05, 0.09, 0.13, 0.2, 0.26, 0.4, 0.55, 0.8, 1.3}
	for round := 1; round <= 4; round++ {
		time.Sleep(150 * time.Millisecond)
		for i, r := range routes {
			v := float64(round*(i+1)) + 0.5
			a.requests.Add(ctx, v, metric.WithAttributes(attribute.String("route", r)))
			e.requests[r] += v
		}
		a.inflight.Add(ctx, int64(5-2*round))
		e.inflight += int64(5 - 2*round)
		for i := range 3 {
			v := latencies[(round-1)*3+i]
			a.latency.Record(ctx, v)
			e.latency = append(e.latency, v)
			w := rpcs[(round-1)*3+i]
			a.rpc.Record(ctx, w)
			e.rpc = append(e.rpc, w)
		}
		e.temp = 20 + float64(round)/4
		a.temp.Record(ctx, e.temp)
		a.jobsTotal += float64(round * 3)
		e.jobs = a.jobsTotal
		a.queue = float64(10 - round)
		e.queue = a.queue
		if err := a.mp.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// classicQuantile is Prometheus's linear interpolation inside the bucket that holds rank q*n, computed from
// the raw observations and the bucket bounds.
func classicQuantile(q float64, obs []float64, bounds []float64) float64 {
	counts := make([]float64, len(bounds)+1)
	for _, v := range obs {
		i := sort.SearchFloat64s(bounds, v) // first bound >= v: buckets are upper-inclusive
		counts[i]++
	}
	rank := q * float64(len(obs))
	var cum float64
	for i, c := range counts {
		if cum+c >= rank && c > 0 {
			if i == len(bounds) {
				return bounds[len(bounds)-1]
			}
			lower := 0.0
			if i > 0 {
				lower = bounds[i-1]
			}
			return lower + (bounds[i]-lower)*(rank-cum)/c
		}
		cum += c
	}
	return math.NaN()
}

// nativeQuantile is Prometheus's interpolation for exponential buckets (linear in log2 space), computed from
// the raw observations at the schema the test configured. Bucket i covers (2^(i/2^s), 2^((i+1)/2^s)].
func nativeQuantile(q float64, obs []float64, scale int32) float64 {
	f := math.Ldexp(1, int(scale))
	counts := map[int]float64{}
	for _, v := range obs {
		counts[int(math.Ceil(math.Log2(v)*f))-1]++
	}
	idx := make([]int, 0, len(counts))
	for i := range counts {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	interp := func(i int, fraction float64) float64 {
		lo, hi := float64(i)/f, float64(i+1)/f
		return math.Exp2(lo + (hi-lo)*fraction)
	}
	var cum float64
	if q < 0.5 {
		rank := q * float64(len(obs))
		for _, i := range idx {
			if c := counts[i]; cum+c >= rank {
				return interp(i, (rank-cum)/c)
			}
			cum += counts[i]
		}
		return math.NaN()
	}
	// From q = 0.5 up, PromQL counts from the highest bucket down (rank (1-q)*n from the top), which differs
	// from counting up when the rank falls on the edge of a bucket followed by empty ones.
	rank := (1 - q) * float64(len(obs))
	for j := len(idx) - 1; j >= 0; j-- {
		i := idx[j]
		if c := counts[i]; cum+c >= rank {
			return interp(i, (cum+c-rank)/c)
		}
		cum += counts[i]
	}
	return math.NaN()
}

func TestSDKEndToEnd(t *testing.T) {
	h := Start(t)
	ctx := context.Background()
	grpcExp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(h.GRPCAddr), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(h.HTTPAddr), otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithTemporalitySelector(sdkmetric.DeltaTemporalitySelector))
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]*app{"cum": newApp(t, "cum", grpcExp), "del": newApp(t, "del", httpExp)}
	want := map[string]expected{}
	for p, a := range apps {
		want[p] = record(t, a)
	}
	for _, p := range []string{"cum", "del"} {
		a, e := apps[p], want[p]
		t.Run(p, func(t *testing.T) {
			times := a.exp.times
			first, last := times[0], times[len(times)-1]
			at := last
			// The SDK stamps each instrument with its own clock reading, so the other instruments' last
			// samples may lie a millisecond after the counter's. Instant checks run a second later, when every
			// last sample is the newest within the lookback (no export follows the last one); the range checks
			// of the counter run exactly at its last sample.
			after := last.Add(time.Second)
			window := last.Sub(first).Truncate(time.Second) + 2*time.Second
			w := fmt.Sprintf("%ds", int(window.Seconds()))
			check := func(query string, want float64, at time.Time) {
				t.Helper()
				got := h.Scalar(t, query, at)
				if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("%s = %v, want %v", query, got, want)
				}
			}
			f := func(query string, want float64) { t.Helper(); check(query, want, after) }
			for r, v := range e.requests {
				f(fmt.Sprintf(`sum by (route) (%s_requests_total{route=%q})`, p, r), v)
				// The first sample is 0 and the query is at the last one: no extrapolation.
				check(fmt.Sprintf(`increase(%s_requests_total{route=%q}[%s])`, p, r, w), v, at)
				check(fmt.Sprintf(`rate(%s_requests_total{route=%q}[%s])`, p, r, w), v/window.Seconds(), at)
			}
			f(fmt.Sprintf(`sum(%s_requests_total)`, p), e.requests["/a"]+e.requests["/b"])
			f(p+"_inflight", float64(e.inflight))
			f(p+"_temperature", e.temp)
			f(p+"_jobs_total", e.jobs)
			f(p+"_queue", e.queue)
			f(fmt.Sprintf(`%s_latency_seconds_count`, p), float64(len(e.latency)))
			for _, q := range []float64{0.5, 0.9} {
				f(fmt.Sprintf(`histogram_quantile(%g, sum by (le) (%s_latency_seconds_bucket))`, q, p), classicQuantile(q, e.latency, bounds))
				f(fmt.Sprintf(`histogram_quantile(%g, sum(%s_rpc_duration_seconds))`, q, p), nativeQuantile(q, e.rpc, rpcScale))
			}
			f(fmt.Sprintf(`histogram_count(%s_rpc_duration_seconds)`, p), float64(len(e.rpc)))
			// Exemplars carry the trace of the context the measurements were made in.
			ex := h.ExemplarTraceIDs(t, p+"_requests_total", first, after)
			if len(ex) == 0 || ex[0] != traceID.String() {
				t.Errorf("exemplars of %s_requests_total: trace IDs %v, want %s", p, ex, traceID)
			}
			ex = h.ExemplarTraceIDs(t, p+"_latency_seconds_bucket", first, after)
			if len(ex) == 0 || ex[0] != traceID.String() {
				t.Errorf("exemplars of %s_latency_seconds_bucket: trace IDs %v, want %s", p, ex, traceID)
			}
		})
	}
}
