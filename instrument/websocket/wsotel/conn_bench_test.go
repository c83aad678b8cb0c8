package wsotel_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// BenchmarkSendTelemetry measures the instrumentation alone (no network) per sent message: the sampling
// decision, the metric updates and, when sampled in, an SDK span.
func BenchmarkSendTelemetry(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	for _, c := range []struct {
		name  string
		ratio float64
		rnd   func() uint64
	}{
		{"sampled-out", 0.01, func() uint64 { return ^uint64(0) }},
		{"sampled-in", 1, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			in, err := wsotel.New(wsotel.Options{TracerProvider: tp, MeterProvider: mp, Propagator: propagation.TraceContext{},
				MessageSampleRatio: c.ratio, Rand: c.rnd})
			if err != nil {
				b.Fatal(err)
			}
			conn := in.StartServerHandshake(httptest.NewRequest("GET", "http://example.com/ws", nil)).Accepted(wsotel.PeerInfo{})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				conn.Send(ctx, wsotel.Text, 128).End(nil)
			}
		})
	}
}
