package main

import (
	"context"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestChatExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, config{endpoint: srv.GRPCAddr(), addr: "127.0.0.1:0", demo: true}); err != nil {
		t.Fatal(err)
	}
	spans := srv.WaitSpansFunc(ctx, "two chat.display spans", func(s otlptest.Spans) bool { return len(s.Named("chat.display")) == 2 })

	// Follow "hi bob" from alice's post to bob's display, across both services.
	var post otlptest.Span
	for _, p := range spans.Named("chat.post") {
		if p.Attributes["chat.user"] == "alice" {
			post = p
		}
	}
	if post.SpanID == "" {
		t.Fatalf("no chat.post by alice:\n%s", spans)
	}
	step := func(parent otlptest.Span, name, kind, service string) otlptest.Span {
		t.Helper()
		kids := spans.Children(parent).Where(func(s otlptest.Span) bool { return s.Name == name && s.Kind == kind })
		if len(kids) != 1 {
			t.Fatalf("want one %s %s under %s %s, got %d:\n%s", kind, name, parent.Name, parent.SpanID, len(kids), spans)
		}
		if kids[0].Service() != service {
			t.Errorf("%s: service %s, want %s", name, kids[0].Service(), service)
		}
		return kids[0]
	}
	send := step(post, "ws.send", "Producer", "chat-client")
	recv := step(send, "ws.receive", "Consumer", "chat-server")
	relay := step(recv, "ws.send", "Producer", "chat-server")
	bobRecv := step(relay, "ws.receive", "Consumer", "chat-client")
	disp := step(bobRecv, "chat.display", "Internal", "chat-client")
	otlptest.AssertAttributes(t, disp, map[string]any{"chat.from": "alice"})
	for _, s := range []otlptest.Span{send, recv, relay, bobRecv} {
		otlptest.AssertAttributes(t, s, map[string]any{"ws.message.type": "text", "server.address": "127.0.0.1"})
		if s.Attributes["ws.message.size"] == nil || s.Attributes["ws.url"] == nil {
			t.Errorf("%s lacks ws.message.size or ws.url: %v", s.Name, s.Attributes)
		}
	}
	if len(recv.Links) != 1 {
		t.Errorf("server ws.receive should link to its connection span: %v", recv.Links)
	}

	// Connections: two on the server, closed by the clients with 1000 "bye"; handshakes are parent and child.
	serverConns := spans.Named("ws.connection").Where(func(s otlptest.Span) bool { return s.Service() == "chat-server" })
	if len(serverConns) != 2 {
		t.Fatalf("%d server connection spans, want 2:\n%s", len(serverConns), spans)
	}
	for _, c := range serverConns {
		otlptest.AssertAttributes(t, c, map[string]any{"ws.close.code": 1000, "ws.close.reason": "bye", "ws.close.initiator": "peer"})
		hs, ok := spans.ByID(c.ParentSpanID)
		if !ok || hs.Name != "ws.handshake" || hs.Kind != "Server" {
			t.Fatalf("server connection's parent is not its handshake:\n%s", spans)
		}
		clientHS, ok := spans.ByID(hs.ParentSpanID)
		if !ok || clientHS.Name != "ws.handshake" || clientHS.Kind != "Client" || clientHS.Service() != "chat-client" {
			t.Errorf("server handshake's parent is not the client's handshake:\n%s", spans)
		}
		otlptest.AssertAttributes(t, hs, map[string]any{"http.response.status_code": 101, "url.path": "/chat"})
	}

	// Metrics from the server's provider.
	ms := srv.WaitMetricsFunc(ctx, "server ws metrics", func(m otlptest.Metrics) bool {
		for _, x := range m.Named("ws.message.received") {
			if x.Resource["service.name"] == "chat-server" {
				return true
			}
		}
		return false
	})
	sum := func(name, service string, attrs map[string]any) (n float64) {
		for _, m := range ms.Named(name) {
			if m.Resource["service.name"] != service {
				continue
			}
			n = 0 // cumulative: the latest export holds the total
			for _, p := range m.Points {
				ok := true
				for k, v := range attrs {
					if p.Attributes[k] != v {
						ok = false
					}
				}
				if ok {
					n += p.Value() + float64(p.Count)
				}
			}
		}
		return n
	}
	if got := sum("ws.message.received", "chat-server", map[string]any{"ws.role": "server", "ws.message.type": "text"}); got != 2 {
		t.Errorf("server received %v messages, want 2", got)
	}
	if got := sum("ws.message.sent", "chat-server", map[string]any{"ws.role": "server"}); got != 2 {
		t.Errorf("server sent %v messages, want 2", got)
	}
	if got := sum("ws.connection.active", "chat-server", map[string]any{"ws.role": "server"}); got != 0 {
		t.Errorf("server active connections %v after both left, want 0", got)
	}
	if got := sum("ws.connection.duration", "chat-server", nil); got != 2 {
		t.Errorf("server connection durations recorded %v, want 2", got)
	}
}
