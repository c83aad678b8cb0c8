// Command wsnotify is a realtime notification service on github.com/gorilla/websocket, instrumented with
// otlpd's gorillaws package. Subscribers hold a WebSocket open; a POST /notify pushes a notification to a
// user's subscribers inside the POST's trace (the envelope carries it), so the trace runs from the publisher's
// HTTP call to the subscriber's handling. Subscribers ping the server to measure round-trip time.
//
//	go run ./examples/wsnotify -endpoint 127.0.0.1:4317 -addr 127.0.0.1:8082         # serve
//	go run ./examples/wsnotify -endpoint 127.0.0.1:4317 -addr 127.0.0.1:0 -demo      # serve, subscribe, publish, exit
package main

import (
	"bytes"
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
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/instrument/websocket/gorillaws"
	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

type config struct {
	endpoint string // OTLP/gRPC host:port
	addr     string // listen address
	demo     bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8082", "listen address")
	flag.BoolVar(&cfg.demo, "demo", false, "subscribe, publish two notifications, then exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}

// notification is the payload inside the envelope and the POST /notify body.
type notification struct {
	User string `json:"user"`
	Text string `json:"text"`
}

type providers struct {
	tp   *sdktrace.TracerProvider
	mp   *sdkmetric.MeterProvider
	prop propagation.TextMapPropagator
	in   *wsotel.Instrumentation
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
		tp:   sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp)),
		mp:   sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp))),
		prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	p.in, err = wsotel.New(wsotel.Options{TracerProvider: p.tp, MeterProvider: p.mp, Propagator: p.prop})
	return p, err
}

func (p *providers) shutdown(ctx context.Context) error {
	return errors.Join(p.tp.Shutdown(ctx), p.mp.Shutdown(ctx))
}

// notifier keeps each user's subscriptions.
type notifier struct {
	in       *wsotel.Instrumentation
	upgrader websocket.Upgrader
	mu       sync.Mutex
	subs     map[string]map[*gorillaws.Conn]bool
	wg       sync.WaitGroup
	writeMu  sync.Map // *gorillaws.Conn -> *sync.Mutex: gorilla allows one writer at a time
}

func (n *notifier) subscribe(w http.ResponseWriter, r *http.Request) {
	n.wg.Add(1)
	defer n.wg.Done()
	user := r.URL.Query().Get("user")
	c, err := gorillaws.Upgrade(w, r, &n.upgrader, nil, n.in)
	if err != nil {
		return
	}
	n.mu.Lock()
	if n.subs[user] == nil {
		n.subs[user] = map[*gorillaws.Conn]bool{}
	}
	n.subs[user][c] = true
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.subs[user], c)
		n.mu.Unlock()
		_ = c.Unwrap().Close()
	}()
	for { // subscribers send nothing; reading handles pings, pongs and the close
		if _, _, _, err := c.ReadMessage(r.Context()); err != nil {
			return
		}
	}
}

func (n *notifier) lock(c *gorillaws.Conn) func() {
	m, _ := n.writeMu.LoadOrStore(c, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (n *notifier) notify(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	var note notification
	if err == nil {
		err = json.Unmarshal(body, &note)
	}
	if err != nil || note.User == "" {
		http.Error(w, "body must be {\"user\":…,\"text\":…}", http.StatusBadRequest)
		return
	}
	n.mu.Lock()
	var conns []*gorillaws.Conn
	for c := range n.subs[note.User] {
		conns = append(conns, c)
	}
	n.mu.Unlock()
	delivered := 0
	for _, c := range conns {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		unlock := n.lock(c)
		if c.WriteEnvelope(ctx, body) == nil { // ws.send is a child of this POST's server span
			delivered++
		}
		unlock()
		cancel()
	}
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("notify.user", note.User), attribute.Int("notify.delivered", delivered))
	w.WriteHeader(http.StatusAccepted)
	_, _ = fmt.Fprintf(w, `{"delivered":%d}`, delivered)
}

// closeAll tells every subscriber the server is going away (1001).
func (n *notifier) closeAll() {
	n.mu.Lock()
	var all []*gorillaws.Conn
	for _, m := range n.subs {
		for c := range m {
			all = append(all, c)
		}
	}
	n.mu.Unlock()
	for _, c := range all {
		unlock := n.lock(c)
		_ = c.Close(websocket.CloseGoingAway, "server shutting down")
		unlock()
	}
	n.wg.Wait()
}

func run(ctx context.Context, cfg config) (err error) {
	server, err := newProviders(ctx, cfg.endpoint, "notifier")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, server.shutdown(context.WithoutCancel(ctx))) }()
	n := &notifier{in: server.in, subs: map[string]map[*gorillaws.Conn]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /subscribe", n.subscribe)
	mux.Handle("POST /notify", otelhttp.NewHandler(http.HandlerFunc(n.notify), "POST /notify",
		otelhttp.WithTracerProvider(server.tp), otelhttp.WithMeterProvider(server.mp), otelhttp.WithPropagators(server.prop)))
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer func() {
		n.closeAll()
		_ = srv.Close()
	}()
	base := lis.Addr().String()
	if !cfg.demo {
		log.Printf("subscribe at ws://%s/subscribe?user=NAME, publish with POST http://%s/notify", base, base)
		<-ctx.Done()
		return nil
	}
	client, err := newProviders(ctx, cfg.endpoint, "notify-client")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, client.shutdown(context.WithoutCancel(ctx))) }()
	return demo(ctx, client, base, n.closeAll)
}

// demo subscribes as ada, pings, publishes two notifications for her, then shuts the server's side down and
// waits for the subscriber to see the 1001 close.
func demo(ctx context.Context, p *providers, base string, shutdown func()) error {
	tracer := p.tp.Tracer("examples/wsnotify")
	sub, _, err := gorillaws.Dial(ctx, nil, "ws://"+base+"/subscribe?user=ada", nil, p.in)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	got := make(chan notification)
	closed := make(chan error, 1)
	go func() {
		for {
			rctx, data, err := sub.ReadEnvelope(ctx)
			if err != nil {
				closed <- err
				return
			}
			_, span := tracer.Start(rctx, "notification.handle")
			var note notification
			_ = json.Unmarshal(data, &note)
			span.SetAttributes(attribute.String("notify.text", note.Text))
			span.End()
			got <- note
		}
	}()
	if err := sub.Ping(ctx); err != nil {
		return err
	}

	httpc := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(p.tp), otelhttp.WithMeterProvider(p.mp), otelhttp.WithPropagators(p.prop))}
	for _, text := range []string{"build finished", "deploy started"} {
		pctx, span := tracer.Start(ctx, "publish")
		body, _ := json.Marshal(notification{User: "ada", Text: text})
		req, _ := http.NewRequestWithContext(pctx, http.MethodPost, "http://"+base+"/notify", bytes.NewReader(body))
		resp, err := httpc.Do(req)
		if err != nil {
			span.End()
			return fmt.Errorf("publish: %w", err)
		}
		resp.Body.Close()
		span.End()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("publish: status %d", resp.StatusCode)
		}
		select {
		case <-got:
		case err := <-closed:
			return fmt.Errorf("subscription ended early: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	shutdown()
	var ce *websocket.CloseError
	if err := <-closed; !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		return fmt.Errorf("subscriber saw %v, want close 1001", err)
	}
	return nil
}
