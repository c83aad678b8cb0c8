package jaeger

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// TestV3TraceSpanLimit checks that /api/v3/traces/{id} stops at the trace span limit, across resources, and
// that what it returns is OTLP JSON pdata reads back.
func TestV3TraceSpanLimit(t *testing.T) {
	td := ptrace.NewTraces()
	for r := range 3 { // 3 resources x 4 spans
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "svc")
		ss := rs.ScopeSpans().AppendEmpty()
		for i := range 4 {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(traceA)
			s.SetSpanID(spanID(byte(r*4 + i + 1)))
			s.SetName("op")
			s.SetStartTimestamp(ts(float64(r*4 + i)))
			s.SetEndTimestamp(ts(float64(r*4 + i + 1)))
		}
	}
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	if err := st.WriteSpans(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 5, 12, 50} {
		q := query.New(st, st, query.Options{Now: func() time.Time { return base.Add(time.Hour) }, MaxTraceSpans: limit})
		mux := http.NewServeMux()
		New(q, nil).Register(mux)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v3/traces/"+traceIDHex(traceA), nil))
		if w.Code != http.StatusOK {
			t.Fatalf("limit %d: status %d: %s", limit, w.Code, w.Body.Bytes())
		}
		var env struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		var u ptrace.JSONUnmarshaler
		got, err := u.UnmarshalTraces(env.Result)
		if err != nil {
			t.Fatalf("limit %d: result is not OTLP JSON: %v", limit, err)
		}
		if want := min(limit, 12); got.SpanCount() != want {
			t.Errorf("limit %d: %d spans, want %d", limit, got.SpanCount(), want)
		}
		for i := range got.ResourceSpans().Len() {
			if got.ResourceSpans().At(i).ScopeSpans().At(0).Spans().Len() == 0 {
				t.Errorf("limit %d: empty resource left in the result", limit)
			}
		}
	}
}
