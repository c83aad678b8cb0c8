package native

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage/memory"
)

func tid(n int) pcommon.TraceID {
	var id pcommon.TraceID
	id[0] = 0xab
	binary.BigEndian.PutUint32(id[12:], uint32(n))
	return id
}

func sid(n int) pcommon.SpanID {
	var id pcommon.SpanID
	id[0] = 0xcd
	binary.BigEndian.PutUint32(id[4:], uint32(n))
	return id
}

// testData stores, a minute ago: trace 1 (front GET /cart -> cart POST /items with error, 3 spans) and trace 2
// (front GET / alone); trace 3 with 2500 spans; and 20 log records of trace 1.
func testData(t testing.TB) *httptest.Server {
	t.Helper()
	now := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	td := ptrace.NewTraces()
	add := func(service string) ptrace.SpanSlice {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		return rs.ScopeSpans().AppendEmpty().Spans()
	}
	span := func(ss ptrace.SpanSlice, trace, id, parent int, name string, kind ptrace.SpanKind, from, to time.Duration) ptrace.Span {
		s := ss.AppendEmpty()
		s.SetTraceID(tid(trace))
		s.SetSpanID(sid(id))
		if parent != 0 {
			s.SetParentSpanID(sid(parent))
		}
		s.SetName(name)
		s.SetKind(kind)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(from)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(to)))
		return s
	}
	front, cart := add("front"), add("cart")
	root := span(front, 1, 1, 0, "GET /cart", ptrace.SpanKindServer, 0, 300*time.Millisecond)
	root.Attributes().PutInt("http.response.status_code", 500)
	// A peer name on a call that cart answered: no peer edge (the call is front -> cart).
	span(front, 1, 2, 1, "call cart", ptrace.SpanKindClient, 10*time.Millisecond, 250*time.Millisecond).Attributes().PutStr("peer.service", "cart-api")
	span(cart, 1, 3, 2, "POST /items", ptrace.SpanKindServer, 20*time.Millisecond, 240*time.Millisecond).Status().SetCode(ptrace.StatusCodeError)
	span(front, 2, 1, 0, "GET /", ptrace.SpanKindServer, time.Second, time.Second+5*time.Millisecond)
	for i := range 2500 {
		span(front, 3, i+1, i/2, "step", ptrace.SpanKindInternal, time.Duration(i)*time.Microsecond, time.Duration(i+10)*time.Microsecond)
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "cart")
	for i := range 20 {
		r := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i) * time.Millisecond)))
		r.SetSeverityNumber(plog.SeverityNumberWarn)
		r.Body().SetStr("retrying item " + string(rune('a'+i)))
		r.SetTraceID(tid(1))
	}
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	if err := st.WriteSpans(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(st, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func getJSON(t *testing.T, srv *httptest.Server, path string, into any) int {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !json.Valid(body) {
		t.Fatalf("GET %s: invalid JSON %s", path, body)
	}
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func TestQueryRoutes(t *testing.T) {
	srv := testData(t)
	var search struct {
		Traces []struct {
			TraceID, RootService, RootName string
			SpanCount, ErrorCount          int
			Services                       []struct{ Service string }
		}
	}
	q := "/api/otlpd/traces?filter=" + url.QueryEscape(`http.response.status_code >= 500 and duration > 250ms`)
	if code := getJSON(t, srv, q, &search); code != 200 || len(search.Traces) != 1 {
		t.Fatalf("search: %d %+v", code, search)
	}
	if s := search.Traces[0]; s.TraceID != tid(1).String() || s.RootService != "front" || s.RootName != "GET /cart" ||
		s.SpanCount != 3 || s.ErrorCount != 1 || len(s.Services) != 2 {
		t.Errorf("summary %+v", s)
	}

	// Page through the 2500-span trace.
	seen := map[string]bool{}
	next := ""
	for pages := 0; ; pages++ {
		var page struct {
			Total, Count int
			Next         string
			Spans        struct {
				ResourceSpans []struct {
					ScopeSpans []struct{ Spans []struct{ SpanID string } }
				}
			}
		}
		path := "/api/otlpd/traces/" + tid(3).String() + "/spans?limit=1000"
		if next != "" {
			path += "&after=" + url.QueryEscape(next)
		}
		if code := getJSON(t, srv, path, &page); code != 200 || page.Total != 2500 {
			t.Fatalf("page %d: status %d total %d", pages, code, page.Total)
		}
		n := 0
		for _, rs := range page.Spans.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					if seen[s.SpanID] {
						t.Fatalf("span %s served twice", s.SpanID)
					}
					seen[s.SpanID] = true
					n++
				}
			}
		}
		if n != page.Count {
			t.Fatalf("page %d holds %d spans, count %d", pages, n, page.Count)
		}
		if next = page.Next; next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
	}
	if len(seen) != 2500 {
		t.Errorf("%d distinct spans served, want 2500", len(seen))
	}

	var an struct {
		RootSpanID   string
		CriticalPath []struct {
			SpanID               string
			StartNanos, EndNanos int64
		}
	}
	if code := getJSON(t, srv, "/api/otlpd/traces/"+tid(1).String()+"/analysis", &an); code != 200 || len(an.CriticalPath) != 5 {
		t.Errorf("analysis: %d %+v", code, an)
	}
	var cmp struct{ OnlyA, OnlyB, Both int }
	if code := getJSON(t, srv, "/api/otlpd/compare?a="+tid(1).String()+"&b="+tid(2).String(), &cmp); code != 200 || cmp.OnlyA != 3 || cmp.OnlyB != 1 || cmp.Both != 0 {
		t.Errorf("compare: %d %+v", code, cmp)
	}
	var logs struct {
		Count     int
		Histogram struct{ Total int }
	}
	if code := getJSON(t, srv, "/api/otlpd/logs/search?histogram=true&limit=5&filter="+url.QueryEscape(`body contains "retrying" and severity = warn`), &logs); code != 200 || logs.Count != 5 || logs.Histogram.Total != 20 {
		t.Errorf("log search: %d %+v", code, logs)
	}
	if code := getJSON(t, srv, "/api/otlpd/traces/"+tid(1).String()+"/logs", &logs); code != 200 || logs.Count != 20 {
		t.Errorf("logs of trace: %d %+v", code, logs)
	}
	var red struct {
		Series []struct {
			Service, Operation string
			Total              struct{ Count, Errors int }
		}
	}
	if code := getJSON(t, srv, "/api/otlpd/red?byOperation=true&step=1m&start="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), &red); code != 200 || len(red.Series) == 0 {
		t.Errorf("red: %d %+v", code, red)
	}
	for _, s := range red.Series {
		if s.Service == "cart" && s.Operation == "" && (s.Total.Count != 1 || s.Total.Errors != 1) {
			t.Errorf("cart RED %+v, want 1 request, 1 error", s)
		}
	}
	var deps struct {
		Edges []struct {
			Parent, Child         string
			CallCount, ErrorCount int
		}
	}
	if code := getJSON(t, srv, "/api/otlpd/dependencies", &deps); code != 200 || len(deps.Edges) != 1 || deps.Edges[0].ErrorCount != 1 {
		t.Errorf("dependencies: %d %+v", code, deps)
	}
	var withPeers struct {
		Edges []struct {
			Parent, Child string
			Peer          bool
		}
		Peers []string
	}
	if code := getJSON(t, srv, "/api/otlpd/dependencies?peers=true", &withPeers); code != 200 || len(withPeers.Edges) != 1 ||
		withPeers.Edges[0].Child != "cart" || withPeers.Edges[0].Peer || withPeers.Peers == nil || len(withPeers.Peers) != 0 {
		t.Errorf("dependencies with peers: %d %+v", code, withPeers)
	}
	if code := getJSON(t, srv, "/api/otlpd/dependencies?peers=maybe", nil); code != http.StatusBadRequest {
		t.Errorf("dependencies?peers=maybe: %d, want 400", code)
	}
	var attrs struct{ Entries []struct{ Name string } }
	if code := getJSON(t, srv, "/api/otlpd/attributes?key=http.response.status_code", &attrs); code != 200 || len(attrs.Entries) != 1 || attrs.Entries[0].Name != "500" {
		t.Errorf("attribute values: %d %+v", code, attrs)
	}
	var ops struct {
		Operations []struct{ Service, Name, Kind string }
	}
	if code := getJSON(t, srv, "/api/otlpd/operations?service=cart", &ops); code != 200 || len(ops.Operations) != 1 || ops.Operations[0].Kind != "SPAN_KIND_SERVER" {
		t.Errorf("operations: %d %+v", code, ops)
	}

	// Errors: status and a message that says what is wrong.
	for _, c := range []struct {
		path string
		code int
		msg  string
	}{
		{"/api/otlpd/traces?filter=" + url.QueryEscape("duration >"), 400, "1:11: expected a value after '>', found end of input"},
		{"/api/otlpd/traces?minDuration=fast", 400, "parameter 'minDuration' must be a non-negative duration"},
		{"/api/otlpd/traces?start=yesterday", 400, "parameter 'start' must be an RFC 3339 time or Unix milliseconds"},
		{"/api/otlpd/traces/xyz/summary", 400, "trace ID must be 1 to 32 hex digits"},
		{"/api/otlpd/traces/" + strings.Repeat("f", 32) + "/analysis", 404, "trace not found"},
		{"/api/otlpd/traces/" + tid(3).String() + "/spans?after=nope", 400, "page cursor"},
		{"/api/otlpd/compare?a=1", 400, "parameter 'b'"},
		{"/api/otlpd/logs/search?filter=" + url.QueryEscape("kind = server"), 400, "'kind' is a field of spans, not of log records"},
		{"/api/otlpd/red?step=1ns", 400, "more than the limit of"},
		{"/api/otlpd/attributes?signal=metrics", 400, "parameter 'signal' must be spans or logs"},
	} {
		var e struct{ Error string }
		if code := getJSON(t, srv, c.path, &e); code != c.code || !strings.Contains(e.Error, c.msg) {
			t.Errorf("GET %s: %d %q, want %d containing %q", c.path, code, e.Error, c.code, c.msg)
		}
	}
}

// FuzzQueryParams sends arbitrary query strings to every search and analysis route: each answer must be
// JSON with status 200, 400 or 404 — never a crash or a 500.
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{
		"filter=duration+%3E+1s&limit=5&offset=0",
		"start=2026-11-26T00:00:00Z&end=1795654800000&step=1m&byOperation=true",
		"after=1-00000000000000aa&limit=1",
		"a=1&b=2",
		"histogram=true&step=-1s&order=oldest",
		"key=x&scope=resource&prefix=a&sample=5",
		"filter=%22",
	} {
		f.Add(s)
	}
	srv := testData(f)
	mux := srv.Config.Handler
	routes := []string{"traces", "traces/" + tid(1).String() + "/spans", "traces/" + tid(1).String() + "/summary",
		"traces/" + tid(1).String() + "/analysis", "traces/" + tid(1).String() + "/logs", "compare", "logs/search",
		"operations", "attributes", "red", "dependencies"}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, route := range routes {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.Path = Prefix + route
			r.URL.RawQuery = rawQuery
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != 200 && w.Code != 400 && w.Code != 404 {
				t.Fatalf("%s?%s: status %d: %s", route, rawQuery, w.Code, w.Body.Bytes())
			}
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s?%s: invalid JSON %s", route, rawQuery, w.Body.Bytes())
			}
		}
	})
}
