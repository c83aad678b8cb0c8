package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"

	"github.com/otlpd/otlpd/otlptest"
)

// TestCheckoutTelemetry is the integration test the CI pipelines run. With OTLPD_QUERY_URL set (the pipelines
// set it, and OTEL_EXPORTER_OTLP_ENDPOINT), the app exports to that otlpd and the test reads each checkout's
// trace back from otlpd's query API until every expected span is there, failing with the list of what is
// missing. Without it, otlptest stands in for otlpd so the same expectations run in a plain `go test`.
func TestCheckoutTelemetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	queryURL := os.Getenv("OTLPD_QUERY_URL")
	if queryURL == "" {
		srv := otlptest.NewServer(t)
		if _, err := run(ctx, 5, []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(srv.GRPCAddr()), otlptracegrpc.WithInsecure()}); err != nil {
			t.Fatal(err)
		}
		if m := missing(fromOTLPTest(srv.Spans()), checkoutExpectations); len(m) > 0 {
			t.Fatalf("telemetry missing:\n  %s\nreceived:\n%s", strings.Join(m, "\n  "), srv.Spans())
		}
		return
	}
	traceIDs, err := run(ctx, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	wait := 30 * time.Second
	if s := os.Getenv("OTLPD_WAIT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("OTLPD_WAIT=%q: %v", s, err)
		}
		wait = d
	}
	if m, err := waitForTraces(ctx, queryURL, traceIDs, checkoutExpectations, wait); err != nil || len(m) > 0 {
		t.Fatalf("telemetry missing in otlpd at %s after %s (last error: %v):\n  %s", queryURL, wait, err, strings.Join(m, "\n  "))
	}
	t.Logf("all %d expectations met by %d traces in otlpd", len(checkoutExpectations), len(traceIDs))
}

func fromOTLPTest(spans otlptest.Spans) []observed {
	out := make([]observed, 0, len(spans))
	for _, s := range spans {
		o := observed{TraceID: s.TraceID, SpanID: s.SpanID, ParentID: s.ParentSpanID, Name: s.Name, Service: s.Service(),
			Attrs: map[string]string{}, Error: s.StatusCode == "Error"}
		for k, v := range s.Attributes {
			o.Attrs[k] = fmt.Sprint(v)
		}
		out = append(out, o)
	}
	return out
}

// waitForTraces reads GET {base}/api/otlpd/traces/{id} for every trace ID until want is met or wait passes
// (a trace not yet stored answers 404); it returns what is still missing and the last error seen.
// Each round of requests completes (bounded by ctx only), so the answer reflects a full read.
func waitForTraces(ctx context.Context, base string, traceIDs []string, want []expectation, wait time.Duration) ([]string, error) {
	deadline := time.After(wait)
	var m []string
	for {
		var spans []observed
		var lastErr error
		for _, id := range traceIDs {
			got, err := fetchTrace(ctx, base, id)
			if err != nil {
				lastErr = err
				continue
			}
			spans = append(spans, got...)
		}
		if m = missing(spans, want); len(m) == 0 {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-deadline:
			return m, lastErr
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func fetchTrace(ctx context.Context, base, traceID string) ([]observed, error) {
	u := strings.TrimSuffix(base, "/") + "/api/otlpd/traces/" + url.PathEscape(traceID)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.200s", u, resp.StatusCode, body)
	}
	return parseTracesJSON(body)
}

// fakeOTLPD answers /api/otlpd/traces/{id} like otlpd, from spans received by an otlptest server.
func fakeOTLPD(t *testing.T, spans otlptest.Spans) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/api/otlpd/traces/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "checkout")
		ss := rs.ScopeSpans().AppendEmpty()
		for _, s := range spans {
			if s.TraceID != id {
				continue
			}
			sp := ss.Spans().AppendEmpty()
			sp.SetName(s.Name)
			var tid pcommon.TraceID
			var sid, pid pcommon.SpanID
			_, _ = hex.Decode(tid[:], []byte(s.TraceID))
			_, _ = hex.Decode(sid[:], []byte(s.SpanID))
			_, _ = hex.Decode(pid[:], []byte(s.ParentSpanID))
			sp.SetTraceID(tid)
			sp.SetSpanID(sid)
			sp.SetParentSpanID(pid)
			if s.StatusCode == "Error" {
				sp.Status().SetCode(ptrace.StatusCodeError)
			}
			_ = sp.Attributes().FromRaw(s.Attributes)
		}
		if ss.Spans().Len() == 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":"trace %s not found"}`, id)
			return
		}
		b, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The CI path against a stand-in for otlpd's query API: complete traces pass; traces without the declined
// charge's error fail with that expectation named; a wrong URL fails.
func TestWaitForTracesAgainstQueryAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	otlp := otlptest.NewServer(t)
	traceIDs, err := run(ctx, 5, []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(otlp.GRPCAddr()), otlptracegrpc.WithInsecure()})
	if err != nil {
		t.Fatal(err)
	}
	spans := otlp.Spans()
	if m, err := waitForTraces(ctx, fakeOTLPD(t, spans), traceIDs, checkoutExpectations, 5*time.Second); err != nil || len(m) > 0 {
		t.Fatalf("complete data: missing %v, err %v", m, err)
	}
	// The same traces, except that the declined charge lost its error status.
	unmarked := append(otlptest.Spans(nil), spans...)
	for i := range unmarked {
		if unmarked[i].Name == "charge card" {
			unmarked[i].StatusCode = "Unset"
		}
	}
	noError := fakeOTLPD(t, unmarked)
	m, _ := waitForTraces(ctx, noError, traceIDs, checkoutExpectations, time.Second)
	if len(m) != 1 || !strings.Contains(m[0], `"charge card"`) || !strings.Contains(m[0], "error status") {
		t.Fatalf("missing error span not reported: %q", m)
	}
	m, err = waitForTraces(ctx, fakeOTLPD(t, spans)+"/nope", traceIDs, checkoutExpectations, time.Second)
	if err == nil || len(m) == 0 {
		t.Fatalf("a wrong query URL must fail: %v %v", m, err)
	}
}
