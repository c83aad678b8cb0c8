package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
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
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/internal/config"
)

// The end-to-end tests export with the official OpenTelemetry Go SDK exporters (gRPC and HTTP) to a server
// on loopback, read everything back through the native API, and compare field by field with what the SDK
// was given.

const schemaURL = "https://opentelemetry.io/schemas/1.26.0"

// everyType holds an attribute of each kind the SDK can send.
var everyType = []attribute.KeyValue{
	attribute.String("str", "héllo"),
	attribute.Bool("bool", true),
	attribute.Int64("int", -9007199254740993),
	attribute.Float64("float", 3.25),
	attribute.StringSlice("strs", []string{"a", "", "c"}),
	attribute.BoolSlice("bools", []bool{true, false}),
	attribute.Int64Slice("ints", []int64{1, -2, 1 << 62}),
	attribute.Float64Slice("floats", []float64{0.5, -1e300}),
	attribute.ByteSlice("bytes", []byte{0, 1, 2, 0xff}),
	attribute.Slice("mixed", attribute.StringValue("x"), attribute.Int64Value(5), attribute.SliceValue(attribute.BoolValue(false))),
	attribute.Map("map", attribute.String("k", "v"), attribute.Map("inner", attribute.Float64("f", 1.5))),
}

// rawValue is the pcommon AsRaw form of an SDK attribute value.
func rawValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.BOOL:
		return v.AsBool()
	case attribute.INT64:
		return v.AsInt64()
	case attribute.FLOAT64:
		return v.AsFloat64()
	case attribute.STRING:
		return v.AsString()
	case attribute.BOOLSLICE:
		return toAny(v.AsBoolSlice())
	case attribute.INT64SLICE:
		return toAny(v.AsInt64Slice())
	case attribute.FLOAT64SLICE:
		return toAny(v.AsFloat64Slice())
	case attribute.STRINGSLICE:
		return toAny(v.AsStringSlice())
	case attribute.BYTESLICE:
		return v.AsByteSlice()
	case attribute.SLICE:
		var out []any
		for _, e := range v.AsSlice() {
			out = append(out, rawValue(e))
		}
		return out
	case attribute.MAP:
		return rawAttrs(v.AsMap())
	}
	return nil
}

func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

func rawAttrs(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = rawValue(kv.Value)
	}
	return m
}

func checkAttrs(t *testing.T, what string, got pcommon.Map, want []attribute.KeyValue) {
	t.Helper()
	if g, w := got.AsRaw(), rawAttrs(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s attributes:\n got %#v\nwant %#v", what, g, w)
	}
}

func checkEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testResource(t *testing.T, service string) (*resource.Resource, []attribute.KeyValue) {
	attrs := []attribute.KeyValue{
		attribute.String("service.name", service),
		attribute.String("service.version", "1.2.3"),
		attribute.Int64("process.pid", 4242),
	}
	res := resource.NewWithAttributes(schemaURL, attrs...)
	return res, attrs
}

