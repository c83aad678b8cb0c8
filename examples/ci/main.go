// Command ci is the application under test in otlpd's CI example: a checkout service whose integration test
// (TestCheckoutTelemetry) fails when the telemetry it is expected to produce does not reach the backend.
// Jenkinsfile and github-actions.yml start otlpd, run that test against it, and keep otlpd's log.
//
// The exporter reads the standard OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4317).
//
//	go run ./examples/ci -requests 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	requests := flag.Int("requests", 5, "checkouts to perform")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	traceIDs, err := run(ctx, *requests, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Join(traceIDs, "\n"))
}

// run performs n checkouts (the last one with a declined card), flushes the telemetry and returns the
// checkouts' trace IDs. opts configure the exporter; with none it follows the OTEL_EXPORTER_OTLP_* environment
// variables.
func run(ctx context.Context, n int, opts []otlptracegrpc.Option) (traceIDs []string, err error) {
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))),
		sdktrace.WithBatcher(exp))
	defer func() { err = errors.Join(err, tp.Shutdown(context.WithoutCancel(ctx))) }()
	tracer := tp.Tracer("examples/ci")

	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("http.route", "/checkout"))
		card, _ := io.ReadAll(io.LimitReader(r.Body, 64))
		_, reserve := tracer.Start(r.Context(), "reserve stock")
		reserve.End()
		_, charge := tracer.Start(r.Context(), "charge card", trace.WithAttributes(attribute.String("payment.provider", "acmepay")))
		defer charge.End()
		if strings.HasPrefix(string(card), "4000") {
			charge.SetStatus(codes.Error, "card declined")
			http.Error(w, "card declined", http.StatusPaymentRequired)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	prop := propagation.TraceContext{}
	srv := &http.Server{
		Handler:           otelhttp.NewHandler(mux, "checkout", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop)),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()

	for i := range n {
		card := "4242424242424242"
		if i == n-1 {
			card = "4000000000000002"
		}
		// The caller's span roots the trace; its ID is what the integration test looks up in otlpd.
		cctx, span := tracer.Start(ctx, "place order", trace.WithSpanKind(trace.SpanKindClient))
		req, _ := http.NewRequestWithContext(cctx, http.MethodPost, "http://"+lis.Addr().String()+"/checkout", strings.NewReader(card))
		prop.Inject(cctx, propagation.HeaderCarrier(req.Header))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			span.End()
			return nil, fmt.Errorf("checkout %d: %w", i, err)
		}
		resp.Body.Close()
		span.End()
		traceIDs = append(traceIDs, span.SpanContext().TraceID().String())
	}
	return traceIDs, nil
}
