package main

import (
	"context"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestHTTPServiceExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// 10 requests: 6 GET found (each calls inventory), 2 GET not found, 2 POST failing.
	if err := run(ctx, config{endpoint: srv.GRPCAddr(), addr: "127.0.0.1:0", requests: 10}); err != nil {
		t.Fatal(err)
	}
	spans := srv.WaitSpans(ctx, 10+6+6)

	found := spans.Named("GET /orders/{id}").Where(func(s otlptest.Span) bool {
		return s.Attributes["http.response.status_code"] == int64(200)
	})
	if len(found) != 6 {
		t.Fatalf("%d successful GET /orders/{id} spans, want 6:\n%s", len(found), spans)
	}
	for _, s := range found {
		otlptest.AssertAttributes(t, s, map[string]any{"http.route": "/orders/{id}", "http.request.method": "GET"})
		if s.Kind != "Server" || s.StatusCode != "Unset" || s.Service() != "orders" {
			t.Errorf("server span %s kind %s status %s service %s", s.Name, s.Kind, s.StatusCode, s.Service())
		}
		// The downstream call: a client span under the server span, and inventory's server span under it.
		clients := spans.Children(s).Where(func(c otlptest.Span) bool { return c.Kind == "Client" })
		if len(clients) != 1 {
			t.Fatalf("want one client span under %s, got %d:\n%s", s.SpanID, len(clients), spans)
		}
		inv := spans.Children(clients[0])
		if len(inv) != 1 || inv[0].Kind != "Server" {
			t.Errorf("inventory server span not under the client span:\n%s", spans)
		}
	}
	for _, s := range spans.Named("POST /orders") {
		if s.StatusCode != "Error" || s.Attributes["http.response.status_code"] != int64(500) {
			t.Errorf("500 response: status %s attrs %v, want Error", s.StatusCode, s.Attributes)
		}
	}
	if n := len(spans.Named("POST /orders")); n != 2 {
		t.Errorf("%d POST /orders spans, want 2", n)
	}
	for _, s := range spans.Where(func(s otlptest.Span) bool { return s.Attributes["http.response.status_code"] == int64(404) }) {
		if s.StatusCode != "Unset" {
			t.Errorf("a server's 404 is not a server error, got status %s", s.StatusCode)
		}
	}

	// RED from the duration histogram.
	dur := srv.WaitMetric(ctx, "http.server.request.duration")
	count := func(route string, status int) uint64 {
		var n uint64
		for _, p := range dur.Points {
			if p.Attributes["http.route"] == route && p.Attributes["http.response.status_code"] == int64(status) {
				n += p.Count
			}
		}
		return n
	}
	if got := count("/orders/{id}", 200); got != 6 {
		t.Errorf("rate: %d 200s on /orders/{id}, want 6\n%s", got, dur)
	}
	if got := count("/orders/{id}", 404); got != 2 {
		t.Errorf("%d 404s, want 2\n%s", got, dur)
	}
	if got := count("/orders", 500); got != 2 {
		t.Errorf("errors: %d 500s on /orders, want 2\n%s", got, dur)
	}
	if dur.Unit != "s" || dur.Type != "Histogram" {
		t.Errorf("duration metric %s %s", dur.Type, dur.Unit)
	}
}