func TestSDKTraces(t *testing.T) {
	for _, transport := range []string{"grpc", "http"} {
		t.Run(transport, func(t *testing.T) {
			r := start(t, Options{}, nil)
			ctx := context.Background()
			var exp sdktrace.SpanExporter
			var err error
			if transport == "grpc" {
				exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(r.GRPCAddr().String()), otlptracegrpc.WithInsecure(),
					otlptracegrpc.WithCompressor("gzip"))
			} else {
				exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(r.HTTPAddr().String()), otlptracehttp.WithInsecure())
			}
			if err != nil {
				t.Fatal(err)
			}
			service := "e2e-traces-" + transport
			res, resAttrs := testResource(t, service)
			tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(exp))
			scopeAttrs := []attribute.KeyValue{attribute.String("scope.attr", "s")}
			tracer := tp.Tracer("e2e/tracer", trace.WithInstrumentationVersion("0.9.1"), trace.WithSchemaURL(schemaURL),
				trace.WithInstrumentationAttributes(scopeAttrs...))

			t0 := time.Unix(1_700_000_000, 123_456_789)
			ts, err := trace.ParseTraceState("vendor=abc")
			if err != nil {
				t.Fatal(err)
			}
			linked := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    trace.TraceID{0xa1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
				SpanID:     trace.SpanID{0xb1, 2, 3, 4, 5, 6, 7, 8},
				TraceFlags: trace.FlagsSampled,
				TraceState: ts,
			})
			linkAttrs := []attribute.KeyValue{attribute.String("link.reason", "retry")}
			eventAttrs := []attribute.KeyValue{attribute.Int64("event.n", 3), attribute.StringSlice("event.tags", []string{"x"})}
			pctx, parent := tracer.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(t0),
				trace.WithAttributes(everyType...), trace.WithLinks(trace.Link{SpanContext: linked, Attributes: linkAttrs}))
			parent.AddEvent("cache.miss", trace.WithTimestamp(t0.Add(time.Millisecond)), trace.WithAttributes(eventAttrs...))
			_, child := tracer.Start(pctx, "SELECT items", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(t0.Add(2*time.Millisecond)))
			child.SetStatus(otelcodes.Ok, "")
			child.End(trace.WithTimestamp(t0.Add(5 * time.Millisecond)))
			parent.SetStatus(otelcodes.Error, "payment declined")
			parent.End(trace.WithTimestamp(t0.Add(10 * time.Millisecond)))
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatalf("export: %v", err)
			}

			traceID := parent.SpanContext().TraceID()
			code, body := r.get(t, "/api/otlpd/traces/"+traceID.String())
			if code != 200 {
				t.Fatalf("GET trace: %d %s", code, body)
			}
			td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
			if err != nil {
				t.Fatalf("decode trace JSON: %v", err)
			}
			spans := map[string]ptrace.Span{}
			for i := 0; i < td.ResourceSpans().Len(); i++ {
				rs := td.ResourceSpans().At(i)
				checkEqual(t, "resource schema_url", rs.SchemaUrl(), schemaURL)
				checkAttrs(t, "resource", rs.Resource().Attributes(), resAttrs)
				for j := 0; j < rs.ScopeSpans().Len(); j++ {
					ss := rs.ScopeSpans().At(j)
					checkEqual(t, "scope name", ss.Scope().Name(), "e2e/tracer")
					checkEqual(t, "scope version", ss.Scope().Version(), "0.9.1")
					checkEqual(t, "scope schema_url", ss.SchemaUrl(), schemaURL)
					checkAttrs(t, "scope", ss.Scope().Attributes(), scopeAttrs)
					for k := 0; k < ss.Spans().Len(); k++ {
						s := ss.Spans().At(k)
						spans[s.Name()] = s
					}
				}
			}
			if len(spans) != 2 {
				t.Fatalf("got spans %v, want 2", spans)
			}
			p, c := spans["GET /checkout"], spans["SELECT items"]
			checkEqual(t, "parent trace id", p.TraceID(), pcommon.TraceID(traceID))
			checkEqual(t, "parent span id", p.SpanID(), pcommon.SpanID(parent.SpanContext().SpanID()))
			checkEqual(t, "parent parent_span_id", p.ParentSpanID().IsEmpty(), true)
			checkEqual(t, "parent kind", p.Kind(), ptrace.SpanKindServer)
			checkEqual(t, "parent start", p.StartTimestamp().AsTime(), t0.UTC())
			checkEqual(t, "parent end", p.EndTimestamp().AsTime(), t0.Add(10*time.Millisecond).UTC())
			checkEqual(t, "parent status", p.Status().Code(), ptrace.StatusCodeError)
			checkEqual(t, "parent status message", p.Status().Message(), "payment declined")
			checkEqual(t, "parent flags", p.Flags()&0xff, uint32(trace.FlagsSampled))
			checkAttrs(t, "parent", p.Attributes(), everyType)
			if p.Events().Len() != 1 {
				t.Fatalf("%d events", p.Events().Len())
			}
			ev := p.Events().At(0)
			checkEqual(t, "event name", ev.Name(), "cache.miss")
			checkEqual(t, "event time", ev.Timestamp().AsTime(), t0.Add(time.Millisecond).UTC())
			checkAttrs(t, "event", ev.Attributes(), eventAttrs)
			if p.Links().Len() != 1 {
				t.Fatalf("%d links", p.Links().Len())
			}
			l := p.Links().At(0)
			checkEqual(t, "link trace id", l.TraceID(), pcommon.TraceID(linked.TraceID()))
			checkEqual(t, "link span id", l.SpanID(), pcommon.SpanID(linked.SpanID()))
			// The Go SDK does not export a link's trace_state; the OTLP/JSON test covers it.
			checkAttrs(t, "link", l.Attributes(), linkAttrs)

			checkEqual(t, "child parent_span_id", c.ParentSpanID(), p.SpanID())
			checkEqual(t, "child trace id", c.TraceID(), p.TraceID())
			checkEqual(t, "child kind", c.Kind(), ptrace.SpanKindClient)
			checkEqual(t, "child status", c.Status().Code(), ptrace.StatusCodeOk)
			checkEqual(t, "child end", c.EndTimestamp().AsTime(), t0.Add(5*time.Millisecond).UTC())

			code, body = r.get(t, "/api/otlpd/services")
			var svc struct{ Services []string }
			if err := json.Unmarshal(body, &svc); code != 200 || err != nil || !reflect.DeepEqual(svc.Services, []string{service}) {
				t.Errorf("services: %d %s", code, body)
			}
		})
	}
}

