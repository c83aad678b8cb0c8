package tail

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/workload"
)

// TestServerSentEvents reads the stream as a browser's EventSource does and decodes each event as OTLP JSON.
func TestServerSentEvents(t *testing.T) {
	h := NewHub(Options{Buffer: 1 << 16})
	compile := func(expr string, _ Signals) (storage.SpanMatcher, storage.LogMatcher, error) {
		return nil, logMatcherFunc(func(lr plog.LogRecord) bool { return lr.SeverityNumber() >= plog.SeverityNumberWarn }), nil
	}
	addr, _ := startHub(t, h, HandlerOptions{Compile: compile, Heartbeat: 50 * time.Millisecond}, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+Path+"?signal=logs,metrics&q=warn&service=cart", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	g := workload.New(4, workload.Options{})
	ld, md := g.NextLogs(3000), g.NextMetrics(workload.Resources*workload.SeriesPerResource)
	wantLogs := 0
	for _, rl := range ld.ResourceLogs().All() {
		if v, _ := rl.Resource().Attributes().Get("service.name"); v.Str() != "cart" {
			continue
		}
		for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
			if lr.SeverityNumber() >= plog.SeverityNumberWarn {
				wantLogs++
			}
		}
	}
	wantPoints := 5 * workload.SeriesPerResource

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var data strings.Builder
	gotLogs, gotPoints, comments := 0, 0, 0
	fed := false
	timeout := time.AfterFunc(10*time.Second, cancel)
	defer timeout.Stop()
	for sc.Scan() && (gotLogs < wantLogs || gotPoints < wantPoints) {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ": heartbeat dropped="):
			comments++
			if !fed { // subscribed: feed once
				fed = true
				_ = h.ConsumeLogs(ctx, ld)
				_ = h.ConsumeMetrics(ctx, md)
			}
		case strings.HasPrefix(line, "data: "):
			data.WriteString(strings.TrimPrefix(line, "data: "))
		case line == "" && data.Len() > 0:
			doc := []byte(data.String())
			data.Reset()
			if strings.Contains(string(doc), `"resourceLogs"`) {
				got, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(doc)
				if err != nil {
					t.Fatalf("event is not OTLP JSON logs: %v", err)
				}
				for _, rl := range got.ResourceLogs().All() {
					if v, _ := rl.Resource().Attributes().Get("service.name"); v.Str() != "cart" {
						t.Fatalf("log of service %q", v.Str())
					}
				}
				gotLogs += got.LogRecordCount()
			} else {
				got, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(doc)
				if err != nil {
					t.Fatalf("event is not OTLP JSON metrics: %v", err)
				}
				gotPoints += got.DataPointCount()
			}
		}
	}
	if gotLogs != wantLogs || wantLogs == 0 || gotPoints != wantPoints || comments == 0 {
		t.Fatalf("got %d logs (want %d), %d points (want %d), %d heartbeats", gotLogs, wantLogs, gotPoints, wantPoints, comments)
	}
}
