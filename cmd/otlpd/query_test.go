package main

import (
	"context"
	"flag"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func cannedTrace() []byte {
	td := ptrace.NewTraces()
	add := func(svc, name string, kind ptrace.SpanKind, id, parent byte, startMs, durMs int, errMsg string) {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID{0x4b, 0xf9, 15: 0x36})
		sp.SetSpanID(pcommon.SpanID{7: id})
		if parent != 0 {
			sp.SetParentSpanID(pcommon.SpanID{7: parent})
		}
		sp.SetName(name)
		sp.SetKind(kind)
		start := t0.Add(time.Duration(startMs) * time.Millisecond)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(durMs) * time.Millisecond)))
		if errMsg != "" {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage(errMsg)
		}
	}
	// Out of order on purpose: the tree orders by parent and start.
	add("cart", "SELECT carts", ptrace.SpanKindClient, 4, 3, 30, 5, "timeout")
	add("frontend", "GET /cart", ptrace.SpanKindServer, 1, 0, 0, 120, "")
	add("cart", "GetCart", ptrace.SpanKindServer, 3, 2, 12, 50, "")
	add("frontend", "cart.GetCart", ptrace.SpanKindClient, 2, 1, 10, 55, "")
	add("frontend", "render", ptrace.SpanKindInternal, 5, 1, 70, 40, "")
	b, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	return b
}

func cannedLogs() []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "cart")
	for i, body := range []string{"cart emptied", "payment declined"} {
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * time.Second)))
		lr.SetSeverityNumber(plog.SeverityNumberWarn + plog.SeverityNumber(4*i))
		lr.Body().SetStr(body)
		lr.Attributes().PutStr("user.id", "user-1")
	}
	b, _ := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	return []byte(`{"count":7,"logs":` + string(b) + `}`)
}

const cannedSearch = `{"traces":[
 {"traceId":"4bf90000000000000000000000000036","rootService":"frontend","rootName":"GET /cart","start":"2026-01-02T03:04:05Z",
  "durationNanos":120000000,"spanCount":5,"errorCount":1,"services":[{"service":"frontend"},{"service":"cart"}]},
 {"traceId":"0af7651916cd43dd8448eb211c80319c","rootService":"cart","rootName":"GetCart","start":"2026-01-02T03:04:01.5Z",
  "durationNanos":850000,"spanCount":2,"errorCount":0,"services":[{"service":"cart"}],"rootMissing":true}]}`

const cannedVector = `{"status":"success","data":{"resultType":"vector","result":[
 {"metric":{"__name__":"http_server_request_duration_count","http_route":"/cart","job":"cart"},"value":[1767323045.5,"42"]},
 {"metric":{"http_route":"/checkout"},"value":[1767323045.5,"0.25"]}]},"warnings":["a warning"]}`

const cannedMatrix = `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"up","job":"cart"},"values":[[1767323040,"1"],[1767323100,"0"]]}]}}`

// fakeAPI serves canned answers in the shapes of otlpd's APIs and records the last query of each path.
func fakeAPI(t *testing.T) (string, func(path string) url.Values) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]url.Values{}
	mux := http.NewServeMux()
	answer := func(path, body string, code int) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.URL.Path] = r.URL.Query()
			mu.Unlock()
			if r.URL.Query().Get("filter") == "bad" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"filter: 1:1: expected a field name, found 'bad'"}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		})
	}
	answer("/api/otlpd/traces", cannedSearch, 200)
	answer("/api/otlpd/traces/4bf90000000000000000000000000036", string(cannedTrace()), 200)
	answer("/api/otlpd/traces/00000000000000000000000000000001", `{"error":"trace 00000000000000000000000000000001 not found"}`, 404)
	answer("/api/otlpd/logs/search", string(cannedLogs()), 200)
	answer("/api/otlpd/services", `{"services":["cart","frontend"]}`, 200)
	answer("/api/v1/query", cannedVector, 200)
	answer("/api/v1/query_range", cannedMatrix, 200)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String(), func(path string) url.Values {
		mu.Lock()
		defer mu.Unlock()
		return seen[path]
	}
}

