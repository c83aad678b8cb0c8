// Command baggage runs two services, frontend and backend, in one process. The frontend puts the caller's
// user and tenant into W3C baggage; the baggage travels with the trace context in the HTTP headers to the
// backend, which reads it to make decisions and copies an allow-listed subset onto its spans with a span
// processor, so the backend's telemetry can be searched by tenant without the frontend passing it explicitly.
//
//	go run ./examples/baggage -endpoint 127.0.0.1:4317
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
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out, err := run(ctx, *endpoint, "ada", "acme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
}

// propagator carries trace context and baggage.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// BaggageAttributes is a span processor that copies allow-listed baggage members onto each span as it starts.
// Baggage is not copied wholesale: it may hold values (tokens, e-mail addresses) that must not be stored.
type BaggageAttributes struct{ Allow map[string]bool }

func (b BaggageAttributes) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	for _, m := range baggage.FromContext(ctx).Members() {
		if b.Allow[m.Key()] {
			s.SetAttributes(attribute.String(m.Key(), m.Value()))
		}
	}
}
func (BaggageAttributes) OnEnd(sdktrace.ReadOnlySpan)      {}
func (BaggageAttributes) Shutdown(context.Context) error   { return nil }
func (BaggageAttributes) ForceFlush(context.Context) error { return nil }

func provider(ctx context.Context, endpoint, service string, extra ...sdktrace.SpanProcessor) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("trace exporter: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
	}
	for _, p := range extra {
		opts = append(opts, sdktrace.WithSpanProcessor(p)) // before the batcher: attributes set in OnStart are exported
	}
	return sdktrace.NewTracerProvider(append(opts, sdktrace.WithBatcher(exp))...), nil
}

// run starts both services, sends one request as user/tenant and returns the backend's answer.
func run(ctx context.Context, endpoint, user, tenant string) (out string, err error) {
	frontTP, err := provider(ctx, endpoint, "frontend")
	if err != nil {
		return "", err
	}
	backTP, err := provider(ctx, endpoint, "backend", BaggageAttributes{Allow: map[string]bool{"user.id": true, "tenant.id": true}})
	if err != nil {
		return "", err
	}
	defer func() {
		err = errors.Join(err, frontTP.Shutdown(context.WithoutCancel(ctx)), backTP.Shutdown(context.WithoutCancel(ctx)))
	}()

	backend := otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The backend never got the tenant as a parameter: it arrives as baggage.
		bag := baggage.FromContext(r.Context())
		plan := "free"
		if bag.Member("tenant.id").Value() == "acme" {
			plan = "enterprise"
		}
		_, span := backTP.Tracer("examples/baggage").Start(r.Context(), "load plan")
		span.SetAttributes(attribute.String("plan", plan))
		span.End()
		_, _ = fmt.Fprintf(w, "user=%s tenant=%s plan=%s", bag.Member("user.id").Value(), bag.Member("tenant.id").Value(), plan)
	}), "backend", otelhttp.WithTracerProvider(backTP), otelhttp.WithPropagators(propagator))
	backURL, stopBack, err := serve(backend)
	if err != nil {
		return "", err
	}
	defer stopBack()

	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(frontTP), otelhttp.WithPropagators(propagator))}
	frontend := otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Who is calling is known here, at the edge; put it in baggage for everything downstream.
		u, _ := baggage.NewMember("user.id", r.Header.Get("X-User"))
		tn, _ := baggage.NewMember("tenant.id", r.Header.Get("X-Tenant"))
		secret, _ := baggage.NewMember("session.token", "never-store-me") // propagated, but not allow-listed
		bag, err := baggage.New(u, tn, secret)
		if err != nil {
			http.Error(w, "bad caller identity", http.StatusBadRequest)
			return
		}
		ctx := baggage.ContextWithBaggage(r.Context(), bag)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, backURL+"/plan", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, "backend unavailable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	}), "frontend", otelhttp.WithTracerProvider(frontTP), otelhttp.WithPropagators(propagator))
	frontURL, stopFront, err := serve(frontend)
	if err != nil {
		return "", err
	}
	defer stopFront()

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, frontURL+"/checkout", nil)
	req.Header.Set("X-User", user)
	req.Header.Set("X-Tenant", tenant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("call frontend: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("frontend answered %d %q: %v", resp.StatusCode, body, err)
	}
	return string(body), nil
}

func serve(h http.Handler) (string, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	return "http://" + lis.Addr().String(), func() { _ = srv.Close() }, nil
}
