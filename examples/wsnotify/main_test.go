package main

import (
	"context"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestNotifyExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, config{endpoint: srv.GRPCAddr(), addr: "127.0.0.1:0", demo: true}); err != nil {
		t.Fatal(err)
	}
	spans := srv.WaitSpansFunc(ctx, "two notification.handle spans", func(s otlptest.Spans) bool {
		return len(s.Named("notification.handle")) == 2
	})
	only := func(ss otlptest.Spans, what string) otlptest.Span {
		t.Helper()
		if len(ss) != 1 {
			t.Fatalf("want one %s, got %d:\n%s", what, len(ss), spans)
		}
		return ss[0]
	}
	for _, publish := range spans.Named("publish") {
		client := only(spans.Children(publish).Where(func(s otlptest.Span) bool { return s.Kind == "Client" }), "HTTP client span")
		server := only(spans.Children(client).Where(func(s otlptest.Span) bool { return s.Kind == "Server" }), "POST /notify server span")
		otlptest.AssertAttributes(t, server, map[string]any{"notify.user": "ada", "notify.delivered": 1, "http.response.status_code": 202})
		send := only(spans.Children(server).Named("ws.send"), "ws.send under POST /notify")
		if send.Service() != "notifier" || send.Kind != "Producer" {
			t.Errorf("ws.send: service %s kind %s", send.Service(), send.Kind)
		}
		recv := only(spans.Children(send).Named("ws.receive"), "subscriber ws.receive")
		otlptest.AssertAttributes(t, recv, map[string]any{"ws.message.type": "text", "ws.message.size": send.Attributes["ws.message.size"]})
		handle := only(spans.Children(recv).Named("notification.handle"), "notification.handle")
		if handle.TraceID != publish.TraceID {
			t.Errorf("handling is on trace %s, the publish on %s", handle.TraceID, publish.TraceID)
		}
	}
	if n := len(spans.Named("publish")); n != 2 {
		t.Fatalf("%d publish spans, want 2", n)
	}

	// The server went away with 1001: the subscriber records the peer's close, the server its own.
	conns := spans.Named("ws.connection")
	sub := only(conns.Where(func(s otlptest.Span) bool { return s.Service() == "notify-client" }), "subscriber connection")
	otlptest.AssertAttributes(t, sub, map[string]any{"ws.close.code": 1001, "ws.close.reason": "server shutting down", "ws.close.initiator": "peer"})
	if sub.StatusCode == "Error" {
		t.Errorf("1001 going away is not an error: %s", sub.StatusMessage)
	}
	srvConn := only(conns.Where(func(s otlptest.Span) bool { return s.Service() == "notifier" }), "server connection")
	otlptest.AssertAttributes(t, srvConn, map[string]any{"ws.close.code": 1001, "ws.close.initiator": "local"})

	// Ping RTT from the subscriber.
	ms := srv.WaitMetricsFunc(ctx, "ws.ping.duration from the subscriber", func(m otlptest.Metrics) bool {
		for _, x := range m.Named("ws.ping.duration") {
			if p, ok := x.Point(map[string]any{"ws.role": "client"}); ok && p.Count == 1 {
				return true
			}
		}
		return false
	})
	rtt, _ := ms.Last("ws.ping.duration")
	if p, _ := rtt.Point(map[string]any{"ws.role": "client"}); p.Sum <= 0 || p.Sum > 5 || rtt.Unit != "s" {
		t.Errorf("ping RTT %v %s, want a positive number of seconds", p.Sum, rtt.Unit)
	}
}
