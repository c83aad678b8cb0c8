package wstest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

// Conn is what the scenario needs from an adapter's connection.
type Conn interface {
	WriteEnvelope(ctx context.Context, data []byte) error
	ReadEnvelope(ctx context.Context) (context.Context, []byte, error)
	Write(ctx context.Context, binary bool, p []byte) error
	Read(ctx context.Context) (context.Context, bool, []byte, error)
	Ping(ctx context.Context) error
	Close(code int, reason string) error
}

// Driver adapts one WebSocket library.
type Driver struct {
	Upgrade func(w http.ResponseWriter, r *http.Request, in *wsotel.Instrumentation) (Conn, error)
	Dial    func(ctx context.Context, url string, in *wsotel.Instrumentation) (Conn, *http.Response, error)
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// Run runs every scenario as a subtest.
func Run(t *testing.T, d Driver) {
	t.Run("EchoPropagatesAndMeasures", func(t *testing.T) { echo(t, d) })
	t.Run("ServerCloseWithError", func(t *testing.T) { serverClose(t, d) })
	t.Run("HandshakeRejected", func(t *testing.T) { handshakeRejected(t, d) })
	t.Run("MessageSampling", func(t *testing.T) { sampling(t, d) })
	t.Run("MalformedEnvelope", func(t *testing.T) { malformed(t, d) })
	t.Run("WriteAfterCloseIsRecorded", func(t *testing.T) { writeAfterClose(t, d) })
}

// writeAfterClose: a failed write is an error on its ws.send span and is not counted as sent.
func writeAfterClose(t *testing.T, d Driver) {
	e := NewEnv(t, wsotel.Options{})
	ctx := ctxTimeout(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.Upgrade(w, r, e.In)
		if err != nil {
			return
		}
		for {
			if _, _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _, err := d.Dial(ctx, wsURL(srv, "/"), e.In)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, false, []byte("late")); err == nil {
		t.Fatal("write after close succeeded")
	}
	send := e.One(t, "ws.send", trace.SpanKindProducer, nil)
	if send.Status().Code.String() != "Error" {
		t.Errorf("failed write: ws.send status %v, want Error", send.Status())
	}
	recorded := false
	for _, ev := range send.Events() {
		recorded = recorded || ev.Name == "exception"
	}
	if !recorded {
		t.Errorf("failed write: no exception event on ws.send: %v", send.Events())
	}
	if v, ok := Sum(e.Collect(t), "ws.message.sent", map[string]string{"ws.role": "client"}); ok && v != 0 {
		t.Errorf("a failed write counted as sent: %d", v)
	}
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// echo: the server echoes an envelope and a binary message, the client pings and closes with 4001.
func echo(t *testing.T, d Driver) {
	e := NewEnv(t, wsotel.Options{})
	ctx := ctxTimeout(t)
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.Upgrade(w, r, e.In)
		if err != nil {
			done <- err
			return
		}
		done <- func() error {
			rctx, data, err := c.ReadEnvelope(r.Context())
			if err != nil {
				return err
			}
			if err := c.WriteEnvelope(rctx, data); err != nil {
				return err
			}
			rctx, bin, p, err := c.Read(r.Context())
			if err != nil {
				return err
			}
			if err := c.Write(rctx, bin, p); err != nil {
				return err
			}
			_, _, _, err = c.Read(r.Context()) // the client's close
			if err == nil {
				return errors.New("server read a message after the echo, want close")
			}
			return nil
		}()
	}))
	defer srv.Close()
	url := wsURL(srv, "/echo")

	tracer := e.TP.Tracer("test")
	appCtx, app := tracer.Start(ctx, "client.work")
	c, _, err := d.Dial(appCtx, url, e.In)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := c.WriteEnvelope(appCtx, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	_, data, err := c.ReadEnvelope(ctx)
	if err != nil || string(data) != `{"n":1}` {
		t.Fatalf("read echo = %q, %v", data, err)
	}

	// Mid-connection: one open connection on each side.
	rm := e.Collect(t)
	WantSum(t, rm, "ws.connection.active", map[string]string{"ws.role": "client"}, 1)
	WantSum(t, rm, "ws.connection.active", map[string]string{"ws.role": "server"}, 1)

	// A reader must run for the pong (and then the binary echo) to arrive.
	type msg struct {
		bin bool
		p   []byte
		err error
	}
	msgs := make(chan msg, 2)
	go func() {
		for {
			_, bin, p, err := c.Read(ctx)
			msgs <- msg{bin, p, err}
			if err != nil {
				return
			}
		}
	}()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := c.Write(ctx, true, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if m := <-msgs; m.err != nil || !m.bin || len(m.p) != 3 {
		t.Fatalf("binary echo = %+v", m)
	}
	if err := c.Close(4001, "bye"); err != nil {
		t.Fatalf("close: %v", err)
	}
	app.End()
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}

	// Spans.
	cConn := e.One(t, "ws.connection", trace.SpanKindInternal, func(s sdktrace.ReadOnlySpan) bool {
		return s.Parent().SpanID() == app.SpanContext().SpanID()
	})
	cHS := e.One(t, "ws.handshake", trace.SpanKindClient, nil)
	sHS := e.One(t, "ws.handshake", trace.SpanKindServer, nil)
	sConn := e.One(t, "ws.connection", trace.SpanKindInternal, func(s sdktrace.ReadOnlySpan) bool {
		return s.Parent().SpanID() == sHS.SpanContext().SpanID()
	})
	WantParent(t, cHS, cConn.SpanContext())
	WantParent(t, sHS, cHS.SpanContext()) // propagated in the upgrade request
	WantParent(t, sConn, sHS.SpanContext())
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
	common := map[string]string{"ws.url": url, "server.address": "127.0.0.1", "server.port": port}
	for _, s := range []sdktrace.ReadOnlySpan{cConn, cHS, sHS, sConn} {
		WantAttrs(t, s, common)
	}
	WantAttrs(t, cHS, map[string]string{"http.response.status_code": "101", "http.request.method": "GET", "url.full": url})
	WantAttrs(t, sHS, map[string]string{"http.response.status_code": "101", "http.request.method": "GET",
		"url.scheme": "ws", "url.path": "/echo", "client.address": "127.0.0.1"})
	WantAttrs(t, cConn, map[string]string{"ws.close.code": "4001", "ws.close.reason": "bye",
		"ws.close.initiator": "local", "network.protocol.name": "websocket"})
	WantAttrs(t, sConn, map[string]string{"ws.close.code": "4001", "ws.close.reason": "bye",
		"ws.close.initiator": "peer", "network.protocol.name": "websocket", "network.transport": "tcp"})
	for _, s := range []sdktrace.ReadOnlySpan{cConn, cHS, sHS, sConn} {
		if s.Status().Code.String() == "Error" {
			t.Errorf("%s (%s) has error status %q", s.Name(), s.SpanKind(), s.Status().Description)
		}
	}

	// Message spans: client ws.send → server ws.receive → server ws.send → client ws.receive.
	isText := func(s sdktrace.ReadOnlySpan) bool {
		v, _ := Attr(s, wsotel.AttrMessageType)
		return v.AsString() == "text"
	}
	isBin := func(s sdktrace.ReadOnlySpan) bool {
		v, _ := Attr(s, wsotel.AttrMessageType)
		return v.AsString() == "binary"
	}
	onTrace := func(tr trace.TraceID, f func(sdktrace.ReadOnlySpan) bool) func(sdktrace.ReadOnlySpan) bool {
		return func(s sdktrace.ReadOnlySpan) bool { return s.SpanContext().TraceID() == tr && f(s) }
	}
	sends := e.Find("ws.send", trace.SpanKindProducer)
	recvs := e.Find("ws.receive", trace.SpanKindConsumer)
	if len(sends) != 4 || len(recvs) != 4 {
		t.Fatalf("want 4 ws.send and 4 ws.receive spans, got %d and %d:\n%s", len(sends), len(recvs), Dump(e.Spans()))
	}
	cSend := e.One(t, "ws.send", trace.SpanKindProducer, func(s sdktrace.ReadOnlySpan) bool {
		return isText(s) && s.Parent().SpanID() == app.SpanContext().SpanID()
	})
	WantLink(t, cSend, cConn.SpanContext())
	sRecv := e.One(t, "ws.receive", trace.SpanKindConsumer, func(s sdktrace.ReadOnlySpan) bool {
		return isText(s) && s.Parent().SpanID() == cSend.SpanContext().SpanID()
	})
	WantParent(t, sRecv, cSend.SpanContext())
	WantLink(t, sRecv, sConn.SpanContext())
	sSend := e.One(t, "ws.send", trace.SpanKindProducer, func(s sdktrace.ReadOnlySpan) bool {
		return isText(s) && s.Parent().SpanID() == sRecv.SpanContext().SpanID()
	})
	e.One(t, "ws.receive", trace.SpanKindConsumer, func(s sdktrace.ReadOnlySpan) bool {
		return isText(s) && s.Parent().SpanID() == sSend.SpanContext().SpanID()
	})
	size, _ := Attr(cSend, wsotel.AttrMessageSize)
	if size.AsInt64() <= int64(len(`{"n":1}`)) {
		t.Errorf("ws.send size %d does not include the envelope", size.AsInt64())
	}
	WantAttrs(t, sRecv, map[string]string{"ws.message.size": size.Emit(), "ws.url": url})
	// The binary message: no envelope, so the server's ws.receive hangs off its connection span.
	cBin := e.One(t, "ws.send", trace.SpanKindProducer, onTrace(cConn.SpanContext().TraceID(), func(s sdktrace.ReadOnlySpan) bool {
		return isBin(s) && s.Parent().SpanID() == cConn.SpanContext().SpanID()
	}))
	WantAttrs(t, cBin, map[string]string{"ws.message.size": "3"})
	sBin := e.One(t, "ws.receive", trace.SpanKindConsumer, func(s sdktrace.ReadOnlySpan) bool {
		return isBin(s) && s.Parent().SpanID() == sConn.SpanContext().SpanID()
	})
	WantAttrs(t, sBin, map[string]string{"ws.message.size": "3", "ws.message.type": "binary"})

	// Metrics.
	rm = e.Collect(t)
	for _, role := range []string{"client", "server"} {
		WantSum(t, rm, "ws.connection.active", map[string]string{"ws.role": role}, 0)
		WantSum(t, rm, "ws.message.sent", map[string]string{"ws.role": role, "ws.message.type": "text"}, 1)
		WantSum(t, rm, "ws.message.sent", map[string]string{"ws.role": role, "ws.message.type": "binary"}, 1)
		WantSum(t, rm, "ws.message.received", map[string]string{"ws.role": role, "ws.message.type": "text"}, 1)
		WantSum(t, rm, "ws.message.received", map[string]string{"ws.role": role, "ws.message.type": "binary"}, 1)
		if n, _ := HistCount(rm, "ws.connection.duration", map[string]string{"ws.role": role}); n != 1 {
			t.Errorf("ws.connection.duration{%s} count %d, want 1", role, n)
		}
	}
	n, sum := HistCount(rm, "ws.message.size", map[string]string{"ws.role": "client", "network.io.direction": "transmit", "ws.message.type": "binary"})
	if n != 1 || sum != 3 {
		t.Errorf("ws.message.size{client,transmit,binary} count %d sum %v, want 1 and 3", n, sum)
	}
	n, sum = HistCount(rm, "ws.message.size", map[string]string{"ws.role": "server", "network.io.direction": "receive", "ws.message.type": "text"})
	if n != 1 || int64(sum) != size.AsInt64() {
		t.Errorf("ws.message.size{server,receive,text} count %d sum %v, want 1 and %d", n, sum, size.AsInt64())
	}
	if n, s := HistCount(rm, "ws.ping.duration", map[string]string{"ws.role": "client"}); n != 1 || s <= 0 || s > 10 {
		t.Errorf("ws.ping.duration{client} count %d sum %v, want 1 and a positive RTT", n, s)
	}
}

// serverClose: the server closes with 1011, an error code, which both sides record as an error.
func serverClose(t *testing.T, d Driver) {
	e := NewEnv(t, wsotel.Options{})
	ctx := ctxTimeout(t)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := d.Upgrade(w, r, e.In)
		if err != nil {
			return
		}
		go func() { _, _, _, _ = c.Read(r.Context()) }() // lets the close handshake complete
		_ = c.Close(1011, "boom")
	}))
	defer srv.Close()
	c, _, err := d.Dial(ctx, wsURL(srv, "/"), e.In)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = c.Read(ctx)
	if err == nil {
		t.Fatal("read after server close succeeded")
	}
	<-done
	_ = c.Close(1000, "")
	var cConn, sConn sdktrace.ReadOnlySpan
	for _, s := range e.Find("ws.connection", trace.SpanKindInternal) {
		if s.Parent().IsValid() {
			sConn = s
		} else {
			cConn = s
		}
	}
	if cConn == nil || sConn == nil {
		t.Fatalf("missing connection spans:\n%s", Dump(e.Spans()))
	}
	WantAttrs(t, cConn, map[string]string{"ws.close.code": "1011", "ws.close.reason": "boom", "ws.close.initiator": "peer", "error.type": "1011"})
	WantAttrs(t, sConn, map[string]string{"ws.close.code": "1011", "ws.close.initiator": "local"})
	for _, s := range []sdktrace.ReadOnlySpan{cConn, sConn} {
		if s.Status().Code.String() != "Error" {
			t.Errorf("%s with close 1011: status %v, want Error", s.Name(), s.Status())
		}
	}
}

