package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/otlpd/otlpd/internal/config"
)

// TestMain fails the package when a test leaves goroutines behind: every server started here must stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// running is a server started for one test.
type running struct {
	*Server
	client *http.Client
	scheme string // "http" when empty
}

func (r *running) base(addr string) string {
	if r.scheme == "" {
		return "http://" + addr
	}
	return r.scheme + "://" + addr
}

// start runs a server on random loopback ports until the test ends. mut may change the configuration.
func start(t *testing.T, opts Options, mut func(*config.Config)) *running {
	t.Helper()
	return startWith(t, opts, mut, &http.Client{Timeout: 30 * time.Second}, "http")
}

// startWith is start with the client the test talks to the HTTP addresses with, and their scheme.
func startWith(t *testing.T, opts Options, mut func(*config.Config), client *http.Client, scheme string) *running {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if mut != nil {
		mut(&cfg)
	}
	srv, err := New(cfg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop within 20s")
		}
	})
	r := &running{Server: srv, client: client, scheme: scheme}
	r.waitReady(t)
	return r
}

func (r *running) ui(path string) string   { return r.base(r.UIAddr().String()) + path }
func (r *running) otlp(path string) string { return r.base(r.HTTPAddr().String()) + path }

func (r *running) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := r.get(t, "/readyz"); code == http.StatusOK {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server not ready after 10s")
}

// get fetches a path of the UI address.
func (r *running) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := r.client.Get(r.ui(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

func TestHealthAndShutdown(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	srv, err := New(cfg, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	r := &running{Server: srv, client: &http.Client{Timeout: 5 * time.Second}}
	r.waitReady(t)
	if code, body := r.get(t, "/healthz"); code != 200 || string(body) != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	r.client.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := r.client.Get(r.ui("/healthz")); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestNewFailsOnBusyPort(t *testing.T) {
	first := start(t, Options{}, nil)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", first.UIAddr().String()
	_, err := New(cfg, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "listen for the UI and API on "+first.UIAddr().String()) {
		t.Fatalf("New on a busy port: %v", err)
	}
}
