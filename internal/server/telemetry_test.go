package server

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otlpd/otlpd/internal/config"
)

// scrape reads /metrics of the UI address.
func (r *running) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := r.client.Get(r.ui("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

// metricValue returns the value of the series of family name with exactly the given labels (a counter,
// gauge, or a histogram's count), and whether it exists.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func wantMetric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := metricValue(fams, name, labels)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// TestSelfMetrics exports through the SDK (gRPC) and by hand (HTTP, with one invalid span and one bad
// request), then checks otlpd's own metrics count exactly that.
func TestSelfMetrics(t *testing.T) {
	r := start(t, Options{}, func(c *config.Config) { c.Ingest.MaxInFlightBytes = 32 << 20 })
	ctx := context.Background()

	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(r.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp)) // one batch of 3 spans at shutdown
	for range 3 {
		_, sp := tp.Tracer("selfmetrics").Start(ctx, "op")
		sp.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	td := spans(0x21, 3, 0)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).SetTraceID(pcommon.TraceID{}) // invalid
	body := mustBytes(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto())
	if resp, out := r.postOTLP(t, "/v1/traces", "application/x-protobuf", "", body); resp.StatusCode != 200 {
		t.Fatalf("partial export: %d %s", resp.StatusCode, out)
	}
	if resp, _ := r.postOTLP(t, "/v1/logs", "text/plain", "", []byte("hello")); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("bad content type: %d", resp.StatusCode)
	}

	fams := r.scrape(t)
	lbl := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	wantMetric(t, fams, "otlpd_ingest_accepted_items_total", lbl("signal", "traces", "transport", "grpc"), 3)
	wantMetric(t, fams, "otlpd_ingest_rejected_items_total", lbl("signal", "traces", "transport", "grpc"), 0)
	wantMetric(t, fams, "otlpd_ingest_requests_total", lbl("signal", "traces", "transport", "grpc", "status", "OK"), 1)
	wantMetric(t, fams, "otlpd_ingest_accepted_items_total", lbl("signal", "traces", "transport", "http"), 2)
	wantMetric(t, fams, "otlpd_ingest_rejected_items_total", lbl("signal", "traces", "transport", "http"), 1)
	wantMetric(t, fams, "otlpd_ingest_requests_total", lbl("signal", "traces", "transport", "http", "status", "200"), 1)
	wantMetric(t, fams, "otlpd_ingest_requests_total", lbl("signal", "logs", "transport", "http", "status", "415"), 1)
	wantMetric(t, fams, "otlpd_ingest_accepted_items_total", lbl("signal", "logs", "transport", "http"), 0)
	// Two accepted trace batches, each written once to the backend.
	wantMetric(t, fams, "otlpd_storage_write_duration_seconds", lbl("store", "backend", "signal", "traces"), 2)
	wantMetric(t, fams, "otlpd_pipeline_in_flight_bytes", nil, 0)
	wantMetric(t, fams, "otlpd_pipeline_max_in_flight_bytes", nil, 32<<20)
	wantMetric(t, fams, "otlpd_pipeline_overload_refusals_total", nil, 0)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

// TestPprof checks the profiling handlers are mounted only with the setting.
func TestPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := start(t, Options{}, func(c *config.Config) { c.Pprof = on })
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
			resp, err := r.client.Get(r.ui(path))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[on]; resp.StatusCode != want {
				t.Errorf("pprof %v: GET %s: %d, want %d", on, path, resp.StatusCode, want)
			}
		}
	}
}

// TestStorageMetrics: with the engine, /metrics reports the head before a flush, then parts, items, bytes
// and the time span of what they hold.
func TestStorageMetrics(t *testing.T) {
	r := start(t, Options{}, func(c *config.Config) {
		c.Storage, c.DataDir = "engine", t.TempDir()
		c.Engine.FlushItems = 100
	})
	now := time.Now()
	send := func(first byte, n int) {
		td := spans(first, n, 0)
		for i, sp := range td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().All() {
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i) * time.Millisecond)))
			sp.SetEndTimestamp(sp.StartTimestamp() + 1000)
		}
		body := mustBytes(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto())
		if resp, out := r.postOTLP(t, "/v1/traces", "application/x-protobuf", "", body); resp.StatusCode != 200 {
			t.Fatalf("export: %d %s", resp.StatusCode, out)
		}
	}
	send(0x51, 10)
	fams := r.scrape(t)
	wantMetric(t, fams, "otlpd_storage_head_items", map[string]string{"head": "active"}, 10)
	wantMetric(t, fams, "otlpd_storage_parts", map[string]string{"signal": "traces"}, 0)
	if v, ok := metricValue(fams, "otlpd_storage_wal_bytes", nil); !ok || v <= 0 {
		t.Errorf("otlpd_storage_wal_bytes = %v (present %v), want > 0", v, ok)
	}

	send(0x52, 150) // past flush_items: the head goes to a part
	waitFor(t, "a part of 160 spans", func() bool {
		v, _ := metricValue(r.scrape(t), "otlpd_storage_items", map[string]string{"signal": "traces"})
		return v == 160
	})
	fams = r.scrape(t)
	wantMetric(t, fams, "otlpd_storage_head_items", map[string]string{"head": "active"}, 0)
	wantMetric(t, fams, "otlpd_storage_quarantined_parts", nil, 0)
	if v, _ := metricValue(fams, "otlpd_storage_bytes", map[string]string{"signal": "traces"}); v <= 0 {
		t.Errorf("otlpd_storage_bytes{traces} = %v", v)
	}
	oldest, ok1 := metricValue(fams, "otlpd_storage_oldest_item_timestamp_seconds", map[string]string{"signal": "traces"})
	newest, ok2 := metricValue(fams, "otlpd_storage_newest_item_timestamp_seconds", map[string]string{"signal": "traces"})
	if !ok1 || !ok2 || math.Abs(oldest-float64(now.UnixNano())/1e9) > 1e-3 || math.Abs(newest-oldest-0.149) > 1e-3 {
		t.Errorf("item time span %v..%v", oldest, newest)
	}
}
