package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// TestServe runs `otlpd serve` on random loopback ports, checks that it prints where it listens and answers
// its health check, and that it exits cleanly when its context ends (as on SIGINT).
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--storage", "memory", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
			"--ui-addr", "127.0.0.1:0"}, outW, io.Discard)
		outW.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var line string
	select {
	case line = <-lines:
	case code := <-exit:
		t.Fatalf("serve exited with %d before listening", code)
	case <-time.After(20 * time.Second):
		t.Fatal("serve printed nothing in 20s")
	}
	m := regexp.MustCompile(`OTLP/gRPC 127\.0\.0\.1:\d+, OTLP/HTTP 127\.0\.0\.1:\d+, UI and API (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("unexpected first line %q", line)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(m[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit code %d after shutdown", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of its context ending")
	}
}

func TestServeBadFlag(t *testing.T) {
	if code := run(context.Background(), []string{"serve", "--storage", "nope"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("exit code %d for a bad --storage, want 2", code)
	}
}