func TestQueryGolden(t *testing.T) {
	addr, seen := fakeAPI(t)
	f := func(name string, args ...string) {
		t.Helper()
		code, out, errs := runCmd(t, append([]string{"query"}, append(args, "--server", addr, "--utc")...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		golden(t, "query_"+name+".golden", out)
	}
	f("traces", "traces", "--filter", `duration > 100ms`, "--service", "frontend", "--min-duration", "100ms", "--limit", "2")
	if q := seen("/api/otlpd/traces"); q.Get("filter") != "duration > 100ms" || q.Get("service") != "frontend" ||
		q.Get("minDuration") != "100ms" || q.Get("limit") != "2" {
		t.Errorf("trace search sent %v", q)
	}
	f("trace", "trace", "4bf90000000000000000000000000036")
	f("logs", "logs", "--filter", "severity >= warn", "--limit", "2", "--start", "2026-01-02T03:00:00Z", "--end", "2026-01-02T04:00:00Z")
	if q := seen("/api/otlpd/logs/search"); q.Get("filter") != "severity >= warn" || q.Get("start") != "2026-01-02T03:00:00Z" ||
		q.Get("end") != "2026-01-02T04:00:00Z" || q.Get("order") != "newest" {
		t.Errorf("log search sent %v", q)
	}
	f("services", "services")
	f("promql_vector", "promql", "sum(rate(x[5m]))", "--time", "2026-01-02T03:04:05.5Z")
	if q := seen("/api/v1/query"); q.Get("query") != "sum(rate(x[5m]))" || q.Get("time") != "1767323045.500" {
		t.Errorf("instant query sent %v", q)
	}
	f("promql_matrix", "promql", "--start", "2026-01-02T03:00:00Z", "--end", "2026-01-02T04:00:00Z", "up")
	if q := seen("/api/v1/query_range"); q.Get("start") != "1767322800.000" || q.Get("end") != "1767326400.000" || q.Get("step") != "60" {
		t.Errorf("range query sent %v", q)
	}
	f("json", "services", "--output", "json")
}

func TestQueryErrors(t *testing.T) {
	addr, _ := fakeAPI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	f := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		code, _, errs := runCmd(t, append([]string{"query"}, args...)...)
		if code != wantCode || !strings.Contains(errs, wantErr) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", args, code, errs, wantCode, wantErr)
		}
	}
	f(2, "missing what to query")
	f(2, `unknown query "spans"`, "spans")
	f(2, "flag provided but not defined: -nope", "traces", "--nope")
	f(2, "want one trace ID", "trace", "--server", addr)
	f(2, "want one PromQL expression", "promql", "--server", addr)
	f(2, `--output "yaml"`, "services", "--output", "yaml", "--server", addr)
	f(2, "--since and --start exclude each other", "traces", "--since", "1h", "--start", "2026-01-02T03:00:00Z")
	f(2, `--start "yesterday"`, "logs", "--start", "yesterday")
	f(2, "filter: 1:1: expected a field name", "traces", "--filter", "bad", "--server", addr)
	f(1, "trace 00000000000000000000000000000001 not found", "trace", "00000000000000000000000000000001", "--server", addr)
	f(1, "cannot reach otlpd at "+closed+": dial tcp "+closed+": connect: connection refused", "services", "--server", closed)
	for _, args := range [][]string{{"--help"}, {"traces", "--help"}, {"trace", "--help"}} {
		code, out, _ := runCmd(t, append([]string{"query"}, args...)...)
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// TestQueryAgainstOtlpd shows a trace the SDK exported to a real otlpd.
func TestQueryAgainstOtlpd(t *testing.T) {
	srv, _ := startOtlpd(t, "")
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(srv.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tr := tracerProvider(t, "checkout", exp).Tracer("t")
	ctx, root := tr.Start(context.Background(), "POST /checkout")
	_, child := tr.Start(ctx, "charge card")
	child.End()
	root.End()
	id := root.SpanContext().TraceID().String()
	ui := srv.UIAddr().String()
	code, out, errs := runCmd(t, "query", "trace", id, "--server", ui)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "trace "+id+": 2 spans, 1 service") ||
		!strings.HasSuffix(lines[2], "checkout  POST /checkout INTERNAL") || !strings.HasSuffix(lines[3], "checkout    charge card INTERNAL") {
		t.Fatalf("output:\n%s", out)
	}
	code, out, _ = runCmd(t, "query", "services", "--server", ui)
	if code != 0 || out != "checkout\n" {
		t.Fatalf("services: exit %d, %q", code, out)
	}
	code, out, errs = runCmd(t, "query", "traces", "--server", ui, "--service", "checkout", "--since", "1h")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "checkout: POST /checkout") {
		t.Fatalf("traces: exit %d, %s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "query", "traces", "--server", ui, "--filter", `name = "nothing"`)
	if code != 0 || out != "no traces found\n" {
		t.Fatalf("traces with no match: exit %d, %q %s", code, out, errs)
	}

	// Logs and metrics come from the load generator: 300 records and one interval of 1,000 points of one
	// resource.
	for _, sig := range []string{"logs", "metrics"} {
		if code, _, errs := runCmd(t, "loadgen", "--endpoint", srv.GRPCAddr().String(), "--signal", sig, "--batch", "100",
			"--requests", "3", "--workers", "1", "--pool-mb", "1", "--duration", "30s"); code != 0 {
			t.Fatalf("loadgen %s: %s", sig, errs)
		}
	}
	code, out, errs = runCmd(t, "query", "logs", "--server", ui, "--filter", "severity >= error", "--limit", "1000")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 10 {
		t.Fatalf("logs: exit %d, %d lines: %s%s", code, len(lines), out, errs)
	}
	for _, l := range lines {
		if !strings.Contains(l, " ERROR ") && !strings.Contains(l, " FATAL ") {
			t.Fatalf("logs: line %q is not an error", l)
		}
	}
	code, out, errs = runCmd(t, "query", "promql", "--server", ui, `count({__name__=~"http_server_request.*"})`)
	if code != 0 || !regexp.MustCompile(`^\{\}\s+\d+\s+\d{4}-`).MatchString(out) {
		t.Fatalf("promql: exit %d, %q %s", code, out, errs)
	}
	code, _, errs = runCmd(t, "query", "promql", "--server", ui, "sum(")
	if code != 2 || strings.Count(errs, "\n") != 1 {
		t.Fatalf("bad PromQL: exit %d, %q", code, errs)
	}
}
