// Command httpservice is an HTTP service with RED telemetry: every request gets a server span (named by its
// route) and lands in the http.server.request.duration histogram, whose count is the Rate, whose points with
// a 5xx http.response.status_code are the Errors and whose buckets are the Duration. An outgoing call to a
// downstream service gets a client span and the trace context travels in its headers.
//
//	go run ./examples/httpservice -endpoint 127.0.0.1:4317 -addr 127.0.0.1:8080
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

type config struct {
	endpoint string // OTLP/gRPC host:port
	addr     string // listen address
	requests int    // synthetic requests to send to itself; 0 serves until interrupted
}

func main() {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address")
	flag.IntVar(&cfg.requests, "requests", 0, "send this many synthetic requests, then exit (0: serve until interrupted)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}

type telemetry struct {
	tp   *sdktrace.TracerProvider
	mp   *sdkmetric.MeterProvider
	prop propagation.TextMapPropagator
}

func setup(ctx context.Context, endpoint string) (*telemetry, error) {
	res := resource.NewSchemaless(attribute.String("service.name", "orders"))
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("trace exporter: %w", err)
	}
	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("metric exporter: %w", err)
	}
	return &telemetry{
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp, sdkmetric.WithInterval(10*time.Second)))),
		prop: propagation.TraceContext{},
	}, nil
}

func (t *telemetry) shutdown(ctx context.Context) error {
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}

func run(ctx context.Context, cfg config) (err error) {
	tel, err := setup(ctx, cfg.endpoint)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tel.shutdown(context.WithoutCancel(ctx))) }()

	// The "inventory" downstream lives in the same process to keep the example to one binary.
	inventory := http.NewServeMux()
	inventory.HandleFunc("GET /stock/{sku}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"in_stock":3}`)
	})

	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := "http://" + lis.Addr().String()
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp), otelhttp.WithPropagators(tel.prop))}

	mux := http.NewServeMux()
	mux.Handle("/inventory/", http.StripPrefix("/inventory", inventory))
	mux.Handle("GET /orders/{id}", routed(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id > 100 {
			http.Error(w, "no such order", http.StatusNotFound)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, base+"/inventory/stock/sku-"+r.PathValue("id"), nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, "inventory unavailable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var stock struct {
			InStock int `json:"in_stock"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&stock)
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.Int("order.id", id))
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "in_stock": stock.InStock})
	}))
	mux.Handle("POST /orders", routed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "order service is read-only today", http.StatusInternalServerError)
	}))

	// otelhttp names each span after the ServeMux pattern that matched; routed adds http.route.
	handler := otelhttp.NewHandler(mux, "orders",
		otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp), otelhttp.WithPropagators(tel.prop))
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	defer srv.Close()

	if cfg.requests == 0 {
		log.Printf("serving on %s", base)
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		}
	}
	return traffic(ctx, &http.Client{}, base, cfg.requests)
}

// routed records the matched ServeMux route as http.route on the server span and on the request metrics.
// The route is known only once the mux has matched, after otelhttp started the span, so it is added here.
func routed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.Pattern
		if i := strings.IndexByte(route, ' '); i >= 0 {
			route = route[i+1:] // "GET /orders/{id}" -> "/orders/{id}"
		}
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("http.route", route))
		if l, ok := otelhttp.LabelerFromContext(r.Context()); ok {
			l.Add(attribute.String("http.route", route))
		}
		h(w, r)
	})
}

// traffic sends a mix of successful, not-found and failing requests.
func traffic(ctx context.Context, c *http.Client, base string, n int) error {
	for i := range n {
		method, path := http.MethodGet, "/orders/"+strconv.Itoa(i+1)
		switch i % 5 {
		case 3:
			path = "/orders/999"
		case 4:
			method, path = http.MethodPost, "/orders"
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}
