package loki

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage/memory"
)

// FuzzParseLogQL checks that the parser never panics, that every failure is a *ParseError with a position
// inside the query, and that whatever parses prints (Format) to a query that parses back to the same form.
func FuzzParseLogQL(f *testing.F) {
	for _, s := range []string{
		`{service_name="shop"} |= "error" | json | level="error"`,
		`sum by (level, detected_level) (count_over_time({service_name=~".+"} | drop __error__ [1m]))`,
		`topk(3, sum by (service_name) (rate({a="b"}[5m]))) > bool 0.5`,
		`vector(1)+vector(1)`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseLogQL(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLogQL(%q): error %v is no *ParseError", s, err)
			}
			if pe.Line < 1 || pe.Col < 1 || pe.Line > len(s)+1 || pe.Col > len(s)+1 {
				t.Fatalf("ParseLogQL(%q): position %d:%d outside the query", s, pe.Line, pe.Col)
			}
			return
		}
		out := Format(e)
		e2, err := ParseLogQL(out)
		if err != nil {
			t.Fatalf("ParseLogQL(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if out2 := Format(e2); out2 != out {
			t.Fatalf("ParseLogQL(%q) printed %q, which prints as %q", s, out, out2)
		}
	})
}

// FuzzQueryRange sends fuzzed parameters to query_range and query over the fixture: every answer must be
// valid JSON with status 200 or 400 (never a crash or a 500), and a 400 must carry a message.
func FuzzQueryRange(f *testing.F) {
	f.Add(`{service_name="shop"} |= "GET"`, "1767268800000000000", "1767268860000000000", "20000ms", "backward", "100", false)
	f.Add(`sum by (level) (count_over_time({service_name=~".+"}[20s]))`, "1767268800", "2026-01-01T12:01:00Z", "10", "forward", "", false)
	f.Add(`topk(1, rate({level="info"}[1m])) > bool 0`, "", "1767268860.5", "", "", "5001", true)
	f.Add(`vector(1)+vector(1)`, "0", "4000000000", "1s", "", "", true)
	srv := newInternalFixture(f)
	f.Fuzz(func(t *testing.T, q, start, end, step, direction, limit string, instant bool) {
		v := url.Values{"query": {q}, "start": {start}, "end": {end}, "step": {step}, "direction": {direction}, "limit": {limit}}
		paths := []string{"/loki/api/v1/query_range", "/loki/api/v1/index/volume_range"}
		if instant {
			paths = []string{"/loki/api/v1/query", "/loki/api/v1/index/volume"}
			v.Set("time", end)
		}
		for _, path := range paths {
			checkAnswer(t, srv, path, v)
		}
	})
}

// checkAnswer sends one request: the answer must be valid JSON with status 200 or 400 (with a message).
func checkAnswer(t *testing.T, srv http.Handler, path string, v url.Values) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path+"?"+v.Encode(), nil)
	rec := httptest.NewRecorder()
	// A request that runs away must crash the worker so that the fuzzer keeps the input.
	watchdog := time.AfterFunc(20*time.Second, func() { panic("request still running after 20s: " + path + "?" + v.Encode()) })
	srv.ServeHTTP(rec, req)
	watchdog.Stop()
	body := rec.Body.Bytes()
	if !json.Valid(body) {
		t.Fatalf("%s?%s: invalid JSON %q", path, v.Encode(), body)
	}
	switch rec.Code {
	case http.StatusOK:
	case http.StatusBadRequest:
		var e struct{ Message string }
		if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
			t.Fatalf("%s?%s: 400 without a message: %s", path, v.Encode(), body)
		}
	default:
		t.Fatalf("%s?%s: status %d: %s", path, v.Encode(), rec.Code, body)
	}
}

// newInternalFixture serves the API over a memory store with a few records around 2026-01-01T12:00:00Z,
// small scan and series limits, and a short timeout.
func newInternalFixture(tb testing.TB) http.Handler {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	store := memory.New(memory.Options{})
	tb.Cleanup(func() { _ = store.Close() })
	ld := plog.NewLogs()
	for s, svc := range []string{"shop", "payments"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", svc)
		rl.Resource().Attributes().PutStr("host.name", "web-1")
		recs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range 20 {
			r := recs.AppendEmpty()
			r.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i*3+s) * time.Second)))
			r.SetSeverityNumber(plog.SeverityNumber(1 + (i*5)%24))
			if i%2 == 0 {
				r.Body().SetStr(`{"msg":"GET /cart","status":200,"ms":` + string(rune('0'+i%10)) + `}`)
			} else {
				r.Body().SetStr(`msg="GET /pay" status=500 ms=1`)
			}
			r.Attributes().PutStr("http.route", "/cart")
		}
	}
	if err := store.WriteLogs(context.Background(), ld); err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	New(store, Options{Now: func() time.Time { return t0.Add(time.Minute) }, MaxScan: 1000, MaxSeries: 100,
		Timeout: 5 * time.Second}).Register(mux)
	return mux
}
