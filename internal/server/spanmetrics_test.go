package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/internal/config"
)

// promValue evaluates an instant PromQL query on the server and returns its single sample, or false when the
// answer is empty.
func (r *running) promValue(t *testing.T, query string) (float64, bool) {
	t.Helper()
	code, body := r.get(t, "/api/v1/query?query="+url.QueryEscape(query))
	if code != 200 {
		t.Fatalf("query %s: %d %s", query, code, body)
	}
	var resp struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("query %s: %v in %s", query, err, body)
	}
	switch len(resp.Data.Result) {
	case 0:
		return 0, false
	case 1:
		v, err := strconv.ParseFloat(resp.Data.Result[0].Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v, true
	}
	t.Fatalf("query %s: %d series, want one: %s", query, len(resp.Data.Result), body)
	return 0, false
}

// TestSpanMetrics exports spans with the SDK and reads the derived RED metrics back with PromQL: call counts
// per operation and status, error ratio, and latency buckets, against what the test sent.
func TestSpanMetrics(t *testing.T) {
	r := start(t, Options{}, func(c *config.Config) { c.SpanMetrics.Interval = config.Duration(100 * time.Millisecond) })
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(r.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("shop"))))
	tracer := tp.Tracer("t")
	// 30 GET /items (every 5th an error, durations 1..30 ms) and 7 SELECT client spans of 200 ms.
	now := time.Now()
	wantErr, wantUnder10 := 0, 0
	for i := 1; i <= 30; i++ {
		_, sp := tracer.Start(ctx, "GET /items", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(now))
		if i%5 == 0 {
			sp.SetStatus(otelcodes.Error, "boom")
			wantErr++
		}
		if i <= 10 {
			wantUnder10++
		}
		sp.End(trace.WithTimestamp(now.Add(time.Duration(i) * time.Millisecond)))
	}
	for range 7 {
		_, sp := tracer.Start(ctx, "SELECT", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(now))
		sp.End(trace.WithTimestamp(now.Add(200 * time.Millisecond)))
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		query string
		want  float64
	}{
		{`sum(traces_span_metrics_calls_total{service_name="shop", span_name="GET /items"})`, 30},
		{`sum(traces_span_metrics_calls_total{job="shop", span_name="GET /items", span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_ERROR"})`, float64(wantErr)},
		{`sum(traces_span_metrics_calls_total{span_name="SELECT", span_kind="SPAN_KIND_CLIENT", status_code="STATUS_CODE_UNSET"})`, 7},
		{`sum(traces_span_metrics_duration_milliseconds_bucket{span_name="GET /items", le="10"})`, float64(wantUnder10)},
		{`sum(traces_span_metrics_duration_milliseconds_count{span_name="GET /items"})`, 30},
		{`sum(traces_span_metrics_duration_milliseconds_sum{span_name="SELECT"})`, 7 * 200},
		{`histogram_quantile(1, sum by (le) (traces_span_metrics_duration_milliseconds_bucket{span_name="SELECT"}))`, 250},
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, c := range checks {
		for {
			v, ok := r.promValue(t, c.query)
			if ok && math.Abs(v-c.want) < 1e-6 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s = %v (present %v), want %v", c.query, v, ok, c.want)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The slowest span of an interval is an exemplar of the latency histogram.
	code, body := r.get(t, "/api/v1/query_exemplars?query="+url.QueryEscape(`traces_span_metrics_duration_milliseconds_bucket{span_name="SELECT"}`)+
		fmt.Sprintf("&start=%d&end=%d", now.Add(-time.Hour).Unix(), time.Now().Add(time.Hour).Unix()))
	if code != 200 || !json.Valid(body) || !strings.Contains(string(body), `"trace_id"`) || !strings.Contains(string(body), `"span_id"`) {
		t.Errorf("exemplars: %d %s", code, body)
	}
	if code, body := r.get(t, "/metrics"); code != 200 || !strings.Contains(string(body), "otlpd_spanmetrics_series 3") {
		t.Errorf("/metrics lacks otlpd_spanmetrics_series 3: %d", code)
	}
}
