package wsotel_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

// The server handshake's parent: a span already in the request context (middleware) wins over headers.
func TestServerHandshakeParent(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	in, err := wsotel.New(wsotel.Options{TracerProvider: tp, Propagator: propagation.TraceContext{}})
	if err != nil {
		t.Fatal(err)
	}
	const header = "00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01"

	r := httptest.NewRequest("GET", "http://example.com/ws", nil)
	r.Header.Set("traceparent", header)
	in.StartServerHandshake(r).Fail(400, nil)

	mwCtx, mw := tp.Tracer("middleware").Start(context.Background(), "GET /ws", trace.WithSpanKind(trace.SpanKindServer))
	r2 := httptest.NewRequest("GET", "http://example.com/ws", nil).WithContext(mwCtx)
	r2.Header.Set("traceparent", header)
	in.StartServerHandshake(r2).Accepted(wsotel.PeerInfo{}).End(1000, "", nil)
	mw.End()

	var hs []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "ws.handshake" {
			hs = append(hs, s)
		}
	}
	if len(hs) != 2 {
		t.Fatalf("%d handshake spans", len(hs))
	}
	if got := hs[0].Parent().SpanID().String(); got != "0102030405060708" || !hs[0].Parent().IsRemote() {
		t.Errorf("header-only request: parent %s, want the traceparent's span", got)
	}
	if hs[1].Parent().SpanID() != mw.SpanContext().SpanID() {
		t.Errorf("request with middleware span: parent %s, want %s", hs[1].Parent().SpanID(), mw.SpanContext().SpanID())
	}
}
