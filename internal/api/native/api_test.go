package native

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage/memory"
)

func newAPI(t testing.TB) (*httptest.Server, *memory.Store) {
	t.Helper()
	store := memory.New(memory.Options{})
	mux := http.NewServeMux()
	New(store, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		_ = store.Close()
	})
	return srv, store
}

func get(t testing.TB, srv *httptest.Server, path string) (int, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	return resp.StatusCode, body
}

func seed(t *testing.T, store *memory.Store) {
	ctx := context.Background()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "cart")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{0xab, 1})
	s.SetSpanID(pcommon.SpanID{1})
	s.SetName("GET /cart")
	s.SetStartTimestamp(1_700_000_000_000_000_000)
	s.SetEndTimestamp(1_700_000_001_000_000_000)
	if err := store.WriteSpans(ctx, td); err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	for i, svc := range []string{"cart", "cart", "pay"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", svc)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + int64(i)))
		lr.Body().SetInt(int64(i))
	}
	if err := store.WriteLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("queue/depth")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(1_700_000_000_000_000_000)
	dp.SetIntValue(3)
	if err := store.WriteMetrics(ctx, md); err != nil {
		t.Fatal(err)
	}
}

func TestAPI(t *testing.T) {
	srv, store := newAPI(t)
	seed(t, store)
	f := func(path string, wantCode int, check func(t *testing.T, body []byte)) {
		t.Helper()
		t.Run(path, func(t *testing.T) {
			code, body := get(t, srv, path)
			if code != wantCode {
				t.Fatalf("status %d, want %d: %s", code, wantCode, body)
			}
			if !json.Valid(body) {
				t.Fatalf("body is not JSON: %s", body)
			}
			if check != nil {
				check(t, body)
			}
		})
	}
	wantError := func(msg string) func(*testing.T, []byte) {
		return func(t *testing.T, body []byte) {
			var e errorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Error != msg {
				t.Errorf("error %q, want %q", e.Error, msg)
			}
		}
	}
	f("/api/otlpd/traces/ab010000000000000000000000000000", 200, func(t *testing.T, body []byte) {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
		if err != nil || td.SpanCount() != 1 || td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name() != "GET /cart" {
			t.Errorf("trace %s (%v)", body, err)
		}
	})
	f("/api/otlpd/traces/AB010000000000000000000000000000", 200, nil)
	f("/api/otlpd/traces/cd010000000000000000000000000000", 404, wantError("trace cd010000000000000000000000000000 not found"))
	f("/api/otlpd/traces/xyz", 400, wantError("trace ID must be 32 hex digits and not all zeros"))
	f("/api/otlpd/traces/00000000000000000000000000000000", 400, wantError("trace ID must be 32 hex digits and not all zeros"))
	f("/api/otlpd/services", 200, func(t *testing.T, body []byte) {
		if string(body) != `{"services":["cart"]}`+"\n" {
			t.Errorf("services %s", body)
		}
	})
	f("/api/otlpd/logs?limit=2", 200, func(t *testing.T, body []byte) {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(body)
		if err != nil || ld.LogRecordCount() != 2 {
			t.Fatalf("logs %s (%v)", body, err)
		}
		// Newest first: bodies 2 then 1.
		first := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Int()
		if first != 2 {
			t.Errorf("newest record body %d, want 2", first)
		}
	})
	f("/api/otlpd/logs?service=pay", 200, func(t *testing.T, body []byte) {
		ld, _ := (&plog.JSONUnmarshaler{}).UnmarshalLogs(body)
		if ld.LogRecordCount() != 1 {
			t.Errorf("logs for pay: %s", body)
		}
	})
	f("/api/otlpd/logs?limit=0", 400, wantError("limit must be an integer from 1 to 10000"))
	f("/api/otlpd/logs?limit=abc", 400, wantError("limit must be an integer from 1 to 10000"))
	f("/api/otlpd/metrics", 200, func(t *testing.T, body []byte) {
		if string(body) != `{"metrics":["queue/depth"]}`+"\n" {
			t.Errorf("metrics %s", body)
		}
	})
	f("/api/otlpd/metrics/"+url.PathEscape("queue/depth"), 200, func(t *testing.T, body []byte) {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(body)
		if err != nil || md.DataPointCount() != 1 {
			t.Errorf("points %s (%v)", body, err)
		}
	})
	f("/api/otlpd/metrics/nope", 404, wantError(`metric "nope" not found`))
	f("/api/otlpd/metrics/nope?limit=-1", 400, nil)
}

func TestEmptyStore(t *testing.T) {
	srv, _ := newAPI(t)
	for path, want := range map[string]string{
		"/api/otlpd/services": `{"services":[]}` + "\n",
		"/api/otlpd/metrics":  `{"metrics":[]}` + "\n",
		"/api/otlpd/logs":     `{}`,
	} {
		if code, body := get(t, srv, path); code != 200 || string(body) != want {
			t.Errorf("%s: %d %s, want %s", path, code, body, want)
		}
	}
}

// FuzzAPIParams drives the routes with arbitrary path segments and parameters: every answer must be JSON with
// a status the documentation lists.
func FuzzAPIParams(f *testing.F) {
	f.Add("ab010000000000000000000000000000", "10", "cart", "queue/depth")
	f.Add("zz", "-1", "", "")
	f.Add("", "99999999999999999999", "%", "a b")
	srv, store := newAPI(f)
	ctx := context.Background()
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{0xab, 1})
	s.SetSpanID(pcommon.SpanID{1})
	_ = store.WriteSpans(ctx, td)
	f.Fuzz(func(t *testing.T, traceID, limit, service, metric string) {
		paths := []string{
			"/api/otlpd/traces/" + url.PathEscape(traceID),
			"/api/otlpd/logs?" + url.Values{"limit": {limit}, "service": {service}}.Encode(),
			"/api/otlpd/metrics/" + url.PathEscape(metric) + "?" + url.Values{"limit": {limit}}.Encode(),
		}
		for _, p := range paths {
			resp, err := srv.Client().Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case 200, 400, 404:
			case 301, 307, 308:
				continue // the mux cleans paths such as "/a/../b"; no handler ran
			default:
				t.Fatalf("GET %s: status %d", p, resp.StatusCode)
			}
			if resp.StatusCode != 404 || resp.Header.Get("Content-Type") == "application/json" {
				if !json.Valid(body) {
					t.Fatalf("GET %s: %d body is not JSON: %q", p, resp.StatusCode, body)
				}
			}
		}
	})
}
