package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"

	"github.com/otlpd/otlpd/otlptest"
)

// TestCheckoutTelemetry is the integration test the CI pipelines run. With OTLPD_QUERY_URL set (the pipelines
// set it, and OTEL_EXPORTER_OTLP_ENDPOINT), the app exports to that otlpd and the test polls otlpd's
// Jaeger-compatible API until every expected span is there, failing with the list of what is missing. Without
// it, otlptest stands in for otlpd so the same expectations run in a plain `go test`.
func TestCheckoutTelemetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	queryURL := os.Getenv("OTLPD_QUERY_URL")
	if queryURL == "" {
		srv := otlptest.NewServer(t)
		if err := run(ctx, 5, []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(srv.GRPCAddr()), otlptracegrpc.WithInsecure()}); err != nil {
			t.Fatal(err)
		}
		if m := missing(fromOTLPTest(srv.Spans()), checkoutExpectations); len(m) > 0 {
			t.Fatalf("telemetry missing:\n  %s\nreceived:\n%s", strings.Join(m, "\n  "), srv.Spans())
		}
		return
	}
	if err := run(ctx, 5, nil); err != nil {
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
	if m, err := waitForTraces(ctx, queryURL, "checkout", checkoutExpectations, wait); err != nil || len(m) > 0 {
		t.Fatalf("telemetry missing in otlpd at %s after %s (err %v):\n  %s", queryURL, wait, err, strings.Join(m, "\n  "))
	}
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

// waitForTraces polls GET {base}/api/traces?service=… until want is met or wait passes; it returns what is
// still missing.
func waitForTraces(ctx context.Context, base, service string, want []expectation, wait time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	q := url.Values{"service": {service}, "limit": {"100"}, "lookback": {"1h"}}
	u := strings.TrimSuffix(base, "/") + "/api/traces?" + q.Encode()
	m := []string{"no answer from " + u}
	var lastErr error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
				lastErr = rerr
			case resp.StatusCode != http.StatusOK:
				lastErr = fmt.Errorf("GET %s: status %d: %.200s", u, resp.StatusCode, body)
			default:
				spans, perr := parseJaeger(body)
				if lastErr = perr; perr == nil {
					if m = missing(spans, want); len(m) == 0 {
						return nil, nil
					}
				}
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return m, lastErr
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// jaegerTrace renders one checkout trace in the Jaeger API's shape.
func jaegerTrace(tid string, status int, chargeError bool) string {
	errTag := ""
	if chargeError {
		errTag = `,{"key":"error","type":"bool","value":true}`
	}
	return fmt.Sprintf(`{"traceID":%[1]q,"processes":{"p1":{"serviceName":"checkout"}},"spans":[
		{"traceID":%[1]q,"spanID":"a1","operationName":"POST /checkout","processID":"p1","references":[],
		 "tags":[{"key":"http.response.status_code","type":"int64","value":%[2]d},{"key":"http.route","type":"string","value":"/checkout"}]},
		{"traceID":%[1]q,"spanID":"a2","operationName":"reserve stock","processID":"p1","references":[{"refType":"CHILD_OF","traceID":%[1]q,"spanID":"a1"}],"tags":[]},
		{"traceID":%[1]q,"spanID":"a3","operationName":"charge card","processID":"p1","references":[{"refType":"CHILD_OF","traceID":%[1]q,"spanID":"a1"}],
		 "tags":[{"key":"payment.provider","type":"string","value":"acmepay"}%[3]s]}]}`, tid, status, errTag)
}

// The CI path against a stand-in for otlpd's Jaeger API: complete data passes, and data without the declined
// charge fails with that expectation named.
func TestWaitForTracesAgainstJaegerAPI(t *testing.T) {
	complete := []string{jaegerTrace("t1", 200, false), jaegerTrace("t2", 200, false), jaegerTrace("t3", 200, false),
		jaegerTrace("t4", 200, false), jaegerTrace("t5", 402, true)}
	serve := func(traces []string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/traces" || r.URL.Query().Get("service") != "checkout" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, `{"data":[%s],"total":%d,"limit":0,"offset":0,"errors":null}`, strings.Join(traces, ","), len(traces))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ctx := context.Background()
	if m, err := waitForTraces(ctx, serve(complete), "checkout", checkoutExpectations, 2*time.Second); err != nil || len(m) > 0 {
		t.Fatalf("complete data: missing %v, err %v", m, err)
	}
	incomplete := append(append([]string{}, complete[:4]...), jaegerTrace("t5", 402, false))
	m, _ := waitForTraces(ctx, serve(incomplete), "checkout", checkoutExpectations, time.Second)
	if len(m) != 1 || !strings.Contains(m[0], `"charge card"`) || !strings.Contains(m[0], "error status") {
		t.Fatalf("missing error span not reported: %q", m)
	}
	m, err := waitForTraces(ctx, serve(nil)+"/nope", "checkout", checkoutExpectations, time.Second)
	if err == nil || len(m) == 0 {
		t.Fatalf("a wrong query URL must fail: %v %v", m, err)
	}
}
