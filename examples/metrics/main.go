// Command metrics records a small shop's telemetry with all six OpenTelemetry instrument kinds and exports it
// over OTLP/gRPC with delta or cumulative temporality. Histogram and counter measurements taken inside a
// sampled span carry exemplars that link the metric to the trace.
//
//	go run ./examples/metrics -endpoint 127.0.0.1:4317 -temporality delta
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

type config struct {
	endpoint    string // OTLP/gRPC host:port
	temporality string // "delta" or "cumulative"
}

func main() {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.StringVar(&cfg.temporality, "temporality", "cumulative", "sum and histogram temporality: delta or cumulative")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, cfg config) (err error) {
	var selector sdkmetric.TemporalitySelector
	switch cfg.temporality {
	case "delta":
		// Delta for counters and histograms; up-down counters stay cumulative (a delta of a level is rarely useful).
		selector = sdkmetric.DeltaTemporalitySelector
	case "cumulative":
		selector = sdkmetric.CumulativeTemporalitySelector
	default:
		return fmt.Errorf("temporality %q: want delta or cumulative", cfg.temporality)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "shop"))

	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(cfg.endpoint), otlpmetricgrpc.WithInsecure(),
		otlpmetricgrpc.WithTemporalitySelector(selector))
	if err != nil {
		return fmt.Errorf("metric exporter: %w", err)
	}
	// A long interval: this program flushes explicitly after each phase so the exports are predictable.
	reader := sdkmetric.NewPeriodicReader(mexp, sdkmetric.WithInterval(time.Minute))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(reader))
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(cfg.endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return fmt.Errorf("trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp))
	defer func() {
		err = errors.Join(err, tp.Shutdown(context.WithoutCancel(ctx)), mp.Shutdown(context.WithoutCancel(ctx)))
	}()

	s, err := newShop(mp.Meter("examples/metrics"))
	if err != nil {
		return err
	}
	tracer := tp.Tracer("examples/metrics")
	// Two phases with a flush between them: with delta temporality the second export holds only phase two.
	for phase, orders := range []int{3, 2} {
		for i := range orders {
			octx, span := tracer.Start(ctx, "checkout")
			s.checkout(octx, "card", 0.05*float64(i+1), 2)
			span.End()
		}
		s.temperature.Record(ctx, 40+float64(phase), metric.WithAttributes(attribute.String("sensor", "rack-1")))
		if err := mp.ForceFlush(ctx); err != nil {
			return fmt.Errorf("flush metrics after phase %d: %w", phase+1, err)
		}
	}
	return nil
}

// shop holds one instrument of each kind.
type shop struct {
	orders      metric.Int64Counter       // Counter: monotonic, summed
	cartItems   metric.Int64UpDownCounter // UpDownCounter: goes up and down
	duration    metric.Float64Histogram   // Histogram: distribution, with exemplars
	temperature metric.Float64Gauge       // Gauge: the last value wins

	cpuMillis atomic.Int64 // read by the ObservableCounter
	queue     atomic.Int64 // read by the ObservableGauge
}

func newShop(m metric.Meter) (*shop, error) {
	s := &shop{}
	var err, e error
	s.orders, e = m.Int64Counter("shop.orders", metric.WithUnit("{order}"), metric.WithDescription("Orders placed."))
	err = errors.Join(err, e)
	s.cartItems, e = m.Int64UpDownCounter("shop.cart.items", metric.WithUnit("{item}"), metric.WithDescription("Items in open carts."))
	err = errors.Join(err, e)
	s.duration, e = m.Float64Histogram("shop.checkout.duration", metric.WithUnit("s"), metric.WithDescription("Checkout latency."),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.25, 0.5, 1))
	err = errors.Join(err, e)
	s.temperature, e = m.Float64Gauge("shop.rack.temperature", metric.WithUnit("Cel"), metric.WithDescription("Rack temperature."))
	err = errors.Join(err, e)
	// Observable instruments are read by callbacks at each collection.
	_, e = m.Int64ObservableCounter("shop.cpu.time", metric.WithUnit("ms"), metric.WithDescription("CPU time spent on checkouts."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(s.cpuMillis.Load())
			return nil
		}))
	err = errors.Join(err, e)
	_, e = m.Int64ObservableGauge("shop.queue.length", metric.WithUnit("{order}"), metric.WithDescription("Orders waiting for fulfilment."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(s.queue.Load(), metric.WithAttributes(attribute.String("queue", "fulfilment")))
			return nil
		}))
	err = errors.Join(err, e)
	if err != nil {
		return nil, fmt.Errorf("create instruments: %w", err)
	}
	return s, nil
}

// checkout records one order. ctx carries the checkout span, so the counter and histogram measurements get
// exemplars pointing at it (the SDK's default exemplar filter keeps measurements made in sampled spans).
func (s *shop) checkout(ctx context.Context, payment string, seconds float64, items int64) {
	attrs := metric.WithAttributes(attribute.String("payment.method", payment))
	s.cartItems.Add(ctx, items)
	s.orders.Add(ctx, 1, attrs)
	s.duration.Record(ctx, seconds, attrs)
	s.cartItems.Add(ctx, -items+1) // one item left behind in the cart
	s.cpuMillis.Add(int64(seconds * 1000))
	s.queue.Add(1)
}