// handshakeRejected: a client dialing a non-WebSocket endpoint and a plain GET to a WebSocket endpoint.
func handshakeRejected(t *testing.T, d Driver) {
	e := NewEnv(t, wsotel.Options{})
	ctx := ctxTimeout(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { _, _ = d.Upgrade(w, r, e.In) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if _, resp, err := d.Dial(ctx, wsURL(srv, "/forbidden"), e.In); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("dial /forbidden: resp %v err %v, want 403 error", resp, err)
	}
	cHS := e.One(t, "ws.handshake", trace.SpanKindClient, nil)
	WantAttrs(t, cHS, map[string]string{"http.response.status_code": "403", "error.type": "403"})
	if cHS.Status().Code.String() != "Error" {
		t.Errorf("client handshake status %v, want Error", cHS.Status())
	}
	cConn := e.One(t, "ws.connection", trace.SpanKindInternal, nil)
	if cConn.Status().Code.String() != "Error" || len(cConn.Events()) == 0 {
		t.Errorf("client connection span status %v events %d, want Error with the error recorded", cConn.Status(), len(cConn.Events()))
	}

	resp, err := http.Get(srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Fatalf("plain GET on the WebSocket endpoint: %d", resp.StatusCode)
	}
	sHS := e.One(t, "ws.handshake", trace.SpanKindServer, nil)
	WantAttrs(t, sHS, map[string]string{"http.response.status_code": strconv.Itoa(resp.StatusCode), "error.type": strconv.Itoa(resp.StatusCode)})
	if sHS.Status().Code.String() != "Error" {
		t.Errorf("server handshake status %v, want Error", sHS.Status())
	}
	rm := e.Collect(t)
	if v, ok := Sum(rm, "ws.connection.active", nil); ok && v != 0 {
		t.Errorf("ws.connection.active = %d after failed handshakes", v)
	}
	if n := len(e.Find("ws.connection", trace.SpanKindInternal)); n != 1 {
		t.Errorf("%d ws.connection spans, want only the client's", n)
	}
}

// sampling: half the client's messages get spans (deterministic Rand); with message spans off on the client, an
// envelope still carries the caller's span so the server's ws.receive continues that trace.
func sampling(t *testing.T, d Driver) {
	var mu sync.Mutex
	flip := uint64(0)
	client := NewEnv(t, wsotel.Options{MessageSampleRatio: 0.5, Rand: func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		flip ^= 1
		if flip == 1 {
			return 0 // below every threshold: sampled
		}
		return ^uint64(0)
	}})
	off, err := wsotel.New(wsotel.Options{TracerProvider: client.TP, MeterProvider: client.MP, Propagator: client.Prop, DisableMessageSpans: true})
	if err != nil {
		t.Fatal(err)
	}
	server := NewEnv(t, wsotel.Options{})
	ctx := ctxTimeout(t)
	got := make(chan context.Context, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.Upgrade(w, r, server.In)
		if err != nil {
			return
		}
		for {
			rctx, _, err := c.ReadEnvelope(r.Context())
			if err != nil {
				return
			}
			got <- rctx
		}
	}))
	defer srv.Close()

	c, _, err := d.Dial(ctx, wsURL(srv, "/"), client.In)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := c.WriteEnvelope(ctx, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		<-got
	}
	if n := len(client.Find("ws.send", trace.SpanKindProducer)); n != 5 {
		t.Errorf("ratio 0.5 with alternating Rand: %d ws.send spans for 10 messages, want 5", n)
	}
	WantSum(t, client.Collect(t), "ws.message.sent", map[string]string{"ws.message.type": "text"}, 10)
	_ = c.Close(1000, "")

	c2, _, err := d.Dial(ctx, wsURL(srv, "/"), off)
	if err != nil {
		t.Fatal(err)
	}
	appCtx, app := client.TP.Tracer("test").Start(ctx, "publish")
	before := len(client.Find("ws.send", trace.SpanKindProducer))
	if err := c2.WriteEnvelope(appCtx, []byte(`"x"`)); err != nil {
		t.Fatal(err)
	}
	rctx := <-got
	app.End()
	if n := len(client.Find("ws.send", trace.SpanKindProducer)); n != before {
		t.Errorf("DisableMessageSpans: %d new ws.send spans", n-before)
	}
	if sc := trace.SpanContextFromContext(rctx); sc.TraceID() != app.SpanContext().TraceID() {
		t.Errorf("receiver context trace %s, want the sender's %s", sc.TraceID(), app.SpanContext().TraceID())
	}
	server.One(t, "ws.receive", trace.SpanKindConsumer, func(s sdktrace.ReadOnlySpan) bool {
		return s.Parent().SpanID() == app.SpanContext().SpanID()
	})
	_ = c2.Close(1000, "")
}

