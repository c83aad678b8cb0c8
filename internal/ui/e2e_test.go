package ui

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/query/filter"
	"github.com/otlpd/otlpd/internal/server"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/tail"
)

// startOtlpd runs a whole otlpd (memory storage) on loopback ports with the live tail and the interface
// mounted, as `otlpd serve` does, and returns its OTLP/HTTP and UI base URLs.
func startOtlpd(t *testing.T) (otlpHTTP, uiURL string) {
	t.Helper()
	return startOtlpdTail(t, tail.Options{})
}

// startOtlpdTail is startOtlpd with the live tail's hub configured by topts; the stream compiles filter
// expressions for logs, as otlpd serve does.
func startOtlpdTail(t *testing.T, topts tail.Options) (otlpHTTP, uiURL string) {
	t.Helper()
	return startOtlpdWith(t, topts, nil)
}

// startOtlpdWith is startOtlpdTail with the configuration changed by mut (when not nil).
func startOtlpdWith(t *testing.T, topts tail.Options, mut func(*config.Config)) (otlpHTTP, uiURL string) {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Storage = "memory" // the default is the engine, on disk in cfg.DataDir
	cfg.DataDir = t.TempDir()
	if mut != nil {
		mut(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hub := tail.NewHub(topts)
	context.AfterFunc(ctx, hub.Close)
	srv, err := server.New(cfg, nil, server.Options{
		Consumers: []pipeline.Consumer{hub.Consumer()},
		Routes: func(mux *http.ServeMux, _ storage.Backend) {
			mux.Handle("GET "+tail.Path, hub.Handler(tail.HandlerOptions{Heartbeat: time.Second, Compile: compileLogFilter}))
			Register(mux)
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("otlpd stopped with %v", err)
		}
	})
	uiURL = "http://" + srv.UIAddr().String()
	for i := 0; ; i++ {
		res, err := http.Get(uiURL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if i > 100 {
			t.Fatalf("otlpd not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + srv.HTTPAddr().String(), uiURL
}

// compileLogFilter compiles a live-tail filter for log records (the interface streams logs only).
func compileLogFilter(expr string, sig tail.Signals) (storage.SpanMatcher, storage.LogMatcher, error) {
	if sig != tail.Logs {
		return nil, nil, fmt.Errorf("this test server filters logs only")
	}
	f, err := filter.ParseLogs(expr)
	if err != nil {
		return nil, nil, err
	}
	return nil, f, nil
}

// export sends a protobuf OTLP/HTTP request and fails the test unless otlpd accepts it.
func export(t *testing.T, url string, body []byte) {
	t.Helper()
	res, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export to %s: %s", url, res.Status)
	}
}

// TestBrowserRealServer loads the fixture telemetry into a real otlpd over OTLP/HTTP and drives the interface
// it serves: trace view, span details, the trace's logs and the way back, the log explorer, and escaping.
func TestBrowserRealServer(t *testing.T) {
	ctx := browser(t)
	f := newFixture(5, time.Now(), 0)
	otlp, base := startOtlpd(t)
	for _, id := range f.order {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(tracesPdata(f.traces[id]))
		if err != nil {
			t.Fatal(err)
		}
		export(t, otlp+"/v1/traces", b)
	}
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(logsPdata(f.logs))
	if err != nil {
		t.Fatal(err)
	}
	export(t, otlp+"/v1/logs", b)

	// a trace that has logs, and one of them
	var tid string
	for _, l := range f.logs {
		if l.hasTrace && hex16(l.traceID) != f.xssTrace {
			tid = hex16(l.traceID)
			break
		}
	}
	spans := f.traces[tid]
	step(t, ctx, "open trace", chromedp.Navigate(base+"/#/trace/"+tid), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)))
	if got := textOf(t, ctx, ".span-count"); got != fmt.Sprint(len(spans)) {
		t.Errorf("span count = %s, want %d", got, len(spans))
	}
	if n := count(t, ctx, ".wf-row"); n != len(spans) {
		t.Errorf("rows = %d, want %d", n, len(spans))
	}
	root := hex8(spans[0].spanID)
	step(t, ctx, "select root", chromedp.Click(chromedp.CSS(`.wf-row[data-span-id="`+root+`"]`)), chromedp.WaitVisible(chromedp.CSS(`.span-detail[data-span-id="`+root+`"]`)))
	if d := textOf(t, ctx, ".span-detail"); !strings.Contains(d, "host.name") || !strings.Contains(d, spans[0].name) {
		t.Errorf("span details from the real API lack the resource or the name: %q", d)
	}
	want := 0
	for _, l := range f.logs {
		if l.hasTrace && hex16(l.traceID) == tid {
			want++
		}
	}
	step(t, ctx, "trace logs", chromedp.Click(`//button[normalize-space(.)="Trace logs"]`), chromedp.WaitVisible(chromedp.CSS(".trace-logs .log-row")))
	if n := count(t, ctx, ".trace-logs .log-row"); n != want {
		t.Errorf("trace logs = %d rows, want the %d logs of this trace", n, want)
	}
	step(t, ctx, "log -> trace", chromedp.Click(chromedp.CSS(".trace-logs .log-row")), chromedp.Click(chromedp.CSS(".trace-logs .log-detail a.btn")),
		chromedp.WaitVisible(chromedp.CSS(".span-detail")))
	if hash := eval[string](t, ctx, `location.hash`); !strings.HasPrefix(hash, "#/trace/"+tid) || !strings.Contains(hash, "span=") {
		t.Errorf("the log's trace link led to %s", hash)
	}

	x := f.traces[f.xssTrace]
	step(t, ctx, "markup trace", chromedp.Navigate(base+"/#/trace/"+f.xssTrace+"?span="+hex8(x[0].spanID)), chromedp.WaitVisible(chromedp.CSS(".span-detail")),
		chromedp.Click(chromedp.CSS(`.wf-row[data-span-id="`+hex8(x[len(x)-1].spanID)+`"]`)), chromedp.WaitVisible(chromedp.CSS(`.span-detail[data-span-id="`+hex8(x[len(x)-1].spanID)+`"]`)))
	if d := textOf(t, ctx, ".span-detail .title"); !strings.Contains(d, xssPayload) {
		t.Errorf("span name holding markup shows as %q", d)
	}
	if eval[bool](t, ctx, `window.__xss === 1`) || count(t, ctx, "#main img") != 0 {
		t.Error("markup from telemetry became live")
	}

	step(t, ctx, "log explorer", chromedp.Navigate(base+"/#/logs?range=1h&limit=100"), chromedp.WaitVisible(chromedp.CSS(".log-row")))
	if n := count(t, ctx, ".log-row"); n != 100 {
		t.Errorf("log explorer rows = %d, want 100", n)
	}
}
