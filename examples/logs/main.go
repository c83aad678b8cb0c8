// Command logs writes application logs with log/slog and ships them over OTLP through the otelslog bridge:
// each record keeps its slog level as the OpenTelemetry severity, and records logged with a context that holds
// a span carry that span's trace and span IDs, so a backend can show the logs of a trace. The same records
// also go to stderr as text, through slog's multi-handler.
//
//	go run ./examples/logs -endpoint 127.0.0.1:4317
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// LevelNotice sits between Info and Warn; the bridge maps it to severity INFO3 (11).
const LevelNotice = slog.Level(2)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *endpoint, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, endpoint string, console *os.File) (err error) {
	res := resource.NewSchemaless(attribute.String("service.name", "payments"))
	lexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure())
	if err != nil {
		return fmt.Errorf("log exporter: %w", err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)))
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return fmt.Errorf("trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp))
	defer func() {
		err = errors.Join(err, tp.Shutdown(context.WithoutCancel(ctx)), lp.Shutdown(context.WithoutCancel(ctx)))
	}()

	// One logger, two destinations: OTLP (every level) and the console (Info and above).
	otlpHandler := otelslog.NewHandler("examples/logs", otelslog.WithLoggerProvider(lp))
	consoleHandler := slog.NewTextHandler(console, &slog.HandlerOptions{Level: slog.LevelInfo})
	logger := slog.New(slog.NewMultiHandler(otlpHandler, consoleHandler))

	logger.DebugContext(ctx, "service starting", "version", "1.4.2") // no span: not correlated
	return charge(ctx, tp.Tracer("examples/logs"), logger, "order-17", 4999)
}

// charge logs at each level inside a span; the *Context variants hand the span to the bridge.
func charge(ctx context.Context, tracer trace.Tracer, logger *slog.Logger, order string, cents int) error {
	ctx, span := tracer.Start(ctx, "charge", trace.WithAttributes(attribute.String("order.id", order)))
	defer span.End()
	logger = logger.With("order.id", order)
	logger.InfoContext(ctx, "charging card", "amount.cents", cents)
	logger.Log(ctx, LevelNotice, "card issuer is slow", "issuer.latency_ms", 1800)
	logger.WarnContext(ctx, "retrying charge", "attempt", 2)
	err := errors.New("card declined")
	logger.ErrorContext(ctx, "charge failed", "error", err) // the bridge records an error as exception.*
	span.SetStatus(codes.Error, err.Error())
	return nil
}