// malformed: a text message that is not an envelope is an error on its ws.receive span; the connection goes on.
func malformed(t *testing.T, d Driver) {
	e := NewEnv(t, wsotel.Options{})
	ctx := ctxTimeout(t)
	errs := make(chan error, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.Upgrade(w, r, e.In)
		if err != nil {
			return
		}
		for range 2 {
			_, _, err := c.ReadEnvelope(r.Context())
			errs <- err
		}
		_ = c.Close(1000, "")
	}))
	defer srv.Close()
	c, _, err := d.Dial(ctx, wsURL(srv, "/"), e.In)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, false, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	var ee *wsotel.EnvelopeError
	if err := <-errs; !errors.As(err, &ee) {
		t.Fatalf("ReadEnvelope of a non-envelope: %v, want *wsotel.EnvelopeError", err)
	}
	if err := c.WriteEnvelope(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("envelope after a malformed one: %v", err)
	}
	bad := e.One(t, "ws.receive", trace.SpanKindConsumer, func(s sdktrace.ReadOnlySpan) bool { return s.Status().Code.String() == "Error" })
	WantAttrs(t, bad, map[string]string{"error.type": "envelope"})
	if _, _, _, err := c.Read(ctx); err == nil { // completes the server's close handshake
		t.Error("read after the server closed succeeded")
	}
}