func TestSDKMetrics(t *testing.T) {
	for _, transport := range []string{"grpc", "http"} {
		t.Run(transport, func(t *testing.T) {
			r := start(t, Options{}, func(c *config.Config) { c.Engine.OTLPMetrics = true }) // read back as sent
			ctx := context.Background()
			var exp sdkmetric.Exporter
			var err error
			if transport == "grpc" {
				exp, err = otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(r.GRPCAddr().String()), otlpmetricgrpc.WithInsecure())
			} else {
				exp, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(r.HTTPAddr().String()), otlpmetrichttp.WithInsecure(),
					otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression),
					otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }))
			}
			if err != nil {
				t.Fatal(err)
			}
			res, resAttrs := testResource(t, "e2e-metrics-"+transport)
			// The reader exports only when flushed below.
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
			meter := mp.Meter("e2e/meter", metric.WithInstrumentationVersion("2.0.0"))
			counter, _ := meter.Int64Counter("orders.placed", metric.WithUnit("{order}"), metric.WithDescription("orders placed"))
			hist, _ := meter.Float64Histogram("request.duration", metric.WithUnit("ms"), metric.WithExplicitBucketBoundaries(1, 10, 100))
			gauge, _ := meter.Float64Gauge("queue.depth")
			pointAttrs := []attribute.KeyValue{attribute.String("http.route", "/checkout"), attribute.Int64("http.response.status_code", 200)}
			counter.Add(ctx, 3, metric.WithAttributes(pointAttrs...))
			counter.Add(ctx, 4, metric.WithAttributes(pointAttrs...))
			for _, v := range []float64{0.5, 5, 50, 500} {
				hist.Record(ctx, v, metric.WithAttributes(pointAttrs...))
			}
			gauge.Record(ctx, 17.5)
			if err := mp.Shutdown(ctx); err != nil {
				t.Fatalf("export: %v", err)
			}

			code, body := r.get(t, "/api/otlpd/metrics")
			var names struct{ Metrics []string }
			if err := json.Unmarshal(body, &names); code != 200 || err != nil ||
				!reflect.DeepEqual(names.Metrics, []string{"orders.placed", "queue.depth", "request.duration"}) {
				t.Fatalf("metric names: %d %s", code, body)
			}
			wantTemporality := pmetric.AggregationTemporalityCumulative
			if transport == "http" {
				wantTemporality = pmetric.AggregationTemporalityDelta
			}
			points := func(name string) pmetric.Metric {
				t.Helper()
				code, body := r.get(t, "/api/otlpd/metrics/"+url.PathEscape(name))
				if code != 200 {
					t.Fatalf("GET %s: %d %s", name, code, body)
				}
				md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(body)
				if err != nil || md.ResourceMetrics().Len() != 1 {
					t.Fatalf("decode %s: %v (%s)", name, err, body)
				}
				rm := md.ResourceMetrics().At(0)
				checkAttrs(t, name+" resource", rm.Resource().Attributes(), resAttrs)
				sm := rm.ScopeMetrics().At(0)
				checkEqual(t, name+" scope", sm.Scope().Name(), "e2e/meter")
				checkEqual(t, name+" scope version", sm.Scope().Version(), "2.0.0")
				return sm.Metrics().At(0)
			}

			m := points("orders.placed")
			checkEqual(t, "counter unit", m.Unit(), "{order}")
			checkEqual(t, "counter description", m.Description(), "orders placed")
			checkEqual(t, "counter type", m.Type(), pmetric.MetricTypeSum)
			checkEqual(t, "counter monotonic", m.Sum().IsMonotonic(), true)
			checkEqual(t, "counter temporality", m.Sum().AggregationTemporality(), wantTemporality)
			checkEqual(t, "counter points", m.Sum().DataPoints().Len(), 1)
			dp := m.Sum().DataPoints().At(0)
			checkEqual(t, "counter value", dp.IntValue(), int64(7))
			checkEqual(t, "counter value type", dp.ValueType(), pmetric.NumberDataPointValueTypeInt)
			checkAttrs(t, "counter point", dp.Attributes(), pointAttrs)
			if dp.Timestamp() == 0 || dp.StartTimestamp() == 0 || dp.StartTimestamp() > dp.Timestamp() {
				t.Errorf("counter times start %d time %d", dp.StartTimestamp(), dp.Timestamp())
			}

			m = points("request.duration")
			checkEqual(t, "histogram unit", m.Unit(), "ms")
			checkEqual(t, "histogram type", m.Type(), pmetric.MetricTypeHistogram)
			checkEqual(t, "histogram temporality", m.Histogram().AggregationTemporality(), wantTemporality)
			hp := m.Histogram().DataPoints().At(0)
			checkEqual(t, "histogram count", hp.Count(), uint64(4))
			checkEqual(t, "histogram sum", hp.Sum(), 555.5)
			checkEqual(t, "histogram min", hp.Min(), 0.5)
			checkEqual(t, "histogram max", hp.Max(), 500.0)
			checkEqual(t, "histogram bounds", fmt.Sprint(hp.ExplicitBounds().AsRaw()), "[1 10 100]")
			checkEqual(t, "histogram buckets", fmt.Sprint(hp.BucketCounts().AsRaw()), "[1 1 1 1]")
			checkAttrs(t, "histogram point", hp.Attributes(), pointAttrs)

			m = points("queue.depth")
			checkEqual(t, "gauge type", m.Type(), pmetric.MetricTypeGauge)
			gp := m.Gauge().DataPoints().At(0)
			checkEqual(t, "gauge value", gp.DoubleValue(), 17.5)
			checkEqual(t, "gauge attributes", gp.Attributes().Len(), 0)
		})
	}
}

