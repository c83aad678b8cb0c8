package storagetest

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// Factory opens the backend under test.
type Factory struct {
	// Open returns a new, empty backend. It must keep at least 10,000 items of each signal. The suite closes
	// it when the test ends.
	Open func(t *testing.T) storage.Backend
	// Reopen, for persistent backends, opens again the data of b, which the suite has closed. When set, the
	// suite repeats its round-trip checks after closing and reopening (write, restart, read). Nil for backends
	// that keep nothing across Close.
	Reopen func(t *testing.T, b storage.Backend) storage.Backend
}

// Run runs the conformance suite against the backends f opens.
func Run(t *testing.T, f Factory) {
	if f.Open == nil {
		t.Fatal("storagetest.Run: Factory.Open is nil")
	}
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, f) })
	t.Run("GetTrace", func(t *testing.T) { testGetTrace(t, f) })
	t.Run("FindSpans", func(t *testing.T) { testFindSpans(t, f) })
	t.Run("FindTraceIDs", func(t *testing.T) { testFindTraceIDs(t, f) })
	t.Run("ServicesOperations", func(t *testing.T) { testServicesOperations(t, f) })
	t.Run("FindLogs", func(t *testing.T) { testFindLogs(t, f) })
	t.Run("Metrics", func(t *testing.T) { testMetrics(t, f) })
	t.Run("ManyItemsPagesAndOrder", func(t *testing.T) { testMany(t, f) })
	t.Run("OrderWithinPages", func(t *testing.T) { testPageOrder(t, f) })
	t.Run("RandomSpanQueries", func(t *testing.T) { testRandomSpans(t, f) })
	t.Run("RandomLogQueries", func(t *testing.T) { testRandomLogs(t, f) })
	t.Run("RandomMetricQueries", func(t *testing.T) { testRandomMetrics(t, f) })
	t.Run("EmptyWrites", func(t *testing.T) { testEmptyWrites(t, f) })
	t.Run("ResultsAreCopies", func(t *testing.T) { testResultsAreCopies(t, f) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, f) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, f) })
}

// harness holds the backend of one test and closes it at the end.
type harness struct {
	t *testing.T
	f Factory
	b storage.Backend
}

