package jaeger_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/internal/api/jaeger"
	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/server"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// startServer runs a whole otlpd (OTLP receivers, pipeline, memory storage, UI/API server with the Jaeger
// API) on random loopback ports until the test ends.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
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
		resp, err := http.Get("http://" + srv.UIAddr().String() + "/readyz")
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

type envelope struct {
	Data   json.RawMessage `json:"data"`
	Total  int             `json:"total"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

func getJSON(t *testing.T, srv *server.Server, path string, into any) int {
	t.Helper()
	resp, err := http.Get("http://" + srv.UIAddr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(env.Data, into); err != nil {
			t.Fatalf("GET %s data: %v\n%s", path, err, body)
		}
	}
	return resp.StatusCode
}

// wantKV is the Jaeger tag the mapping gives an SDK attribute.
func wantKV(kv attribute.KeyValue) jaeger.KeyValue {
	k := string(kv.Key)
	v := kv.Value
	switch v.Type() {
	case attribute.BOOL:
		return jaeger.KeyValue{Key: k, Type: "bool", Value: v.AsBool()}
	case attribute.INT64:
		return jaeger.KeyValue{Key: k, Type: "int64", Value: float64(v.AsInt64())} // JSON numbers decode as float64
	case attribute.FLOAT64:
		return jaeger.KeyValue{Key: k, Type: "float64", Value: v.AsFloat64()}
	case attribute.STRING:
		return jaeger.KeyValue{Key: k, Type: "string", Value: v.AsString()}
	case attribute.BYTESLICE:
		return jaeger.KeyValue{Key: k, Type: "binary", Value: base64.StdEncoding.EncodeToString(v.AsByteSlice())}
	}
	// Arrays become JSON strings.
	b, _ := json.Marshal(v.AsInterface())
	return jaeger.KeyValue{Key: k, Type: "string", Value: string(b)}
}

func str(k, v string) jaeger.KeyValue { return jaeger.KeyValue{Key: k, Type: "string", Value: v} }

// TestSDKToJaeger sends spans with the OpenTelemetry Go SDK over OTLP/gRPC to a running otlpd and reads
// them back through the Jaeger API: every field must be what the OTLP-to-Jaeger mapping gives for what the
// SDK recorded.
func TestSDKToJaeger(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	recorder := tracetest.NewSpanRecorder()
	newProvider := func(service string, extra ...attribute.KeyValue) *sdktrace.TracerProvider {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(srv.GRPCAddr().String()), otlptracegrpc.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		res := resource.NewWithAttributes("", append([]attribute.KeyValue{attribute.String("service.name", service)}, extra...)...)
		return sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(exp), sdktrace.WithSpanProcessor(recorder))
	}
	shop := newProvider("shop", attribute.String("host.name", "web-1"), attribute.Int64("process.pid", 7))
	payments := newProvider("payments", attribute.String("deployment.environment.name", "test"))

	tracer := shop.Tracer("io.otlpd.e2e", trace.WithInstrumentationVersion("0.3.0"))
	other := payments.Tracer("io.otlpd.payments")

	// A span in another trace, to link to.
	_, linked := tracer.Start(ctx, "nightly batch", trace.WithSpanKind(trace.SpanKindConsumer))
	linked.End()

	ts, err := trace.ParseTraceState("vendor=abc")
	if err != nil {
		t.Fatal(err)
	}
	parentCtx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, SpanID: trace.SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true,
	}))
	rootCtx, root := tracer.Start(parentCtx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithLinks(trace.Link{SpanContext: linked.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", "batch")}}),
		trace.WithAttributes(
			attribute.String("http.route", "/checkout"), attribute.Int64("http.response.status_code", 502),
			attribute.Bool("retry", true), attribute.Float64("ratio", 0.75),
			attribute.StringSlice("tags", []string{"a", "b"}), attribute.Int64Slice("sizes", []int64{1, 2}),
			attribute.ByteSlice("raw", []byte{1, 2, 255})))
	root.AddEvent("cart loaded", trace.WithAttributes(attribute.Int64("items", 3)))
	callCtx, call := tracer.Start(rootCtx, "charge", trace.WithSpanKind(trace.SpanKindClient))
	_, charge := other.Start(callCtx, "Charge", trace.WithSpanKind(trace.SpanKindServer))
	charge.RecordError(fmt.Errorf("card declined"))
	charge.SetStatus(otelcodes.Error, "declined")
	charge.End()
	call.SetStatus(otelcodes.Ok, "")
	call.End()
	_, work := tracer.Start(rootCtx, "render", trace.WithSpanKind(trace.SpanKindInternal))
	work.End()
	root.SetStatus(otelcodes.Error, "payment failed")
	root.End()
	for _, tp := range []*sdktrace.TracerProvider{shop, payments} {
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}

	traceID := root.SpanContext().TraceID()
	var traces []jaeger.Trace
	if code := getJSON(t, srv, "/api/traces/"+traceID.String(), &traces); code != http.StatusOK || len(traces) != 1 {
		t.Fatalf("trace by ID: status %d, %d traces", code, len(traces))
	}
	got := traces[0]
	if got.TraceID != traceID.String() {
		t.Errorf("traceID %s, want %s", got.TraceID, traceID)
	}
	byID := map[string]jaeger.Span{}
	for _, s := range got.Spans {
		byID[s.SpanID] = s
	}
	var sent []sdktrace.ReadOnlySpan
	for _, s := range recorder.Ended() {
		if s.SpanContext().TraceID() == traceID {
			sent = append(sent, s)
		}
	}
	if len(got.Spans) != len(sent) || len(sent) != 4 {
		t.Fatalf("%d spans read back, %d sent (want 4)", len(got.Spans), len(sent))
	}
	kinds := map[trace.SpanKind]string{trace.SpanKindServer: "server", trace.SpanKindClient: "client",
		trace.SpanKindInternal: "internal", trace.SpanKindProducer: "producer", trace.SpanKindConsumer: "consumer"}
	for _, s := range sent {
		g, ok := byID[s.SpanContext().SpanID().String()]
		if !ok {
			t.Fatalf("span %s (%s) missing", s.SpanContext().SpanID(), s.Name())
		}
		name := s.Name()
		check := func(field string, gotV, wantV any) {
			t.Helper()
			if !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("%s: %s = %#v, want %#v", name, field, gotV, wantV)
			}
		}
		check("traceID", g.TraceID, traceID.String())
		check("operationName", g.OperationName, s.Name())
		check("flags", g.Flags, uint32(s.SpanContext().TraceFlags()))
		check("startTime", g.StartTime, s.StartTime().UnixMicro())
		check("duration", g.Duration, s.EndTime().Sub(s.StartTime()).Microseconds())
		var refs []jaeger.Reference
		if s.Parent().IsValid() {
			refs = append(refs, jaeger.Reference{RefType: "CHILD_OF", TraceID: traceID.String(), SpanID: s.Parent().SpanID().String()})
		}
		for _, l := range s.Links() {
			refs = append(refs, jaeger.Reference{RefType: "FOLLOWS_FROM", TraceID: l.SpanContext.TraceID().String(), SpanID: l.SpanContext.SpanID().String()})
		}
		if refs == nil {
			refs = []jaeger.Reference{}
		}
		check("references", g.References, refs)

		var tags []jaeger.KeyValue
		for _, kv := range s.Attributes() {
			tags = append(tags, wantKV(kv))
		}
		tags = append(tags, str("otel.scope.name", s.InstrumentationScope().Name))
		if v := s.InstrumentationScope().Version; v != "" {
			tags = append(tags, str("otel.scope.version", v))
		}
		tags = append(tags, str("span.kind", kinds[s.SpanKind()]))
		switch s.Status().Code {
		case otelcodes.Ok:
			tags = append(tags, str("otel.status_code", "OK"))
		case otelcodes.Error:
			tags = append(tags, str("otel.status_code", "ERROR"), jaeger.KeyValue{Key: "error", Type: "bool", Value: true})
			if d := s.Status().Description; d != "" {
				tags = append(tags, str("otel.status_description", d))
			}
		}
		if st := s.SpanContext().TraceState().String(); st != "" {
			tags = append(tags, str("w3c.tracestate", st))
		}
		sortKV(tags)
		gotTags := append([]jaeger.KeyValue(nil), g.Tags...)
		sortKV(gotTags)
		check("tags", gotTags, tags)

		logs := []jaeger.Log{}
		for _, ev := range s.Events() {
			l := jaeger.Log{Timestamp: ev.Time.UnixMicro(), Fields: []jaeger.KeyValue{str("event", ev.Name)}}
			for _, kv := range ev.Attributes {
				l.Fields = append(l.Fields, wantKV(kv))
			}
			logs = append(logs, l)
		}
		check("logs", g.Logs, logs)

		proc, ok := got.Processes[g.ProcessID]
		if !ok {
			t.Fatalf("%s: process %q not in processes", name, g.ProcessID)
		}
		wantProc := jaeger.Process{Tags: []jaeger.KeyValue{}}
		for _, kv := range s.Resource().Attributes() {
			if kv.Key == "service.name" {
				wantProc.ServiceName = kv.Value.AsString()
				continue
			}
			wantProc.Tags = append(wantProc.Tags, wantKV(kv))
		}
		sortKV(wantProc.Tags)
		sortKV(proc.Tags)
		check("process", proc, wantProc)
	}
	if len(got.Processes) != 2 {
		t.Errorf("%d processes, want 2 (shop, payments)", len(got.Processes))
	}

	// Search: tags, durations and the error tag; the result is the same trace.
	var found []jaeger.Trace
	q := "/api/traces?service=shop&tags=" + urlEscape(`{"http.route":"/checkout","error":"true"}`) + "&minDuration=0ms&limit=10"
	if code := getJSON(t, srv, q, &found); code != http.StatusOK || len(found) != 1 || found[0].TraceID != traceID.String() || len(found[0].Spans) != 4 {
		t.Fatalf("search by tags: status %d, %d traces", code, len(found))
	}
	if code := getJSON(t, srv, "/api/traces?service=shop&tag=http.route:/nowhere", &found); code != http.StatusOK || len(found) != 0 {
		t.Errorf("search with a non-matching tag: status %d, %d traces", code, len(found))
	}
	// Tags also match event attributes (Jaeger's log fields): the SDK's "cart loaded" event and the exception
	// event RecordError adds.
	for _, q := range []string{"/api/traces?service=shop&tag=items:3", "/api/traces?service=payments&tags=" + urlEscape(`{"exception.message":"card declined"}`)} {
		if code := getJSON(t, srv, q, &found); code != http.StatusOK || len(found) != 1 || found[0].TraceID != traceID.String() {
			t.Errorf("%s: status %d, %d traces", q, code, len(found))
		}
	}
	// The same search through api_v3, whose result is OTLP JSON.
	rfc := func(d time.Duration) string { return urlEscape(time.Now().Add(d).UTC().Format(time.RFC3339Nano)) }
	v3 := "/api/v3/traces?query.service_name=payments&query.attributes=" + urlEscape(`{"exception.message":"card declined"}`) +
		"&query.start_time_min=" + rfc(-time.Hour) + "&query.start_time_max=" + rfc(time.Hour)
	resp, err := http.Get("http://" + srv.UIAddr().String() + v3)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct{ Result json.RawMessage }
	if err := json.Unmarshal(body, &res); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("api_v3 search: status %d, %v: %s", resp.StatusCode, err, body)
	}
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(res.Result)
	if err != nil || td.SpanCount() != 4 {
		t.Fatalf("api_v3 search: %v, %d spans, want the 4 of the trace", err, td.SpanCount())
	}
	if id := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID(); id.String() != traceID.String() {
		t.Errorf("api_v3 search found trace %s, want %s", id, traceID)
	}

	var services []string
	getJSON(t, srv, "/api/services", &services)
	if !reflect.DeepEqual(services, []string{"payments", "shop"}) {
		t.Errorf("services %v", services)
	}
	var ops []string
	getJSON(t, srv, "/api/services/shop/operations", &ops)
	if !reflect.DeepEqual(ops, []string{"POST /checkout", "charge", "nightly batch", "render"}) {
		t.Errorf("operations %v", ops)
	}
	var deps []struct {
		Parent, Child string
		CallCount     int
	}
	getJSON(t, srv, "/api/dependencies", &deps)
	if len(deps) != 1 || deps[0].Parent != "shop" || deps[0].Child != "payments" || deps[0].CallCount != 1 {
		t.Errorf("dependencies %+v, want shop->payments once", deps)
	}
	if code := getJSON(t, srv, "/api/traces/"+strings.Repeat("0", 31)+"1", nil); code != http.StatusNotFound {
		t.Errorf("missing trace: status %d", code)
	}
}

func sortKV(kvs []jaeger.KeyValue) {
	sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