func TestSDKLogs(t *testing.T) {
	for _, transport := range []string{"grpc", "http"} {
		t.Run(transport, func(t *testing.T) {
			r := start(t, Options{}, nil)
			ctx := context.Background()
			var exp sdklog.Exporter
			var err error
			if transport == "grpc" {
				exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(r.GRPCAddr().String()), otlploggrpc.WithInsecure(),
					otlploggrpc.WithCompressor("gzip"))
			} else {
				exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpoint(r.HTTPAddr().String()), otlploghttp.WithInsecure(),
					otlploghttp.WithCompression(otlploghttp.GzipCompression))
			}
			if err != nil {
				t.Fatal(err)
			}
			service := "e2e-logs-" + transport
			res, resAttrs := testResource(t, service)
			lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
			logger := lp.Logger("e2e/logger", otellog.WithInstrumentationVersion("3.1.0"), otellog.WithSchemaURL(schemaURL))

			sc := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    trace.TraceID{0xc1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
				SpanID:     trace.SpanID{0xd1, 2, 3, 4, 5, 6, 7, 8},
				TraceFlags: trace.FlagsSampled,
			})
			spanCtx := trace.ContextWithSpanContext(ctx, sc)
			t0 := time.Unix(1_700_000_100, 5)
			body := attribute.MapValue(attribute.String("msg", "order placed"), attribute.Int64("items", 3),
				attribute.Slice("tags", attribute.StringValue("a"), attribute.BoolValue(true)))

			var first otellog.Record
			first.SetTimestamp(t0)
			first.SetObservedTimestamp(t0.Add(time.Millisecond))
			first.SetSeverity(otellog.SeverityWarn2)
			first.SetSeverityText("WARN")
			first.SetBody(body)
			first.SetEventName("order.placed")
			first.AddAttributes(everyType...)
			logger.Emit(spanCtx, first)

			var second otellog.Record
			second.SetTimestamp(t0.Add(time.Second))
			second.SetSeverity(otellog.SeverityInfo)
			second.SetBody(attribute.StringValue("plain text"))
			logger.Emit(ctx, second)
			if err := lp.Shutdown(ctx); err != nil {
				t.Fatalf("export: %v", err)
			}

			code, out := r.get(t, "/api/otlpd/logs?limit=10&service="+service)
			if code != 200 {
				t.Fatalf("GET logs: %d %s", code, out)
			}
			ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(out)
			if err != nil {
				t.Fatalf("decode logs: %v", err)
			}
			var recs []plog.LogRecord
			for i := 0; i < ld.ResourceLogs().Len(); i++ {
				rl := ld.ResourceLogs().At(i)
				checkAttrs(t, "resource", rl.Resource().Attributes(), resAttrs)
				for j := 0; j < rl.ScopeLogs().Len(); j++ {
					sl := rl.ScopeLogs().At(j)
					checkEqual(t, "scope", sl.Scope().Name(), "e2e/logger")
					checkEqual(t, "scope version", sl.Scope().Version(), "3.1.0")
					for k := 0; k < sl.LogRecords().Len(); k++ {
						recs = append(recs, sl.LogRecords().At(k))
					}
				}
			}
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2", len(recs))
			}
			// Newest first.
			plain, rec := recs[0], recs[1]
			checkEqual(t, "newest body", plain.Body().Str(), "plain text")
			checkEqual(t, "newest severity", plain.SeverityNumber(), plog.SeverityNumberInfo)
			checkEqual(t, "newest trace id", plain.TraceID().IsEmpty(), true)

			checkEqual(t, "time", rec.Timestamp().AsTime(), t0.UTC())
			checkEqual(t, "observed time", rec.ObservedTimestamp().AsTime(), t0.Add(time.Millisecond).UTC())
			checkEqual(t, "severity", rec.SeverityNumber(), plog.SeverityNumberWarn2)
			checkEqual(t, "severity text", rec.SeverityText(), "WARN")
			checkEqual(t, "event name", rec.EventName(), "order.placed")
			checkEqual(t, "trace id", rec.TraceID(), pcommon.TraceID(sc.TraceID()))
			checkEqual(t, "span id", rec.SpanID(), pcommon.SpanID(sc.SpanID()))
			checkEqual(t, "flags", rec.Flags(), plog.LogRecordFlags(trace.FlagsSampled))
			if g, w := rec.Body().AsRaw(), rawValue(body); !reflect.DeepEqual(g, w) {
				t.Errorf("body %#v, want %#v", g, w)
			}
			checkAttrs(t, "record", rec.Attributes(), everyType)
		})
	}
}
