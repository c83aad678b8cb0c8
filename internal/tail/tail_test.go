package tail

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/workload"
)

var update = flag.Bool("update", false, "rewrite golden files")

// spanMatcherFunc adapts a function to storage.SpanMatcher.
type spanMatcherFunc func(ptrace.Span) bool

func (f spanMatcherFunc) MatchSpan(_ pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
	return f(sp)
}

type logMatcherFunc func(plog.LogRecord) bool

func (f logMatcherFunc) MatchLog(_ pcommon.Resource, _ pcommon.InstrumentationScope, lr plog.LogRecord) bool {
	return f(lr)
}

func countSpans(td ptrace.Traces, keep func(svc string, sp ptrace.Span) bool) int {
	n := 0
	for _, rs := range td.ResourceSpans().All() {
		svc, _ := rs.Resource().Attributes().Get("service.name")
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				if keep(svc.Str(), sp) {
					n++
				}
			}
		}
	}
	return n
}

func drain(s *Subscription) []Item {
	var out []Item
	for {
		select {
		case e := <-s.ch:
			out = append(out, e.item())
		default:
			return out
		}
	}
}

func TestHubFilters(t *testing.T) {
	h := NewHub(Options{Buffer: 100000})
	all, _ := h.Subscribe(Filter{Signals: Spans})
	cart, _ := h.Subscribe(Filter{Signals: Spans | Logs, Service: "cart"})
	errs, _ := h.Subscribe(Filter{Signals: Spans, Spans: spanMatcherFunc(func(sp ptrace.Span) bool {
		return sp.Status().Code() == ptrace.StatusCodeError
	})})
	warn, _ := h.Subscribe(Filter{Signals: Logs, Logs: logMatcherFunc(func(lr plog.LogRecord) bool {
		return lr.SeverityNumber() >= plog.SeverityNumberWarn
	})})
	metrics, _ := h.Subscribe(Filter{Signals: Metrics, Service: "cart"})
	g := workload.New(3, workload.Options{})
	td, ld, md := g.NextTraces(2000), g.NextLogs(2000), g.NextMetrics(workload.Resources*workload.SeriesPerResource)
	_ = h.ConsumeTraces(context.Background(), td)
	_ = h.ConsumeLogs(context.Background(), ld)
	_ = h.ConsumeMetrics(context.Background(), md)

	if got := len(drain(all)); got != 2000 {
		t.Errorf("all spans: got %d, want 2000", got)
	}
	wantCart := countSpans(td, func(svc string, _ ptrace.Span) bool { return svc == "cart" })
	cartItems := drain(cart)
	spans, logs := 0, 0
	for _, it := range cartItems {
		if it.Service != "cart" {
			t.Fatalf("cart subscriber got %s", it.Service)
		}
		if it.Signal == KindSpan {
			spans++
		} else {
			logs++
		}
	}
	if spans != wantCart || wantCart == 0 || logs == 0 {
		t.Errorf("cart: %d spans (want %d) and %d logs", spans, wantCart, logs)
	}
	wantErr := countSpans(td, func(_ string, sp ptrace.Span) bool { return sp.Status().Code() == ptrace.StatusCodeError })
	if got := len(drain(errs)); got != wantErr || wantErr == 0 {
		t.Errorf("error spans: got %d, want %d", got, wantErr)
	}
	for _, it := range drain(warn) {
		if it.SeverityNumber < int32(plog.SeverityNumberWarn) || it.Signal != KindLog {
			t.Fatalf("warn subscriber got %+v", it)
		}
	}
	if got := len(drain(metrics)); got != 5*workload.SeriesPerResource {
		t.Errorf("cart metric points: got %d, want %d (5 instances)", got, 5*workload.SeriesPerResource)
	}
}

