package engine

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

func testOptions() Options {
	return Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FlushInterval: time.Hour,
		MaintenanceInterval: time.Hour, BlockRows: 64}
}

func openTest(t testing.TB, dir string, opts Options) *Engine {
	t.Helper()
	e, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var base = time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC).UnixNano()

// genTraces makes n spans in batches across services, two days, with attributes.
func genTraces(r *rand.Rand, batches, perBatch int) []ptrace.Traces {
	var out []ptrace.Traces
	for b := range batches {
		td := ptrace.NewTraces()
		for range 1 + r.IntN(2) {
			rs := td.ResourceSpans().AppendEmpty()
			svc := fmt.Sprintf("svc-%d", r.IntN(4))
			rs.Resource().Attributes().PutStr("service.name", svc)
			rs.Resource().Attributes().PutStr("host.name", fmt.Sprintf("host-%d", r.IntN(3)))
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("lib")
			ss.Scope().Attributes().PutStr("scope.k", fmt.Sprintf("v%d", r.IntN(2)))
			for i := range perBatch {
				sp := ss.Spans().AppendEmpty()
				var tid [16]byte
				tid[0] = byte(r.IntN(20))
				tid[1] = byte(b % 3)
				sp.SetTraceID(tid)
				sp.SetSpanID([8]byte{byte(b), byte(i), 1, 2, 3, 4, 5, 6})
				start := base + int64(r.IntN(2*3600))*int64(time.Second) // crosses midnight
				sp.SetStartTimestamp(pcommon.Timestamp(start))
				sp.SetEndTimestamp(pcommon.Timestamp(start + int64(r.IntN(1000))*int64(time.Millisecond)))
				sp.SetName(fmt.Sprintf("op-%d", r.IntN(5)))
				sp.SetKind(ptrace.SpanKind(1 + r.IntN(5)))
				sp.Status().SetCode(ptrace.StatusCode(r.IntN(3)))
				sp.Attributes().PutStr("http.route", fmt.Sprintf("/r/%d", r.IntN(10)))
				sp.Attributes().PutInt("http.response.status_code", int64(200+100*r.IntN(4)))
				if r.IntN(4) == 0 {
					sp.Attributes().PutStr("host.name", "span-host")
				}
				if r.IntN(10) == 0 {
					ev := sp.Events().AppendEmpty()
					ev.SetName("exception")
					ev.Attributes().PutStr("exception.message", "boom")
				}
			}
		}
		out = append(out, td)
	}
	return out
}

func genLogs(r *rand.Rand, batches, perBatch int) []plog.Logs {
	words := []string{"user", "login", "failed", "cache", "miss", "order", "paid", "timeout"}
	var out []plog.Logs
	for range batches {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", r.IntN(4)))
		sl := rl.ScopeLogs().AppendEmpty()
		for range perBatch {
			rec := sl.LogRecords().AppendEmpty()
			ts := base + int64(r.IntN(2*3600))*int64(time.Second)
			switch r.IntN(5) {
			case 0:
				rec.SetObservedTimestamp(pcommon.Timestamp(ts)) // no time
			case 1:
				rec.SetTimestamp(pcommon.Timestamp(ts)) // no observed time
			default:
				rec.SetTimestamp(pcommon.Timestamp(ts))
				rec.SetObservedTimestamp(pcommon.Timestamp(ts + 5))
			}
			rec.SetSeverityNumber(plog.SeverityNumber(1 + r.IntN(24)))
			rec.SetSeverityText("X")
			switch r.IntN(6) {
			case 0:
				m := rec.Body().SetEmptyMap()
				m.PutStr("msg", words[r.IntN(len(words))])
				m.PutInt("n", int64(r.IntN(60)))
			case 1:
				rec.Body().SetStr("")
			case 2: // no body
			default:
				rec.Body().SetStr(fmt.Sprintf("%s %s id=%d", words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(50)))
			}
			if r.IntN(2) == 0 {
				rec.SetTraceID([16]byte{byte(r.IntN(20))})
			}
			rec.Attributes().PutStr("code.function", fmt.Sprintf("f%d", r.IntN(5)))
		}
		out = append(out, ld)
	}
	return out
}

type flatSpan struct {
	res  pcommon.Resource
	sc   pcommon.InstrumentationScope
	span ptrace.Span
	seq  int
}

