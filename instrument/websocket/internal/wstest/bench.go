package wstest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

// discard is a span processor that drops ended spans, so benchmarks measure span creation, attributes and
// ending in the SDK without an exporter's cost or unbounded memory.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// BenchInstrumentations returns the two instrumented variants the send benchmarks compare against the bare
// library, both on SDK providers as in an application: "sampled-in" (every message gets a recorded ws.send
// span) and "sampled-out" (ratio 1% with a Rand that always says no, so only the metrics are recorded).
func BenchInstrumentations(b *testing.B) map[string]*wsotel.Instrumentation {
	b.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	in, err := wsotel.New(wsotel.Options{TracerProvider: tp, MeterProvider: mp, Propagator: prop})
	if err != nil {
		b.Fatal(err)
	}
	out, err := wsotel.New(wsotel.Options{TracerProvider: tp, MeterProvider: mp, Propagator: prop,
		MessageSampleRatio: 0.01, Rand: func() uint64 { return ^uint64(0) }})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]*wsotel.Instrumentation{"sampled-in": in, "sampled-out": out}
}
