package jaeger

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// discard is a ResponseWriter that counts and drops the body, so the benchmark measures the handler's own
// memory, not a buffered copy of the response.
type discard struct {
	h http.Header
	n int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkTrace50k streams a 50,000-span trace through GET /api/traces/{id} and reports the response size
// and the peak heap above the stored data while serving it.
func BenchmarkTrace50k(b *testing.B) {
	st := memory.New(memory.Options{})
	defer st.Close()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "big")
	ss := rs.ScopeSpans().AppendEmpty()
	id := pcommon.TraceID{1}
	for i := range 50_000 {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(id)
		sp.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8), byte(i >> 16), 1})
		sp.SetName("step")
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * time.Microsecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i+5) * time.Microsecond)))
		sp.Attributes().PutStr("http.route", "/items/{id}")
		sp.Attributes().PutInt("n", int64(i))
	}
	if err := st.WriteSpans(context.Background(), td); err != nil {
		b.Fatal(err)
	}
	td = ptrace.Traces{}
	mux := http.NewServeMux()
	New(query.New(st, st, query.Options{}), nil).Register(mux)
	runtime.GC()
	baseline := heapObjects()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if v := heapObjects(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	var size int64
	for b.Loop() {
		w := &discard{h: http.Header{}}
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/traces/01000000000000000000000000000000", nil))
		size = w.n
	}
	b.StopTimer()
	close(stop)
	<-done
	b.SetBytes(size)
	b.ReportMetric(float64(size)/(1<<20), "response-MiB")
	b.ReportMetric(float64(peak.Load()-min(baseline, peak.Load()))/(1<<20), "peak-heap-MiB")
}