func TestHubDropsForSlowSubscribers(t *testing.T) {
	h := NewHub(Options{Buffer: 10})
	slow, _ := h.Subscribe(Filter{Signals: Spans})
	_ = h.ConsumeTraces(context.Background(), workload.New(1, workload.Options{}).NextTraces(100))
	if got := len(drain(slow)); got != 10 {
		t.Errorf("buffered %d, want 10", got)
	}
	if slow.Dropped() != 90 {
		t.Errorf("dropped %d, want 90", slow.Dropped())
	}
	slow.Close()
	slow.Close()
	if _, ok := slow.Next(context.Background()); ok {
		t.Error("channel open after Close")
	}
	if h.n.Load() != 0 {
		t.Error("subscriber count not back to 0")
	}
	h.Close()
	if _, err := h.Subscribe(Filter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
}

func TestHubConcurrent(t *testing.T) {
	h := NewHub(Options{Buffer: 16})
	td := workload.New(1, workload.Options{}).NextTraces(200)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					_ = h.ConsumeTraces(context.Background(), td)
				}
			}
		})
	}
	for range 200 {
		s, err := h.Subscribe(Filter{})
		if err != nil {
			t.Fatal(err)
		}
		drain(s)
		s.Close()
	}
	close(stop)
	wg.Wait()
}

func startHub(t *testing.T, h *Hub, opts HandlerOptions, addr string) (string, func()) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, h.Handler(opts))
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		h.Close()
		_ = srv.Close()
	}
	t.Cleanup(stop)
	return l.Addr().String(), stop
}

func TestStreamEndToEnd(t *testing.T) {
	h := NewHub(Options{})
	compile := func(expr string, _ Signals) (storage.SpanMatcher, storage.LogMatcher, error) {
		if expr != "errors" {
			return nil, nil, errors.New("1:1: unknown filter " + expr)
		}
		return spanMatcherFunc(func(sp ptrace.Span) bool { return sp.Status().Code() == ptrace.StatusCodeError }), nil, nil
	}
	addr, _ := startHub(t, h, HandlerOptions{Compile: compile, Heartbeat: 50 * time.Millisecond}, "")
	c := &Client{BaseURL: addr}

	// Refusals come back as StatusError with the server's message.
	f := func(q Query, want string) {
		t.Helper()
		err := c.Stream(context.Background(), q, nil, func(Item) {})
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 400 || !strings.Contains(se.Msg, want) {
			t.Errorf("%+v: err %v, want 400 with %q", q, err, want)
		}
	}
	f(Query{Signals: "spans,bogus"}, `unknown signal "bogus"`)
	f(Query{Filter: "nope"}, "filter: 1:1: unknown filter nope")

	td := workload.New(9, workload.Options{}).NextTraces(3000)
	want := countSpans(td, func(_ string, sp ptrace.Span) bool { return sp.Status().Code() == ptrace.StatusCodeError })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got, beats atomic.Int64
	connected := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(ctx, Query{Signals: "spans", Filter: "errors"}, func() { close(connected) }, func(it Item) {
			switch it.Signal {
			case KindHeartbeat:
				beats.Add(1)
			case KindSpan:
				if it.Status != "ERROR" {
					t.Errorf("got a span with status %q", it.Status)
				}
				got.Add(1)
			}
		})
	}()
	<-connected
	_ = h.ConsumeTraces(context.Background(), td)
	_ = h.ConsumeLogs(context.Background(), workload.New(9, workload.Options{}).NextLogs(100))
	deadline := time.Now().Add(5 * time.Second)
	for (got.Load() < int64(want) || beats.Load() < 2) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Stream after cancel: %v", err)
	}
	if got.Load() != int64(want) || want == 0 {
		t.Errorf("streamed %d error spans, want %d", got.Load(), want)
	}
	if beats.Load() < 2 {
		t.Errorf("%d heartbeats", beats.Load())
	}
}

