package main

import (
	"context"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestBaggageExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := run(ctx, srv.GRPCAddr(), "ada", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if out != "user=ada tenant=acme plan=enterprise" {
		t.Errorf("backend answered %q: baggage did not arrive", out)
	}
	spans := srv.WaitSpans(ctx, 4) // frontend server, frontend client, backend server, load plan
	backend := spans.Where(func(s otlptest.Span) bool { return s.Service() == "backend" && s.Kind == "Server" })
	if len(backend) != 1 {
		t.Fatalf("want one backend server span:\n%s", spans)
	}
	b := backend[0]
	otlptest.AssertAttributes(t, b, map[string]any{"user.id": "ada", "tenant.id": "acme"})
	if _, leaked := b.Attributes["session.token"]; leaked {
		t.Errorf("session.token is not allow-listed but became an attribute")
	}
	caller, ok := spans.ByID(b.ParentSpanID)
	if !ok || caller.Service() != "frontend" || caller.Kind != "Client" {
		t.Fatalf("backend span's parent is not the frontend's client span:\n%s", spans)
	}
	plan := spans.One(t, "load plan")
	otlptest.AssertChildOf(t, plan, b)
	otlptest.AssertAttributes(t, plan, map[string]any{"tenant.id": "acme", "plan": "enterprise"})
	for _, s := range spans.Where(func(s otlptest.Span) bool { return s.Service() == "frontend" }) {
		if _, ok := s.Attributes["tenant.id"]; ok {
			t.Errorf("frontend span %s has tenant.id: only the backend copies baggage", s.Name)
		}
	}
}
