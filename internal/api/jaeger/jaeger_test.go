package jaeger

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var base = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

func ts(ms float64) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(base.Add(time.Duration(ms * float64(time.Millisecond))))
}

var (
	traceA = pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	traceB = pcommon.TraceID{15: 0x2a} // high half zero: Jaeger would print it short
)

func spanID(b byte) pcommon.SpanID { return pcommon.SpanID{0, 0, 0, 0, 0, 0, 0x10, b} }

// richTraces exercises every rule of the translation: two resources (one without service.name, one shared
// by two resource entries), scope name and version, every kind, status ok/error with message, an error
// attribute already present, trace state, links, events with and without names, every value type, a span
// ending before it starts.
func richTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	front := td.ResourceSpans().AppendEmpty()
	front.Resource().Attributes().PutStr("service.name", "front")
	front.Resource().Attributes().PutStr("host.name", "h1")
	front.Resource().Attributes().PutInt("process.pid", 4242)
	ss := front.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("io.otlpd.http")
	ss.Scope().SetVersion("1.2.0")

	root := ss.Spans().AppendEmpty()
	root.SetTraceID(traceA)
	root.SetSpanID(spanID(1))
	root.SetName("GET /cart")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(ts(0))
	root.SetEndTimestamp(ts(250.5))
	root.SetFlags(1)
	root.TraceState().FromRaw("vendor=abc,other=1")
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("upstream failed")
	a := root.Attributes()
	a.PutStr("http.route", "/cart")
	a.PutInt("http.response.status_code", 503)
	a.PutDouble("ratio", 0.25)
	a.PutBool("retry", true)
	a.PutEmptyBytes("blob").FromRaw([]byte{0, 1, 2, 250})
	_ = a.PutEmptySlice("list").FromRaw([]any{"x", int64(1)})
	_ = a.PutEmptyMap("obj").FromRaw(map[string]any{"k": "v"})
	a.PutEmpty("nothing")
	ev := root.Events().AppendEmpty()
	ev.SetName("exception")
	ev.SetTimestamp(ts(200))
	ev.Attributes().PutStr("exception.type", "Timeout")
	ev.Attributes().PutStr("exception.message", "db took too long")
	ev2 := root.Events().AppendEmpty()
	ev2.SetTimestamp(ts(210))
	ev2.Attributes().PutInt("retries", 2)

	client := ss.Spans().AppendEmpty()
	client.SetTraceID(traceA)
	client.SetSpanID(spanID(2))
	client.SetParentSpanID(spanID(1))
	client.SetName("SELECT cart")
	client.SetKind(ptrace.SpanKindClient)
	client.SetStartTimestamp(ts(10))
	client.SetEndTimestamp(ts(240))
	client.Status().SetCode(ptrace.StatusCodeOk)
	client.Attributes().PutStr("db.system.name", "postgresql") // an uninstrumented peer: a graph node
	l := client.Links().AppendEmpty()
	l.SetTraceID(traceB)
	l.SetSpanID(spanID(9))
	l.Attributes().PutStr("link.kind", "batch")

	// A second resource entry identical to the first: one process.
	front2 := td.ResourceSpans().AppendEmpty()
	front.Resource().CopyTo(front2.Resource())
	ss2 := front2.ScopeSpans().AppendEmpty()
	p := ss2.Spans().AppendEmpty()
	p.SetTraceID(traceA)
	p.SetSpanID(spanID(3))
	p.SetParentSpanID(spanID(1))
	p.SetName("publish")
	p.SetKind(ptrace.SpanKindProducer)
	p.SetStartTimestamp(ts(245))
	p.SetEndTimestamp(ts(246))
	p.Status().SetCode(ptrace.StatusCodeError)
	p.Attributes().PutBool("error", false) // an explicit error tag is kept, not duplicated

	anon := td.ResourceSpans().AppendEmpty()
	anon.Resource().Attributes().PutStr("k8s.pod.name", "pod-7")
	ss3 := anon.ScopeSpans().AppendEmpty()
	c := ss3.Spans().AppendEmpty()
	c.SetTraceID(traceA)
	c.SetSpanID(spanID(4))
	c.SetParentSpanID(spanID(3))
	c.SetName("consume")
	c.SetKind(ptrace.SpanKindConsumer)
	c.SetStartTimestamp(ts(300))
	c.SetEndTimestamp(ts(320))
	in := ss3.Spans().AppendEmpty()
	in.SetTraceID(traceA)
	in.SetSpanID(spanID(5))
	in.SetParentSpanID(spanID(4))
	in.SetName("work")
	in.SetKind(ptrace.SpanKindInternal)
	in.SetStartTimestamp(ts(301))
	in.SetEndTimestamp(ts(300)) // ends before it starts: duration 0

	// Trace B: one span of another service, older.
	back := td.ResourceSpans().AppendEmpty()
	back.Resource().Attributes().PutStr("service.name", "back")
	sb := back.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sb.SetTraceID(traceB)
	sb.SetSpanID(spanID(9))
	sb.SetName("batch")
	sb.SetKind(ptrace.SpanKindServer)
	sb.SetStartTimestamp(ts(-60_000))
	sb.SetEndTimestamp(ts(-59_000))
	sb.SetParentSpanID(spanID(2)) // a cross-service child of front's client span, in another trace: no edge
	return td
}

