package loki_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/server"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// startServer runs a whole otlpd (OTLP receivers, pipeline, memory storage, UI/API server) on random
// loopback ports until the test ends.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Storage = "memory"
	cfg.DataDir = t.TempDir()
	srv, err := server.New(cfg, nil, server.Options{Backend: memory.New(memory.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + srv.UIAddr().String() + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lokiResponse is the part of Loki's answers the test reads.
type lokiResponse struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
	Message string `json:"message"`
}

type lokiStream struct {
	Stream map[string]string `json:"stream"`
	Values [][]string        `json:"values"`
}

type lokiSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
	Value  [2]any            `json:"value"`
}

// grafanaGet asks the Loki API the way Grafana's data source does: GET, parameters in the query string,
// times in Unix nanoseconds.
func grafanaGet(t *testing.T, srv *server.Server, path string, params url.Values, into any) int {
	t.Helper()
	resp, err := http.Get("http://" + srv.UIAddr().String() + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	if resp.StatusCode != http.StatusOK {
		t.Logf("GET %s?%s: %d %s", path, params.Encode(), resp.StatusCode, body)
	}
	return resp.StatusCode
}

// sent is what the test exported: per (service, level), the bodies and times.
type sentRecord struct {
	service, level, body string
	t                    time.Time
}

// TestGrafanaQueries exports logs with the OpenTelemetry Go SDK over OTLP/gRPC to a running otlpd and
// reads them back through the Loki API with the requests Grafana's Loki data source sends.
func TestGrafanaQueries(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)

	var sent []sentRecord
	export := func(service string, extra []attribute.KeyValue, n int, level func(i int) (otellog.Severity, string)) {
		exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(srv.GRPCAddr().String()), otlploggrpc.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		res := resource.NewWithAttributes("", append([]attribute.KeyValue{attribute.String("service.name", service)}, extra...)...)
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
		logger := lp.Logger("e2e")
		for i := range n {
			sev, name := level(i)
			var r otellog.Record
			ts := base.Add(time.Duration(i) * time.Second)
			r.SetTimestamp(ts)
			r.SetSeverity(sev)
			body := fmt.Sprintf("%s request %d status %d", service, i, map[bool]int{true: 500, false: 200}[name == "error"])
			r.SetBody(attribute.StringValue(body))
			r.AddAttributes(attribute.Int("request.number", i))
			ectx := ctx
			if i == 0 {
				ectx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: trace.TraceID{0xab, 1}, SpanID: trace.SpanID{0xcd, 1}, TraceFlags: trace.FlagsSampled}))
			}
			logger.Emit(ectx, r)
			sent = append(sent, sentRecord{service, name, body, ts})
		}
		if err := lp.Shutdown(ctx); err != nil {
			t.Fatalf("export: %v", err)
		}
	}
	export("e2e-shop", []attribute.KeyValue{attribute.String("host.name", "web-1"), attribute.String("deployment.environment.name", "test")}, 60,
		func(i int) (otellog.Severity, string) {
			if i%3 == 0 {
				return otellog.SeverityError, "error"
			}
			return otellog.SeverityInfo, "info"
		})
	export("e2e-pay", nil, 10, func(int) (otellog.Severity, string) { return otellog.SeverityWarn, "warn" })

	start, end := base.Add(-time.Minute), base.Add(2*time.Minute)
	startNs, endNs := strconv.FormatInt(start.UnixNano(), 10), strconv.FormatInt(end.UnixNano(), 10)

	t.Run("health", func(t *testing.T) {
		var r lokiResponse
		if code := grafanaGet(t, srv, "/loki/api/v1/query", url.Values{"direction": {"backward"}, "query": {"vector(1)+vector(1)"}, "time": {"4000000000"}}, &r); code != 200 {
			t.Fatalf("health check: %d %s", code, r.Message)
		}
		var v []lokiSeries
		if err := json.Unmarshal(r.Data.Result, &v); err != nil || r.Data.ResultType != "vector" || len(v) != 1 || v[0].Value[1] != "2" {
			t.Fatalf("health check answered %s %s, want a vector holding 2", r.Data.ResultType, r.Data.Result)
		}
	})

	t.Run("labels", func(t *testing.T) {
		var r struct{ Data []string }
		grafanaGet(t, srv, "/loki/api/v1/labels", url.Values{"start": {startNs}, "end": {endNs}}, &r)
		for _, want := range []string{"service_name", "level", "host_name", "deployment_environment_name"} {
			if !slices.Contains(r.Data, want) {
				t.Errorf("labels %v lack %s", r.Data, want)
			}
		}
		grafanaGet(t, srv, "/loki/api/v1/label/service_name/values", url.Values{"start": {startNs}, "end": {endNs}}, &r)
		if !slices.Equal(r.Data, []string{"e2e-pay", "e2e-shop"}) {
			t.Errorf("service_name values %v, want [e2e-pay e2e-shop]", r.Data)
		}
		grafanaGet(t, srv, "/loki/api/v1/label/level/values", url.Values{"start": {startNs}, "end": {endNs}, "query": {`{service_name="e2e-shop"}`}}, &r)
		if !slices.Equal(r.Data, []string{"error", "info"}) {
			t.Errorf("level values of e2e-shop %v, want [error info]", r.Data)
		}
		var s struct{ Data []map[string]string }
		grafanaGet(t, srv, "/loki/api/v1/series", url.Values{"match[]": {`{service_name="e2e-pay"}`}, "start": {startNs}, "end": {endNs}}, &s)
		if len(s.Data) != 1 || s.Data[0]["service_name"] != "e2e-pay" || s.Data[0]["level"] != "warn" {
			t.Errorf("series of e2e-pay: %v", s.Data)
		}
	})

	// count sent records matching a predicate.
	count := func(f func(r sentRecord) bool) int {
		n := 0
		for _, r := range sent {
			if f(r) {
				n++
			}
		}
		return n
	}

	t.Run("streams", func(t *testing.T) {
		var r lokiResponse
		code := grafanaGet(t, srv, "/loki/api/v1/query_range", url.Values{"query": {`{service_name=~"e2e-.*"}`}, "start": {startNs},
			"end": {endNs}, "step": {"1000ms"}, "direction": {"backward"}, "limit": {"1000"}}, &r)
		var streams []lokiStream
		if err := json.Unmarshal(r.Data.Result, &streams); code != 200 || err != nil || r.Data.ResultType != "streams" {
			t.Fatalf("query_range: %d %s %s", code, r.Data.ResultType, r.Message)
		}
		if len(streams) != 3 {
			t.Fatalf("%d streams, want 3 (shop info, shop error, pay warn)", len(streams))
		}
		for _, s := range streams {
			svc, lvl := s.Stream["service_name"], s.Stream["level"]
			want := count(func(r sentRecord) bool { return r.service == svc && r.level == lvl })
			if len(s.Values) != want {
				t.Errorf("stream %v: %d entries, want %d", s.Stream, len(s.Values), want)
			}
			for i := 1; i < len(s.Values); i++ {
				if s.Values[i-1][0] <= s.Values[i][0] && len(s.Values[i-1][0]) == len(s.Values[i][0]) {
					t.Fatalf("stream %v not newest first at %d: %v then %v", s.Stream, i, s.Values[i-1], s.Values[i])
				}
			}
			for _, v := range s.Values {
				tsNs, _ := strconv.ParseInt(v[0], 10, 64)
				i := slices.IndexFunc(sent, func(r sentRecord) bool { return r.t.UnixNano() == tsNs && r.service == svc })
				if i < 0 || sent[i].body != v[1] || sent[i].level != lvl {
					t.Fatalf("entry %v of %v was not sent so", v, s.Stream)
				}
			}
			if svc == "e2e-shop" && s.Stream["host_name"] != "web-1" {
				t.Errorf("stream %v lacks host_name=web-1", s.Stream)
			}
		}
	})

	t.Run("forward limit and line filter", func(t *testing.T) {
		var r lokiResponse
		grafanaGet(t, srv, "/loki/api/v1/query_range", url.Values{"query": {`{service_name="e2e-shop"} |= "status 500" != "request 3 "`},
			"start": {startNs}, "end": {endNs}, "step": {"1000ms"}, "direction": {"forward"}, "limit": {"5"}}, &r)
		var streams []lokiStream
		if err := json.Unmarshal(r.Data.Result, &streams); err != nil || len(streams) != 1 {
			t.Fatalf("want one stream, got %s (%v)", r.Data.Result, err)
		}
		var got []string
		for _, v := range streams[0].Values {
			got = append(got, v[1])
		}
		want := []string{"e2e-shop request 0 status 500", "e2e-shop request 6 status 500", "e2e-shop request 9 status 500",
			"e2e-shop request 12 status 500", "e2e-shop request 15 status 500"}
		if !slices.Equal(got, want) {
			t.Errorf("forward, limit 5:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("count_over_time", func(t *testing.T) {
		var r lokiResponse
		// Grafana's log volume query, with the step and range it picks (10s).
		code := grafanaGet(t, srv, "/loki/api/v1/query_range", url.Values{
			"query": {`sum by (level, detected_level) (count_over_time({service_name=~"e2e-.*"} | drop __error__[10s]))`},
			"start": {startNs}, "end": {endNs}, "step": {"10000ms"}, "direction": {"backward"}}, &r)
		var series []lokiSeries
		if err := json.Unmarshal(r.Data.Result, &series); code != 200 || err != nil || r.Data.ResultType != "matrix" {
			t.Fatalf("volume query: %d %s %s", code, r.Data.ResultType, r.Message)
		}
		if len(series) != 3 {
			t.Fatalf("%d series, want one per level (3): %s", len(series), r.Data.Result)
		}
		total := 0
		for _, s := range series {
			lvl := s.Metric["level"]
			if s.Metric["detected_level"] != lvl || len(s.Metric) != 2 {
				t.Errorf("series labels %v, want level and detected_level", s.Metric)
			}
			for _, p := range s.Values {
				sec, _ := p[0].(float64)
				at := time.Unix(int64(sec), 0)
				want := count(func(r sentRecord) bool {
					return r.level == lvl && r.t.After(at.Add(-10*time.Second)) && !r.t.After(at)
				})
				got, _ := strconv.Atoi(p[1].(string))
				if got != want {
					t.Errorf("level %s at %s: %d, want %d", lvl, at, got, want)
				}
				total += got
			}
		}
		if total != len(sent) {
			t.Errorf("the buckets hold %d entries, want %d (every one sent, once)", total, len(sent))
		}
	})

	t.Run("unsupported", func(t *testing.T) {
		var r lokiResponse
		code := grafanaGet(t, srv, "/loki/api/v1/query_range", url.Values{"query": {`{service_name="e2e-shop"} | line_format "{{.x}}"`},
			"start": {startNs}, "end": {endNs}}, &r)
		if code != http.StatusBadRequest || r.Message != `parse error at line 1, col 29: line_format is not supported by otlpd's LogQL` {
			t.Errorf("line_format: %d %q", code, r.Message)
		}
	})
}