func open(t *testing.T, f Factory) *harness {
	t.Helper()
	h := &harness{t: t, f: f, b: f.Open(t)}
	t.Cleanup(func() {
		if err := h.b.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// reopen closes the backend and opens its data again. It reports false for non-persistent backends.
func (h *harness) reopen() bool {
	h.t.Helper()
	if h.f.Reopen == nil {
		return false
	}
	if err := h.b.Close(); err != nil {
		h.t.Fatalf("Close before reopening: %v", err)
	}
	h.b = h.f.Reopen(h.t, h.b)
	return true
}

func (h *harness) writeSpans(td ptrace.Traces) {
	h.t.Helper()
	if err := h.b.WriteSpans(context.Background(), td); err != nil {
		h.t.Fatalf("WriteSpans: %v", err)
	}
}

func (h *harness) writeLogs(ld plog.Logs) {
	h.t.Helper()
	if err := h.b.WriteLogs(context.Background(), ld); err != nil {
		h.t.Fatalf("WriteLogs: %v", err)
	}
}

func (h *harness) writeMetrics(md pmetric.Metrics) {
	h.t.Helper()
	if err := h.b.WriteMetrics(context.Background(), md); err != nil {
		h.t.Fatalf("WriteMetrics: %v", err)
	}
}

func (h *harness) getTrace(id pcommon.TraceID) ptrace.Traces {
	h.t.Helper()
	td, err := CollectTraces(h.b.GetTrace(context.Background(), storage.TraceQuery{TraceID: id}))
	if err != nil {
		h.t.Fatalf("GetTrace(%s): %v", id, err)
	}
	return td
}

func (h *harness) findSpans(q storage.SpanQuery) ptrace.Traces {
	h.t.Helper()
	td, err := CollectTraces(h.b.FindSpans(context.Background(), q))
	if err != nil {
		h.t.Fatalf("FindSpans(%+v): %v", q, err)
	}
	return td
}

func (h *harness) findLogs(q storage.LogQuery) plog.Logs {
	h.t.Helper()
	ld, err := CollectLogs(h.b.FindLogs(context.Background(), q))
	if err != nil {
		h.t.Fatalf("FindLogs(%+v): %v", q, err)
	}
	return ld
}

func (h *harness) findMetrics(q storage.MetricQuery) pmetric.Metrics {
	h.t.Helper()
	md, err := CollectMetrics(h.b.FindMetrics(context.Background(), q))
	if err != nil {
		h.t.Fatalf("FindMetrics(%+v): %v", q, err)
	}
	return md
}

func testRoundTrip(t *testing.T, f Factory) {
	t.Run("Traces", func(t *testing.T) {
		h := open(t, f)
		h.writeSpans(AllFieldsTraces())
		check := func(stage string) {
			t.Helper()
			got := ptrace.NewTraces()
			for _, id := range AllFieldsTraceIDs() {
				h.getTrace(id).ResourceSpans().MoveAndAppendTo(got.ResourceSpans())
			}
			if !EqualTraces(t, AllFieldsTraces(), got) {
				t.Logf("(GetTrace %s)", stage)
			}
			if !EqualTraces(t, AllFieldsTraces(), h.findSpans(storage.SpanQuery{Limit: 10_000})) {
				t.Logf("(FindSpans %s)", stage)
			}
		}
		check("after write")
		if h.reopen() {
			check("after reopen")
		}
	})
	t.Run("Logs", func(t *testing.T) {
		h := open(t, f)
		h.writeLogs(AllFieldsLogs())
		check := func(stage string) {
			t.Helper()
			for _, order := range []storage.Order{storage.NewestFirst, storage.OldestFirst} {
				if !EqualLogs(t, AllFieldsLogs(), h.findLogs(storage.LogQuery{Order: order, Limit: 10_000})) {
					t.Logf("(FindLogs order %d %s)", order, stage)
				}
			}
		}
		check("after write")
		if h.reopen() {
			check("after reopen")
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		h := open(t, f)
		h.writeMetrics(AllFieldsMetrics())
		check := func(stage string) {
			t.Helper()
			if !EqualMetrics(t, AllFieldsMetrics(), h.findMetrics(storage.MetricQuery{Limit: 10_000})) {
				t.Logf("(FindMetrics %s)", stage)
			}
		}
		check("after write")
		if h.reopen() {
			check("after reopen")
		}
	})
	t.Run("LargeItems", func(t *testing.T) {
		h := open(t, f)
		h.writeSpans(LargeTraces())
		h.writeLogs(LargeLogs())
		h.writeMetrics(LargeMetrics())
		check := func(stage string) {
			t.Helper()
			if !EqualTraces(t, LargeTraces(), h.getTrace(TraceID(200))) {
				t.Logf("(GetTrace %s)", stage)
			}
			if !EqualLogs(t, LargeLogs(), h.findLogs(storage.LogQuery{Limit: 10})) {
				t.Logf("(FindLogs %s)", stage)
			}
			if !EqualMetrics(t, LargeMetrics(), h.findMetrics(storage.MetricQuery{Limit: 10})) {
				t.Logf("(FindMetrics %s)", stage)
			}
		}
		check("after write")
		if h.reopen() {
			check("after reopen")
		}
	})
	t.Run("SplitBatches", func(t *testing.T) {
		// The spans of one trace, written one per batch, read back as one trace.
		h := open(t, f)
		all := AllFieldsTraces()
		for _, rs := range all.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					td := ptrace.NewTraces()
					nrs := td.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(nrs.Resource())
					nrs.SetSchemaUrl(rs.SchemaUrl())
					nss := nrs.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(nss.Scope())
					nss.SetSchemaUrl(ss.SchemaUrl())
					sp.CopyTo(nss.Spans().AppendEmpty())
					h.writeSpans(td)
				}
			}
		}
		got := ptrace.NewTraces()
		for _, id := range AllFieldsTraceIDs() {
			h.getTrace(id).ResourceSpans().MoveAndAppendTo(got.ResourceSpans())
		}
		EqualTraces(t, AllFieldsTraces(), got)
	})
}