func newServer(t testing.TB, td ptrace.Traces) *httptest.Server {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	if err := st.WriteSpans(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	q := query.New(st, st, query.Options{Now: func() time.Time { return base.Add(time.Hour) }})
	mux := http.NewServeMux()
	New(q, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t testing.TB, srv *httptest.Server, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: content type %q", path, ct)
	}
	return resp.StatusCode, body
}

// TestGolden pins each response, status line and indented JSON, in testdata/<name>.golden (go test -update
// rewrites them).
func TestGolden(t *testing.T) {
	srv := newServer(t, richTraces())
	micros := func(d time.Duration) string {
		return url.QueryEscape(strings.TrimSpace(jsonNum(base.Add(d).UnixMicro())))
	}
	rfc := func(d time.Duration) string { return url.QueryEscape(base.Add(d).Format(time.RFC3339Nano)) }
	cases := []struct{ name, path string }{
		{"services", "/api/services"},
		{"service_operations", "/api/services/front/operations"},
		{"operations", "/api/operations?service=front"},
		{"operations_server", "/api/operations?service=front&spanKind=server"},
		{"operations_no_service", "/api/operations"},
		{"operations_bad_kind", "/api/operations?service=front&spanKind=sideways"},
		{"trace", "/api/traces/4bf92f3577b34da6a3ce929d0e0e4736"},
		{"trace_short_id", "/api/traces/2A"},
		{"trace_not_found", "/api/traces/" + strings.Repeat("f", 32)},
		{"trace_bad_id", "/api/traces/xyz"},
		{"search_tags", "/api/traces?service=front&tags=" + url.QueryEscape(`{"http.route":"/cart","error":"true"}`) +
			"&start=" + micros(-time.Hour) + "&end=" + micros(time.Hour)},
		{"search_tag_kind", "/api/traces?service=front&tag=span.kind:client&minDuration=200ms&maxDuration=1s&limit=5"},
		{"search_event_tag", "/api/traces?service=front&tags=" + url.QueryEscape(`{"exception.type":"Timeout"}`)},
		{"search_event_and_process_tags", "/api/traces?service=front&tag=retries:2&tag=host.name:h1&tag=http.route:/cart"},
		{"search_event_tag_no_match", "/api/traces?service=front&tag=exception.type:Nope"},
		{"search_tags_split_over_spans", "/api/traces?service=front&tag=retries:2&tag=db.system.name:postgresql"},
		{"search_empty", "/api/traces?service=front&minDuration=10s"},
		{"search_trace_ids", "/api/traces?traceID=2a&traceID=" + strings.Repeat("e", 32)},
		{"search_no_service", "/api/traces"},
		{"search_bad_durations", "/api/traces?service=front&minDuration=2s&maxDuration=1s"},
		{"search_bad_tags", "/api/traces?service=front&tags=%7Bnope"},
		{"search_bad_start", "/api/traces?service=front&start=yesterday"},
		{"dependencies", "/api/dependencies?endTs=" + jsonNum(base.Add(time.Hour).UnixMilli()) + "&lookback=" + jsonNum(2*time.Hour.Milliseconds())},
		{"dependencies_bad", "/api/dependencies?lookback=-1"},
		{"v3_services", "/api/v3/services"},
		{"v3_operations", "/api/v3/operations?service=front"},
		{"v3_operations_client", "/api/v3/operations?service=front&span_kind=client"},
		{"v3_operations_no_service", "/api/v3/operations"},
		{"v3_operations_bad_kind", "/api/v3/operations?service=front&span_kind=sideways"},
		{"v3_trace", "/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736?start_time=" + rfc(-time.Hour) + "&raw_traces=true"},
		{"v3_trace_not_found", "/api/v3/traces/" + strings.Repeat("f", 32)},
		{"v3_trace_bad_id", "/api/v3/traces/xyz"},
		{"v3_trace_bad_time", "/api/v3/traces/2a?end_time=yesterday"},
		{"v3_search", "/api/v3/traces?query.service_name=back&query.start_time_min=" + rfc(-2*time.Hour) + "&query.start_time_max=" + rfc(time.Hour)},
		{"v3_search_filters", "/api/v3/traces?query.service_name=front&query.operation_name=SELECT+cart&query.duration_min=200ms&query.duration_max=1s" +
			"&query.num_traces=5&query.attributes=" + url.QueryEscape(`{"db.system.name":"postgresql"}`) +
			"&query.start_time_min=" + rfc(-2*time.Hour) + "&query.start_time_max=" + rfc(time.Hour)},
		{"v3_search_event_attribute", "/api/v3/traces?query.service_name=front&query.attributes=" + url.QueryEscape(`{"exception.type":"Timeout","span.kind":"server"}`) +
			"&query.start_time_min=" + rfc(-2*time.Hour) + "&query.start_time_max=" + rfc(time.Hour)},
		{"v3_search_empty", "/api/v3/traces?query.service_name=front&query.duration_min=10s&query.start_time_min=" + rfc(-2*time.Hour) + "&query.start_time_max=" + rfc(time.Hour)},
		{"v3_search_no_times", "/api/v3/traces?query.service_name=front"},
		{"v3_search_bad_time", "/api/v3/traces?query.service_name=front&query.start_time_min=1700000000&query.start_time_max=" + rfc(time.Hour)},
		{"v3_search_reversed", "/api/v3/traces?query.service_name=front&query.start_time_min=" + rfc(time.Hour) + "&query.start_time_max=" + rfc(-time.Hour)},
		{"v3_search_bad_attributes", "/api/v3/traces?query.service_name=front&query.attributes=%7Bnope&query.start_time_min=" + rfc(-time.Hour) + "&query.start_time_max=" + rfc(time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, srv, c.path)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("response is not JSON: %v\n%s", err, body)
			}
			got := []byte(http.StatusText(code) + "\n" + pretty.String() + "\n")
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("GET %s differs from %s (go test -update rewrites it):\n%s", c.path, path, got)
			}
		})
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }
