package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// rawMemory is the memory backend taking raw batches (storage.RawSpanWriter, RawLogWriter): it decodes them
// itself and counts what came raw.
type rawMemory struct {
	*memory.Store
	spans, records atomic.Int64
}

var (
	_ storage.RawSpanWriter = (*rawMemory)(nil)
	_ storage.RawLogWriter  = (*rawMemory)(nil)
)

func (m *rawMemory) WriteSpansRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		return err
	}
	if idx != nil && td.SpanCount() != len(idx.Items) {
		panic("BUG: span count differs from the batch's")
	}
	m.spans.Add(int64(td.SpanCount()))
	return m.WriteSpans(ctx, td)
}

func (m *rawMemory) WriteLogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil {
		return err
	}
	if idx != nil && ld.LogRecordCount() != len(idx.Items) {
		panic("BUG: record count differs from the batch's")
	}
	m.records.Add(int64(ld.LogRecordCount()))
	return m.WriteLogs(ctx, ld)
}

// TestRawIngest exports spans (gRPC) and logs (HTTP) with the SDK to a server whose backend takes raw
// batches: they reach it raw, can be read back, are timed, and feed span metrics.
func TestRawIngest(t *testing.T) {
	mem := &rawMemory{Store: memory.New(memory.Options{})}
	r := start(t, Options{Backend: mem}, func(c *config.Config) { c.SpanMetrics.Interval = config.Duration(100 * time.Millisecond) })
	ctx := context.Background()
	res := resource.NewSchemaless(semconv.ServiceName("raw-svc"))

	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(r.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(texp), sdktrace.WithResource(res))
	pctx, parent := tp.Tracer("t").Start(ctx, "GET /raw")
	_, child := tp.Tracer("t").Start(pctx, "child")
	child.End()
	parent.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	lexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(r.HTTPAddr().String()), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	var rec otellog.Record
	rec.SetBody(attribute.StringValue("raw record"))
	rec.SetTimestamp(time.Now())
	lp.Logger("l").Emit(ctx, rec)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	if got := mem.spans.Load(); got != 2 {
		t.Fatalf("backend got %d spans raw, want 2", got)
	}
	if got := mem.records.Load(); got != 1 {
		t.Fatalf("backend got %d log records raw, want 1", got)
	}
	code, body := r.get(t, "/api/otlpd/traces/"+parent.SpanContext().TraceID().String())
	if code != 200 {
		t.Fatalf("GET trace: %d %s", code, body)
	}
	if td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body); err != nil || td.SpanCount() != 2 {
		t.Fatalf("trace read back: %v", err)
	}
	fams := r.scrape(t)
	for _, signal := range []string{"traces", "logs"} {
		if n, ok := metricValue(fams, "otlpd_storage_write_duration_seconds", map[string]string{"store": "backend", "signal": signal}); !ok || n < 1 {
			t.Errorf("%s writes timed: %v (present %v), want some", signal, n, ok)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if v, ok := r.promValue(t, `sum(traces_span_metrics_calls_total{service_name="raw-svc"})`); ok && v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("span metrics did not count the raw spans")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countingObserver counts observations.
type countingObserver struct{ n int }

func (c *countingObserver) Observe(float64) { c.n++ }

// TestTimedRaw checks that a raw write is timed once, and that a consumer that cannot take raw batches is
// asked for pdata without a timing (the decoded write is timed instead).
func TestTimedRaw(t *testing.T) {
	ctx := context.Background()
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(spans(1, 3, 10))
	if err != nil {
		t.Fatal(err)
	}
	obs := &countingObserver{}
	rawBackend := timedTraces{backendWriter{&rawMemory{Store: memory.New(memory.Options{})}}, obs}
	if err := rawBackend.ConsumeTracesRaw(ctx, raw, nil); err != nil || obs.n != 1 {
		t.Fatalf("raw backend: err %v, %d timings; want nil and 1", err, obs.n)
	}
	obs.n = 0
	plain := timedTraces{backendWriter{memory.New(memory.Options{})}, obs}
	if err := plain.ConsumeTracesRaw(ctx, raw, nil); !errors.Is(err, errors.ErrUnsupported) || obs.n != 0 {
		t.Fatalf("memory backend: err %v, %d timings; want ErrUnsupported and none", err, obs.n)
	}
	lraw, err := (&plog.ProtoMarshaler{}).MarshalLogs(plog.NewLogs())
	if err != nil {
		t.Fatal(err)
	}
	if err := (timedLogs{backendWriter{memory.New(memory.Options{})}, obs}).ConsumeLogsRaw(ctx, lraw, nil); !errors.Is(err, errors.ErrUnsupported) || obs.n != 0 {
		t.Fatalf("memory backend logs: err %v, %d timings", err, obs.n)
	}
}
