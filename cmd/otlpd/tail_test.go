package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/tail"
	"github.com/otlpd/otlpd/internal/workload"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startTailServer(t *testing.T) (*tail.Hub, string) {
	t.Helper()
	h := tail.NewHub(tail.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+tail.Path, h.Handler(tail.HandlerOptions{Heartbeat: 50 * time.Millisecond}))
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { h.Close(); _ = srv.Close() })
	return h, l.Addr().String()
}

func runTailCmd(t *testing.T, ctx context.Context, args ...string) (stdout, stderr *syncBuffer, done chan int) {
	t.Helper()
	stdout, stderr, done = &syncBuffer{}, &syncBuffer{}, make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"tail"}, args...), stdout, stderr) }()
	return stdout, stderr, done
}

func TestTailStreamsMatchingItems(t *testing.T) {
	h, addr := startTailServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr, done := runTailCmd(t, ctx, "--server", addr, "--service", "cart", "--signal", "spans", "--output", "json")
	td := workload.New(5, workload.Options{}).NextTraces(1000)
	want := 0
	for _, rs := range td.ResourceSpans().All() {
		if v, _ := rs.Resource().Attributes().Get("service.name"); v.Str() == "cart" {
			want += rs.ScopeSpans().At(0).Spans().Len()
		}
	}
	// Feed until the command is subscribed: a marker span of another service must not be printed.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		marker := ptrace.NewTraces()
		rs := marker.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "cart")
		rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("marker")
		_ = h.ConsumeTraces(ctx, marker)
		if strings.Contains(stdout.String(), `"marker"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = h.ConsumeTraces(ctx, td)
	_ = h.ConsumeLogs(ctx, workload.New(5, workload.Options{}).NextLogs(100))
	for strings.Count(stdout.String(), "\n")-strings.Count(stdout.String(), `"marker"`) < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // anything extra would arrive now
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := 0
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var it tail.Item
		if err := json.Unmarshal([]byte(l), &it); err != nil || it.Service != "cart" || it.Signal != "span" {
			t.Fatalf("line %q: %+v %v", l, it, err)
		}
		if it.Name != "marker" {
			got++
		}
	}
	if got != want {
		t.Fatalf("printed %d spans, want %d", got, want)
	}
}

func TestTailErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, addr := startTailServer(t)
	f := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		code, _, errs := runCmd(t, append([]string{"tail"}, args...)...)
		if code != wantCode || !strings.Contains(errs, wantErr) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", args, code, errs, wantCode, wantErr)
		}
	}
	f(2, "flag provided but not defined: -nope", "--nope")
	f(2, `unknown signal "x"`, "--signal", "x")
	f(2, `--output "yaml"`, "--output", "yaml")
	f(2, `--color "pink"`, "--color", "pink")
	f(1, "cannot stream from "+closed+": dial tcp "+closed+": connect: connection refused", "--server", closed)
	// This server compiles no filter expressions: the refusal is the server's, in one line.
	f(2, "refused the query: this server does not support filter expressions", "--server", addr, "--filter", "duration > 1ms")
	code, out, _ := runCmd(t, "tail", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d", code)
	}
}

func TestCompileTailFilter(t *testing.T) {
	span := ptrace.NewSpan()
	span.Status().SetCode(ptrace.StatusCodeError)
	rec := plog.NewLogRecord()
	rec.SetSeverityNumber(plog.SeverityNumberWarn)
	res, scope := pcommon.NewResource(), pcommon.NewInstrumentationScope()
	f := func(expr string, sig tail.Signals, wantSpan, wantLog bool, wantErr string) {
		t.Helper()
		sm, lm, err := compileTailFilter(expr, sig)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%q: err %v, want %q", expr, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := sm.MatchSpan(res, scope, span); got != wantSpan {
			t.Errorf("%q: span match %v, want %v", expr, got, wantSpan)
		}
		if got := lm.MatchLog(res, scope, rec); got != wantLog {
			t.Errorf("%q: log match %v, want %v", expr, got, wantLog)
		}
	}
	f("status = error", tail.Spans|tail.Logs, true, false, "")   // a span-only filter selects no logs
	f("severity >= warn", tail.Spans|tail.Logs, false, true, "") // and a log-only one no spans
	f("severity >= error", tail.Logs, false, false, "")
	f("severity >= warn", tail.Spans, false, false, "severity")
	f("duration >", tail.Spans, false, false, "1:11:")
	f("service.name = \"x\"", tail.Metrics, false, false, "for metrics use service")
}