func flattenSpans(tds []ptrace.Traces) []flatSpan {
	var out []flatSpan
	for _, td := range tds {
		for i := range td.ResourceSpans().Len() {
			rs := td.ResourceSpans().At(i)
			for j := range rs.ScopeSpans().Len() {
				ss := rs.ScopeSpans().At(j)
				for k := range ss.Spans().Len() {
					out = append(out, flatSpan{rs.Resource(), ss.Scope(), ss.Spans().At(k), len(out)})
				}
			}
		}
	}
	return out
}

// spanKey renders a span with its context, to compare results independent of grouping.
func spanKey(res pcommon.Resource, sc pcommon.InstrumentationScope, sp ptrace.Span) string {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res.CopyTo(rs.Resource())
	ss := rs.ScopeSpans().AppendEmpty()
	sc.CopyTo(ss.Scope())
	sp.CopyTo(ss.Spans().AppendEmpty())
	b, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	return string(b)
}

func collectSpans(t *testing.T, seq func(func(ptrace.Traces, error) bool)) []string {
	t.Helper()
	var out []string
	for td, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range flattenSpans([]ptrace.Traces{td}) {
			out = append(out, spanKey(f.res, f.sc, f.span))
		}
	}
	return out
}

type spanModel struct{ spans []flatSpan }

func (m *spanModel) find(q storage.SpanQuery) []string {
	f := newSpanFilter(&q)
	var hits []flatSpan
	for _, s := range m.spans {
		g := group{res: s.res, scope: s.sc, service: serviceOf(s.res)}
		if f.match(&g, s.span) {
			hits = append(hits, s)
		}
	}
	slices.SortStableFunc(hits, func(a, b flatSpan) int {
		return cmp.Or(cmp.Compare(b.span.StartTimestamp(), a.span.StartTimestamp()), cmp.Compare(b.seq, a.seq))
	})
	hits = hits[:min(len(hits), orDefault(q.Limit, DefaultSpanLimit))]
	var out []string
	for _, s := range hits {
		out = append(out, spanKey(s.res, s.sc, s.span))
	}
	return out
}

func spanQueries(r *rand.Rand) []storage.SpanQuery {
	qs := []storage.SpanQuery{
		{},
		{Limit: 7},
		{Service: "svc-1"},
		{Service: "svc-2", SpanName: "op-3"},
		{Kind: ptrace.SpanKindServer, StatusSet: true, Status: ptrace.StatusCodeError},
		{MinDuration: 500 * time.Millisecond, MaxDuration: 700 * time.Millisecond},
		{Start: time.Unix(0, base+1800e9), End: time.Unix(0, base+3600e9)},
		{Attributes: []storage.AttrPredicate{{Key: "http.route", Op: storage.OpEqual, Value: "/r/3"}}},
		{Attributes: []storage.AttrPredicate{{Key: "host.name", Op: storage.OpEqual, Value: "host-1"}}},
		{Attributes: []storage.AttrPredicate{{Key: "host.name", Scope: storage.AttrResource, Op: storage.OpEqual, Value: "host-1"}}},
		{Attributes: []storage.AttrPredicate{{Key: "host.name", Scope: storage.AttrSpan, Op: storage.OpEqual, Value: "span-host"}}},
		{Attributes: []storage.AttrPredicate{{Key: "scope.k", Scope: storage.AttrScopeSet, Op: storage.OpEqual, Value: "v1"}}},
		{Attributes: []storage.AttrPredicate{{Key: "http.response.status_code", Op: storage.OpGreaterEqual, Number: 400}}, Limit: 30},
		{Attributes: []storage.AttrPredicate{{Key: "http.route", Op: storage.OpEqual, Value: "/nope"}}},
		{Service: "nope"},
	}
	for range 5 {
		qs = append(qs, storage.SpanQuery{Service: fmt.Sprintf("svc-%d", r.IntN(4)), SpanName: fmt.Sprintf("op-%d", r.IntN(5)), Limit: 1 + r.IntN(40)})
	}
	return qs
}

