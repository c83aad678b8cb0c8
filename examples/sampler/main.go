// Command sampler keeps every error and 1% of everything else. Head sampling decides when a span starts,
// before anyone knows whether it will fail, so the policy has two parts:
//
//   - KeepErrors, a Sampler: 1% of traces (by trace ID, compatible with TraceIDRatioBased) are sampled; the
//     rest are still recorded (RecordOnly) so their status can be inspected when they end.
//   - ErrorRescuer, a SpanProcessor in front of the exporter's batcher: an unsampled span that ended with
//     status Error is exported anyway, marked with sampling.rescued=true.
//
// A rescued error span's unsampled ancestors are not exported (that needs tail sampling, which buffers whole
// traces). Recording every span costs memory and CPU even when few are exported; measure before using this at
// very high span rates.
//
//	go run ./examples/sampler -endpoint 127.0.0.1:4317 -ops 1000
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// KeepErrors samples Ratio of root traces by trace ID and records the rest without sampling them. Children
// follow their parent's sampled flag.
type KeepErrors struct {
	ratio float64
	bound uint64
}

// NewKeepErrors returns the sampler for ratio in [0, 1].
func NewKeepErrors(ratio float64) KeepErrors {
	return KeepErrors{ratio: ratio, bound: uint64(ratio * (1 << 63))}
}

// ShouldSample implements sdktrace.Sampler.
func (k KeepErrors) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	psc := trace.SpanContextFromContext(p.ParentContext)
	res := sdktrace.SamplingResult{Decision: sdktrace.RecordOnly, Tracestate: psc.TraceState()}
	switch {
	case psc.IsValid():
		if psc.IsSampled() {
			res.Decision = sdktrace.RecordAndSample
		}
	case binary.BigEndian.Uint64(p.TraceID[8:16])>>1 < k.bound: // the same rule as TraceIDRatioBased
		res.Decision = sdktrace.RecordAndSample
	}
	return res
}

// Description implements sdktrace.Sampler.
func (k KeepErrors) Description() string { return fmt.Sprintf("KeepErrors{ratio=%g}", k.ratio) }

// ErrorRescuer forwards sampled spans to Next, and unsampled spans that ended with an error too, marked as
// sampled so that Next (a batch span processor) exports them.
type ErrorRescuer struct{ Next sdktrace.SpanProcessor }

func (e ErrorRescuer) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { e.Next.OnStart(ctx, s) }

func (e ErrorRescuer) OnEnd(s sdktrace.ReadOnlySpan) {
	switch {
	case s.SpanContext().IsSampled():
		e.Next.OnEnd(s)
	case s.Status().Code == codes.Error:
		e.Next.OnEnd(rescued{s})
	}
}

func (e ErrorRescuer) Shutdown(ctx context.Context) error   { return e.Next.Shutdown(ctx) }
func (e ErrorRescuer) ForceFlush(ctx context.Context) error { return e.Next.ForceFlush(ctx) }

// rescued presents an unsampled span as sampled, with an attribute saying why it was kept.
type rescued struct{ sdktrace.ReadOnlySpan }

func (r rescued) SpanContext() trace.SpanContext {
	sc := r.ReadOnlySpan.SpanContext()
	return sc.WithTraceFlags(sc.TraceFlags().WithSampled(true))
}

func (r rescued) Attributes() []attribute.KeyValue {
	return append(r.ReadOnlySpan.Attributes(), attribute.Bool("sampling.rescued", true))
}

type config struct {
	endpoint string
	ops      int                  // operations to run; every 25th fails
	ratio    float64              // fraction of traces sampled
	ids      sdktrace.IDGenerator // nil: the SDK's random IDs
}

func main() {
	cfg := config{ratio: 0.01}
	flag.StringVar(&cfg.endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.IntVar(&cfg.ops, "ops", 1000, "operations to run (every 25th fails)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, cfg config) (err error) {
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(cfg.endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return fmt.Errorf("trace exporter: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "sampled-service"))),
		sdktrace.WithSampler(NewKeepErrors(cfg.ratio)),
		sdktrace.WithSpanProcessor(ErrorRescuer{Next: sdktrace.NewBatchSpanProcessor(exp)}),
	}
	if cfg.ids != nil {
		opts = append(opts, sdktrace.WithIDGenerator(cfg.ids))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	defer func() { err = errors.Join(err, tp.Shutdown(context.WithoutCancel(ctx))) }()
	tracer := tp.Tracer("examples/sampler")
	for i := range cfg.ops {
		octx, op := tracer.Start(ctx, "op", trace.WithAttributes(attribute.Int("op.index", i)))
		_, q := tracer.Start(octx, "db.query")
		q.End()
		if i%25 == 0 {
			op.SetStatus(codes.Error, "payment declined")
		}
		op.End()
	}
	return nil
}