func TestFollowReconnects(t *testing.T) {
	h1 := NewHub(Options{})
	addr, stop1 := startHub(t, h1, HandlerOptions{Heartbeat: 50 * time.Millisecond}, "")
	c := &Client{BaseURL: "http://" + addr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var names []string
	var disconnects, reconnects atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- c.Follow(ctx, Query{Signals: "spans"}, FollowOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
			OnDisconnect: func(error) { disconnects.Add(1) }, OnReconnect: func() { reconnects.Add(1) }},
			func(it Item) {
				if it.Signal == KindSpan {
					mu.Lock()
					names = append(names, it.Name)
					mu.Unlock()
				}
			})
	}()
	send := func(h *Hub, name string) {
		td := ptrace.NewTraces()
		td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName(name)
		deadline := time.Now().Add(5 * time.Second)
		for h.n.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		_ = h.ConsumeTraces(context.Background(), td)
	}
	send(h1, "before")
	time.Sleep(100 * time.Millisecond)
	stop1() // the server goes away
	h2 := NewHub(Options{})
	time.Sleep(150 * time.Millisecond) // a few failed reconnection attempts
	startHub(t, h2, HandlerOptions{Heartbeat: 50 * time.Millisecond}, addr)
	send(h2, "after")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(names)
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(names, ",") != "before,after" || disconnects.Load() != 1 || reconnects.Load() != 1 {
		t.Errorf("spans %v, disconnects %d, reconnects %d; want before,after, 1, 1", names, disconnects.Load(), reconnects.Load())
	}
}

func TestFollowUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = (&Client{BaseURL: addr}).Follow(context.Background(), Query{}, FollowOptions{}, func(Item) {})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want connection refused", err)
	}
}

func goldenItems() []Item {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	v, sum := 123.0, 4567.5
	return []Item{
		{Signal: KindSpan, Time: at, Service: "checkout", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
			Name: "GET /api/v1/cart/{id}", Kind: "SERVER", DurationNanos: 12_345_678,
			Attributes: map[string]any{"http.response.status_code": 200.0, "http.route": "/api/v1/cart/{id}"}},
		{Signal: KindSpan, Time: at, Service: "payment", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Name: "Charge",
			Kind: "CLIENT", DurationNanos: 1_500_000_000, Status: "ERROR", StatusMessage: "card declined"},
		{Signal: KindSpan, Time: at, Service: "cart", Name: "validate", Kind: "INTERNAL", DurationNanos: 850},
		{Signal: KindLog, Time: at, Service: "cart", Severity: "WARN", SeverityNumber: 13,
			Body: "Slow query detected:\nSELECT took 250 ms", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
			Attributes: map[string]any{"user.id": "user-10001", "note": "two words"}},
		{Signal: KindLog, Time: at, Service: "email", SeverityNumber: 17, Body: map[string]any{"event": "sent", "n": 3.0}},
		{Signal: KindMetric, Time: at, Service: "cart", Name: "http.server.request.count", MetricType: "sum", Value: &v,
			Attributes: map[string]any{"http.route": "/api/v1/cart", "http.request.method": "GET"}},
		{Signal: KindMetric, Time: at, Service: "cart", Name: "http.server.request.duration", MetricType: "histogram",
			Count: 42, Sum: &sum},
		{Signal: KindHeartbeat, Time: at, Dropped: 7},
	}
}

func TestFormatGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *Formatter
		json bool
	}{
		{"format.golden", &Formatter{Location: time.UTC}, false},
		{"format_color.golden", &Formatter{Location: time.UTC, Color: true}, false},
		{"format_narrow.golden", &Formatter{Location: time.UTC, MaxWidth: 60}, false},
		{"format_json.golden", nil, true},
	} {
		var b bytes.Buffer
		for _, it := range goldenItems() {
			var err error
			if tc.json {
				err = WriteJSON(&b, it)
			} else {
				err = tc.f.Write(&b, it)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join("testdata", tc.name)
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs:\n--- got\n%s--- want\n%s", tc.name, b.Bytes(), want)
		}
	}
}
