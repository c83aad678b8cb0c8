package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestLogsExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	console, err := os.Create(filepath.Join(t.TempDir(), "console.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	if err := run(ctx, srv.GRPCAddr(), console); err != nil {
		t.Fatal(err)
	}

	logs := srv.WaitLogs(ctx, 5)
	span := srv.WaitSpan(ctx, "charge")
	for _, c := range []struct {
		body     string
		severity int32
		text     string
		traced   bool
	}{
		{"service starting", 5, "DEBUG", false},
		{"charging card", 9, "INFO", true},
		{"card issuer is slow", 11, "INFO+2", true},
		{"retrying charge", 13, "WARN", true},
		{"charge failed", 17, "ERROR", true},
	} {
		l := logs.One(t, c.body)
		if l.SeverityNumber != c.severity || l.SeverityText != c.text {
			t.Errorf("%q: severity %d %q, want %d %q", c.body, l.SeverityNumber, l.SeverityText, c.severity, c.text)
		}
		if c.traced && (l.TraceID != span.TraceID || l.SpanID != span.SpanID) {
			t.Errorf("%q: trace %s span %s, want the charge span %s/%s", c.body, l.TraceID, l.SpanID, span.TraceID, span.SpanID)
		}
		if !c.traced && l.TraceID != "" {
			t.Errorf("%q logged without a span has trace %s", c.body, l.TraceID)
		}
		if l.Resource["service.name"] != "payments" || l.Scope.Name != "examples/logs" {
			t.Errorf("%q: resource %v scope %q", c.body, l.Resource, l.Scope.Name)
		}
	}
	failed := logs.One(t, "charge failed")
	if failed.Attributes["order.id"] != "order-17" || failed.Attributes["exception.message"] != "card declined" {
		t.Errorf("charge failed attributes: %v", failed.Attributes)
	}
	if got := logs.One(t, "charging card").Attributes["amount.cents"]; got != int64(4999) {
		t.Errorf("amount.cents = %#v, want int64 4999", got)
	}

	out, err := os.ReadFile(console.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "charge failed") || strings.Contains(string(out), "service starting") {
		t.Errorf("console should have Info and above only:\n%s", out)
	}
}
