package otlptest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/otlptest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

var res = resource.NewSchemaless(attribute.String("service.name", "otlptest-check"))

// emitTraces sends a parent with an error child through exp.
func emitTraces(t *testing.T, exp sdktrace.SpanExporter, prefix string) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	tr := tp.Tracer("check")
	c, parent := tr.Start(ctx(t), prefix+"parent", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tr.Start(c, prefix+"child", trace.WithAttributes(attribute.Int("n", 7), attribute.String("k", "v")))
	child.SetStatus(codes.Error, "boom")
	child.End()
	parent.End()
	if err := tp.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestTracesOverSDKExporters(t *testing.T) {
	srv := otlptest.NewServer(t)
	g, err := otlptracegrpc.New(ctx(t), otlptracegrpc.WithEndpoint(srv.GRPCAddr()), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	emitTraces(t, g, "grpc.")
	h, err := otlptracehttp.New(ctx(t), otlptracehttp.WithEndpoint(srv.HTTPAddr()), otlptracehttp.WithInsecure(),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	emitTraces(t, h, "http.")

	spans := srv.WaitSpans(ctx(t), 4)
	for _, p := range []string{"grpc.", "http."} {
		parent, child := spans.One(t, p+"parent"), spans.One(t, p+"child")
		otlptest.AssertChildOf(t, child, parent)
		otlptest.AssertAttributes(t, child, map[string]any{"n": 7, "k": "v"})
		if child.StatusCode != "Error" || child.StatusMessage != "boom" || parent.Kind != "Server" || parent.Service() != "otlptest-check" {
			t.Errorf("flattened spans wrong: parent %+v child %+v", parent, child)
		}
	}
	// One request per span: the providers above export WithSyncer.
	if r := srv.Requests(); r["grpc traces"] != 2 || r["http/protobuf traces"] != 2 {
		t.Errorf("requests = %v", r)
	}
}

func TestHTTPJSONAndErrors(t *testing.T) {
	srv := otlptest.NewServer(t)
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("json.span")
	s.SetTraceID(pcommon.TraceID{1})
	s.SetSpanID(pcommon.SpanID{2})
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, ct, enc string, body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.HTTPURL()+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if enc != "" {
			req.Header.Set("Content-Encoding", enc)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("/v1/traces", "application/json", "", body); r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("hello json")
	lb, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalJSON()
	_, _ = zw.Write(lb)
	_ = zw.Close()
	if r := post("/v1/logs", "application/json; charset=utf-8", "gzip", gz.Bytes()); r.StatusCode != 200 {
		t.Fatalf("gzip JSON logs export: %d", r.StatusCode)
	}
	srv.WaitSpan(ctx(t), "json.span")
	srv.WaitLogs(ctx(t), 1).One(t, "hello json")

	for _, c := range []struct {
		path, ct, enc string
		body          []byte
		want          int
	}{
		{"/v1/traces", "text/plain", "", body, http.StatusUnsupportedMediaType},
		{"/v1/traces", "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"/v1/metrics", "application/json", "", []byte("{not json"), http.StatusBadRequest},
		{"/v1/logs", "application/json", "br", body, http.StatusUnsupportedMediaType},
		{"/v1/logs", "application/json", "gzip", []byte("not gzip"), http.StatusBadRequest},
	} {
		if r := post(c.path, c.ct, c.enc, c.body); r.StatusCode != c.want {
			t.Errorf("POST %s %s %s: %d, want %d", c.path, c.ct, c.enc, r.StatusCode, c.want)
		}
	}
	resp, err := http.Get(srv.HTTPURL() + "/v1/traces")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/traces: %d", resp.StatusCode)
	}
	if n := len(srv.Spans()); n != 1 {
		t.Errorf("bad requests added spans: have %d", n)
	}
}

func TestLogsOverSDKExporters(t *testing.T) {
	srv := otlptest.NewServer(t)
	g, err := otlploggrpc.New(ctx(t), otlploggrpc.WithEndpoint(srv.GRPCAddr()), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	h, err := otlploghttp.New(ctx(t), otlploghttp.WithEndpoint(srv.HTTPAddr()), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(g)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(h)))
	var rec otellog.Record
	rec.SetBody(attribute.StringValue("disk full"))
	rec.SetSeverity(otellog.SeverityError)
	rec.SetSeverityText("ERROR")
	rec.AddAttributes(attribute.String("disk", "/dev/sda"))
	lp.Logger("check").Emit(ctx(t), rec)
	if err := lp.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	logs := srv.WaitLogs(ctx(t), 2).WithBody("disk full")
	if len(logs) != 2 {
		t.Fatalf("want the record from both exporters:\n%s", srv.Logs())
	}
	for _, l := range logs {
		if l.SeverityNumber != 17 || l.SeverityText != "ERROR" || l.Attributes["disk"] != "/dev/sda" || l.Resource["service.name"] != "otlptest-check" {
			t.Errorf("flattened record wrong: %+v", l)
		}
	}
}

func TestMetricsOverSDKExporters(t *testing.T) {
	srv := otlptest.NewServer(t)
	g, err := otlpmetricgrpc.New(ctx(t), otlpmetricgrpc.WithEndpoint(srv.GRPCAddr()), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	h, err := otlpmetrichttp.New(ctx(t), otlpmetrichttp.WithEndpoint(srv.HTTPAddr()), otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithTemporalitySelector(sdkmetric.DeltaTemporalitySelector))
	if err != nil {
		t.Fatal(err)
	}
	rg, rh := sdkmetric.NewPeriodicReader(g), sdkmetric.NewPeriodicReader(h)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(rg), sdkmetric.WithReader(rh))
	m := mp.Meter("check")
	c, _ := m.Int64Counter("jobs", metric.WithUnit("{job}"))
	c.Add(ctx(t), 3, metric.WithAttributes(attribute.String("queue", "a")))
	hist, _ := m.Float64Histogram("latency", metric.WithUnit("s"))
	hist.Record(ctx(t), 0.2)
	hist.Record(ctx(t), 0.4)
	if err := mp.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	ms := srv.WaitMetricsFunc(ctx(t), "jobs and latency from both readers", func(m otlptest.Metrics) bool {
		return len(m.Named("jobs")) == 2 && len(m.Named("latency")) == 2
	})
	temps := map[string]bool{}
	for _, j := range ms.Named("jobs") {
		temps[j.Temporality] = true
		p, ok := j.Point(map[string]any{"queue": "a"})
		if !ok || !p.IsInt || p.Int != 3 || !j.Monotonic || j.Type != "Sum" || j.Unit != "{job}" {
			t.Errorf("jobs: %s", j)
		}
	}
	if !temps["Delta"] || !temps["Cumulative"] {
		t.Errorf("temporalities seen %v, want Delta and Cumulative", temps)
	}
	lat, _ := ms.Last("latency")
	if p := lat.Points[0]; lat.Type != "Histogram" || p.Count != 2 || p.Sum < 0.59 || p.Sum > 0.61 {
		t.Errorf("latency: %s", lat)
	}
}

// fakeTB records a Fatal instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatal(args ...any)                 { f.fatal = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

// A failed wait names what it waited for and prints what did arrive.
func TestWaitFailurePrintsWhatArrived(t *testing.T) {
	fake := &fakeTB{TB: t}
	srv := otlptest.NewServer(fake)
	exp, err := otlptracehttp.New(ctx(t), otlptracehttp.WithEndpoint(srv.HTTPAddr()), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	emitTraces(t, exp, "arrived.")
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	srv.WaitSpan(short, "never.sent")
	for _, want := range []string{`a span named "never.sent"`, "arrived.parent [Server]", "arrived.child [Internal]", `k="v"`, "n=7", "status=Error", "2 spans in 1 trace"} {
		if !strings.Contains(fake.fatal, want) {
			t.Errorf("failure message lacks %q:\n%s", want, fake.fatal)
		}
	}
}
