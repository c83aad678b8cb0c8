package otlpsink

import (
	"os"
	"os/signal"
	"strings"
	"testing"
)

// TestServe runs a sink as a standalone process for measurements, only when OTLPSINK_SERVE is set:
//
//	OTLPSINK_SERVE=127.0.0.1:14317,127.0.0.1:14318 OTLPSINK_DISCARD=1 go test -run TestServe -timeout 0 ./internal/otlpsink
//
// It serves until interrupted and then prints what it received.
func TestServe(t *testing.T) {
	addrs := os.Getenv("OTLPSINK_SERVE")
	if addrs == "" {
		t.Skip("OTLPSINK_SERVE not set")
	}
	g, h, _ := strings.Cut(addrs, ",")
	s, err := Start(Options{GRPCAddr: g, HTTPAddr: h, Discard: os.Getenv("OTLPSINK_DISCARD") != ""})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Logf("serving OTLP/gRPC on %s and OTLP/HTTP on %s", s.GRPCAddr, s.HTTPAddr)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
	t.Logf("requests %d, bytes %d, spans %d, logs %d, points %d", s.Requests.Load(), s.Bytes.Load(), s.Spans.Load(),
		s.Logs.Load(), s.Points.Load())
}