func checkSpans(t *testing.T, e *Engine, m *spanModel, r *rand.Rand, stage string) {
	t.Helper()
	ctx := context.Background()
	for i, q := range spanQueries(r) {
		got := collectSpans(t, e.FindSpans(ctx, q))
		want := m.find(q)
		if !slices.Equal(got, want) {
			for j := range min(len(got), len(want)) {
				if got[j] != want[j] {
					t.Logf("first difference at %d:\n got %s\nwant %s", j, got[j], want[j])
					break
				}
			}
			t.Fatalf("%s: FindSpans query %d %+v: got %d spans, want %d (or different order/content)", stage, i, q, len(got), len(want))
		}
		refs, err := e.FindTraceIDs(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs := map[storage.TraceID]bool{}
		for _, s := range m.find(storage.SpanQuery{Start: q.Start, End: q.End, Service: q.Service, SpanName: q.SpanName, Kind: q.Kind, StatusSet: q.StatusSet, Status: q.Status, MinDuration: q.MinDuration, MaxDuration: q.MaxDuration, Attributes: q.Attributes, Limit: 1 << 30}) {
			_ = s
		}
		for _, s := range m.spans {
			g := group{res: s.res, scope: s.sc, service: serviceOf(s.res)}
			if newSpanFilter(&q).match(&g, s.span) {
				wantIDs[storage.TraceID(s.span.TraceID())] = true
			}
		}
		if len(refs) != min(len(wantIDs), orDefault(q.Limit, DefaultTraceLimit)) {
			t.Fatalf("%s: FindTraceIDs query %d: %d refs, want %d", stage, i, len(refs), min(len(wantIDs), orDefault(q.Limit, DefaultTraceLimit)))
		}
		for _, ref := range refs {
			if !wantIDs[ref.TraceID] {
				t.Fatalf("%s: FindTraceIDs query %d: trace %v does not match", stage, i, ref.TraceID)
			}
		}
	}
	// Every trace, whole, with small pages.
	byTrace := map[storage.TraceID][]string{}
	for _, s := range m.spans {
		id := storage.TraceID(s.span.TraceID())
		byTrace[id] = append(byTrace[id], spanKey(s.res, s.sc, s.span))
	}
	for id, want := range byTrace {
		got := collectSpans(t, e.GetTrace(ctx, storage.TraceQuery{TraceID: id, PageSize: 7}))
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: GetTrace %v: %d spans, want %d", stage, id, len(got), len(want))
		}
	}
	for _, err := range e.GetTrace(ctx, storage.TraceQuery{TraceID: storage.TraceID{0xff}}) {
		if err != storage.ErrNotFound {
			t.Fatalf("%s: GetTrace of an unknown trace: %v, want ErrNotFound", stage, err)
		}
	}
}

// TestSpansModel compares every span query with a brute-force evaluation over the written spans, in the head,
// after a flush, after merges and after a restart.
func TestSpansModel(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	ctx := context.Background()
	m := &spanModel{}
	var written []ptrace.Traces
	for round := range 3 {
		tds := genTraces(r, 10, 40)
		for _, td := range tds {
			if err := e.WriteSpans(ctx, td); err != nil {
				t.Fatal(err)
			}
		}
		written = append(written, tds...)
		m.spans = flattenSpans(written)
		checkSpans(t, e, m, r, fmt.Sprintf("round %d head", round))
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkSpans(t, e, m, r, fmt.Sprintf("round %d flushed", round))
	}
	if err := e.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	checkSpans(t, e, m, r, "compacted")
	more := genTraces(r, 3, 10)
	for _, td := range more {
		e.WriteSpans(ctx, td)
	}
	written = append(written, more...)
	m.spans = flattenSpans(written)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, testOptions())
	defer e.Close()
	checkSpans(t, e, m, r, "reopened")
	svcs, _ := e.Services(ctx)
	if !slices.Equal(svcs, []string{"svc-0", "svc-1", "svc-2", "svc-3"}) {
		t.Fatalf("Services = %v", svcs)
	}
	ops, _ := e.Operations(ctx, storage.OperationQuery{Service: "svc-1", Kind: ptrace.SpanKindServer})
	for _, o := range ops {
		if o.Service != "svc-1" || o.Kind != ptrace.SpanKindServer {
			t.Fatalf("Operations returned %+v", o)
		}
	}
	if len(ops) == 0 {
		t.Fatal("no operations for svc-1 server")
	}
}
