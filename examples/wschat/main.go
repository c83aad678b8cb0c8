// Command wschat is a WebSocket chat server instrumented with otlpd's coderws package
// (github.com/coder/websocket): handshakes, connections and messages become spans, connection counts, message
// counts and sizes become metrics, and every chat message travels in an envelope that carries the sender's
// trace context, so one trace follows a message from the sender through the server to every reader.
//
//	go run ./examples/wschat -endpoint 127.0.0.1:4317 -addr 127.0.0.1:8081         # serve
//	go run ./examples/wschat -endpoint 127.0.0.1:4317 -addr 127.0.0.1:0 -demo      # serve, chat between two bots, exit
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/instrument/websocket/coderws"
	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

type config struct {
	endpoint string // OTLP/gRPC host:port
	addr     string // listen address
	demo     bool   // run two chatting clients, then exit
}

func main() {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8081", "listen address")
	flag.BoolVar(&cfg.demo, "demo", false, "run two chatting clients against the server, then exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}

// message is the application payload inside the envelope.
type message struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// providers is one service's tracer and meter provider.
type providers struct {
	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
	in *wsotel.Instrumentation
}

func newProviders(ctx context.Context, endpoint, service string) (*providers, error) {
	res := resource.NewSchemaless(attribute.String("service.name", service))
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("trace exporter: %w", err)
	}
	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("metric exporter: %w", err)
	}
	p := &providers{
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp))),
	}
	p.in, err = wsotel.New(wsotel.Options{
		TracerProvider: p.tp, MeterProvider: p.mp,
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	})
	return p, err
}

func (p *providers) shutdown(ctx context.Context) error {
	return errors.Join(p.tp.Shutdown(ctx), p.mp.Shutdown(ctx))
}

// hub relays every message to every other member.
type hub struct {
	in      *wsotel.Instrumentation
	mu      sync.Mutex
	members map[*coderws.Conn]string
	joined  chan struct{} // receives one value per join
	wg      sync.WaitGroup
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.wg.Add(1)
	defer h.wg.Done()
	name := r.URL.Query().Get("name")
	c, err := coderws.Accept(w, r, nil, h.in)
	if err != nil {
		return // the handshake failure is on the ws.handshake span
	}
	defer c.CloseNow()
	h.mu.Lock()
	h.members[c] = name
	h.mu.Unlock()
	select {
	case h.joined <- struct{}{}:
	default:
	}
	defer func() {
		h.mu.Lock()
		delete(h.members, c)
		h.mu.Unlock()
	}()
	for {
		ctx, data, err := c.ReadEnvelope(r.Context())
		var ee *wsotel.EnvelopeError
		switch {
		case errors.As(err, &ee):
			continue // recorded on the ws.receive span; ignore the bad message
		case err != nil:
			return // closed: recorded on ws.connection
		}
		h.broadcast(ctx, c, data)
	}
}

// broadcast sends data to every member except from. ctx continues the sender's trace, so each ws.send is a
// child of the server's ws.receive.
func (h *hub) broadcast(ctx context.Context, from *coderws.Conn, data []byte) {
	h.mu.Lock()
	targets := make([]*coderws.Conn, 0, len(h.members))
	for c := range h.members {
		if c != from {
			targets = append(targets, c)
		}
	}
	h.mu.Unlock()
	for _, c := range targets {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = c.WriteEnvelope(wctx, data) // a failed write ends that member's connection telemetry
		cancel()
	}
}

func run(ctx context.Context, cfg config) (err error) {
	server, err := newProviders(ctx, cfg.endpoint, "chat-server")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, server.shutdown(context.WithoutCancel(ctx))) }()
	h := &hub{in: server.in, members: map[*coderws.Conn]string{}, joined: make(chan struct{}, 16)}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/chat", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer func() {
		_ = srv.Close()
		h.wg.Wait() // every connection's telemetry has ended before the providers flush
	}()
	url := "ws://" + lis.Addr().String() + "/chat"
	if !cfg.demo {
		log.Printf("chat on %s?name=you", url)
		<-ctx.Done()
		return nil
	}
	clients, err := newProviders(ctx, cfg.endpoint, "chat-client")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, clients.shutdown(context.WithoutCancel(ctx))) }()
	return demo(ctx, clients, url, h.joined)
}

// demo: alice says hello, bob reads it and answers, alice reads the answer; both leave.
func demo(ctx context.Context, p *providers, url string, joined <-chan struct{}) error {
	tracer := p.tp.Tracer("examples/wschat")
	alice, _, err := coderws.Dial(ctx, url+"?name=alice", nil, p.in)
	if err != nil {
		return fmt.Errorf("alice dial: %w", err)
	}
	bob, _, err := coderws.Dial(ctx, url+"?name=bob", nil, p.in)
	if err != nil {
		return fmt.Errorf("bob dial: %w", err)
	}
	for range 2 {
		select {
		case <-joined:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := post(ctx, tracer, alice, "alice", "hi bob"); err != nil {
		return err
	}
	if _, err := display(ctx, tracer, bob); err != nil {
		return err
	}
	if err := post(ctx, tracer, bob, "bob", "hi alice"); err != nil {
		return err
	}
	if _, err := display(ctx, tracer, alice); err != nil {
		return err
	}
	return errors.Join(alice.Close(websocket.StatusNormalClosure, "bye"), bob.Close(websocket.StatusNormalClosure, "bye"))
}

func post(ctx context.Context, tracer trace.Tracer, c *coderws.Conn, from, text string) error {
	ctx, span := tracer.Start(ctx, "chat.post", trace.WithAttributes(attribute.String("chat.user", from)))
	defer span.End()
	data, _ := json.Marshal(message{From: from, Text: text})
	return c.WriteEnvelope(ctx, data)
}

func display(ctx context.Context, tracer trace.Tracer, c *coderws.Conn) (message, error) {
	rctx, data, err := c.ReadEnvelope(ctx)
	if err != nil {
		return message{}, fmt.Errorf("read chat message: %w", err)
	}
	_, span := tracer.Start(rctx, "chat.display") // continues the sender's trace
	defer span.End()
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode chat message: %w", err)
	}
	span.SetAttributes(attribute.String("chat.from", m.From))
	return m, nil
}
