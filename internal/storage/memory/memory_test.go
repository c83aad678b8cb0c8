package memory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/memory"
	"github.com/otlpd/otlpd/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Factory{
		Open: func(t *testing.T) storage.Backend { return memory.New(memory.Options{}) },
	})
}

// spans builds one batch of n spans of trace tid for service svc; span i starts at start + i ms.
func spans(svc string, tid byte, firstSpan, n int, start time.Duration) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", svc)
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := ss.AppendEmpty()
		sp.SetTraceID(storagetest.TraceID(tid))
		id := firstSpan + i
		sp.SetSpanID(pcommon.SpanID{0xee, 0, 0, 0, 0, 0, byte(id >> 8), byte(id)})
		sp.SetName(fmt.Sprintf("%s-op", svc))
		sp.SetKind(ptrace.SpanKindServer)
		st := storagetest.BaseTime.Add(start + time.Duration(i)*time.Millisecond)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(st))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(st.Add(time.Millisecond)))
	}
	return td
}

func spanIDs(t *testing.T, seq func(func(ptrace.Traces, error) bool)) []int {
	t.Helper()
	var ids []int
	for td, err := range seq {
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatalf("read spans: %v", err)
		}
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					id := sp.SpanID()
					ids = append(ids, int(id[6])<<8|int(id[7]))
				}
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func seqRange(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestEvictsOldestSpansFirst(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxSpans: 10})
	defer s.Close()
	write := func(td ptrace.Traces) {
		t.Helper()
		if err := s.WriteSpans(ctx, td); err != nil {
			t.Fatal(err)
		}
	}
	trace := func(tid byte) []int {
		t.Helper()
		return spanIDs(t, s.GetTrace(ctx, storage.TraceQuery{TraceID: storagetest.TraceID(tid)}))
	}
	services := func() []string {
		t.Helper()
		svcs, err := s.Services(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return svcs
	}
	// Arrival order, not time, decides: the last batch has the oldest timestamps.
	write(spans("a", 1, 0, 5, time.Hour))
	write(spans("b", 2, 100, 5, 2*time.Hour))
	write(spans("c", 3, 200, 3, 0))
	if got, want := trace(1), seqRange(3, 5); !slices.Equal(got, want) {
		t.Errorf("trace 1 after eviction: spans %v, want %v (the two written last)", got, want)
	}
	if got, want := trace(2), seqRange(100, 105); !slices.Equal(got, want) {
		t.Errorf("trace 2: spans %v, want %v", got, want)
	}
	if got, want := trace(3), seqRange(200, 203); !slices.Equal(got, want) {
		t.Errorf("trace 3: spans %v, want %v", got, want)
	}
	if n := len(spanIDs(t, s.FindSpans(ctx, storage.SpanQuery{}))); n != 10 {
		t.Errorf("%d spans stored, want the limit 10", n)
	}
	if got := services(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Services = %q", got)
	}

	write(spans("d", 4, 300, 8, 0))
	if got := trace(1); got != nil {
		t.Errorf("trace 1 should be gone, has spans %v", got)
	}
	if got := trace(2); got != nil {
		t.Errorf("trace 2 should be gone, has spans %v", got)
	}
	if got, want := trace(3), seqRange(201, 203); !slices.Equal(got, want) {
		t.Errorf("trace 3: spans %v, want %v", got, want)
	}
	if got := services(); !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("Services after evicting a and b = %q, want [c d]", got)
	}
	ops, err := s.Operations(ctx, storage.OperationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []storage.Operation{{Service: "c", Name: "c-op", Kind: ptrace.SpanKindServer}, {Service: "d", Name: "d-op", Kind: ptrace.SpanKindServer}}; !slices.Equal(ops, want) {
		t.Errorf("Operations = %+v, want %+v", ops, want)
	}
	refs, err := s.FindTraceIDs(ctx, storage.SpanQuery{Service: "a"})
	if err != nil || len(refs) != 0 {
		t.Errorf("FindTraceIDs of an evicted service = %v, %v", refs, err)
	}

	// A batch larger than the limit keeps its last spans.
	write(spans("e", 5, 400, 25, 0))
	if got, want := trace(5), seqRange(415, 425); !slices.Equal(got, want) {
		t.Errorf("oversized batch: spans %v, want %v", got, want)
	}
	if got := services(); !slices.Equal(got, []string{"e"}) {
		t.Errorf("Services = %q, want [e]", got)
	}
	if st := s.Stats(); st.Spans != 10 || st.EvictedSpans != 5+5+3+8+25-10 || st.Logs != 0 || st.EvictedLogs != 0 {
		t.Errorf("Stats = %+v, want 10 spans and 36 evicted", st)
	}
}

func TestEvictsOldestLogsFirst(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxLogs: 5})
	defer s.Close()
	write := func(first, n int) {
		ld := plog.NewLogs()
		recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for i := range n {
			r := recs.AppendEmpty()
			r.Body().SetInt(int64(first + i))
			// Later writes carry older times: eviction follows arrival, not time.
			r.SetTimestamp(pcommon.NewTimestampFromTime(storagetest.BaseTime.Add(-time.Duration(first+i) * time.Second)))
		}
		if err := s.WriteLogs(ctx, ld); err != nil {
			t.Fatal(err)
		}
	}
	bodies := func() []int {
		ld, err := storagetest.CollectLogs(s.FindLogs(ctx, storage.LogQuery{}))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					out = append(out, int(r.Body().Int()))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	write(0, 4)
	write(4, 3)
	if got, want := bodies(), seqRange(2, 7); !slices.Equal(got, want) {
		t.Errorf("logs after eviction: %v, want %v", got, want)
	}
	write(7, 12)
	if got, want := bodies(), seqRange(14, 19); !slices.Equal(got, want) {
		t.Errorf("logs after an oversized batch: %v, want %v", got, want)
	}
	if st := s.Stats(); st.Logs != 5 || st.EvictedLogs != 14 {
		t.Errorf("Stats = %+v, want 5 logs and 14 evicted", st)
	}
}

func TestEvictsOldestPointsFirst(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxPoints: 4})
	defer s.Close()
	write := func(name string, first, n int) {
		md := pmetric.NewMetrics()
		m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName(name)
		g := m.SetEmptyGauge()
		for i := range n {
			p := g.DataPoints().AppendEmpty()
			p.SetIntValue(int64(first + i))
			p.SetTimestamp(pcommon.NewTimestampFromTime(storagetest.BaseTime.Add(-time.Duration(first+i) * time.Second)))
		}
		if err := s.WriteMetrics(ctx, md); err != nil {
			t.Fatal(err)
		}
	}
	values := func(name string) []int {
		md, err := storagetest.CollectMetrics(s.FindMetrics(ctx, storage.MetricQuery{Name: name}))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					for _, p := range m.Gauge().DataPoints().All() {
						out = append(out, int(p.IntValue()))
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	names := func() []string {
		n, err := s.MetricNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	write("old", 0, 3)
	write("new", 3, 2)
	if got, want := values("old"), seqRange(1, 3); !slices.Equal(got, want) {
		t.Errorf("old points: %v, want %v", got, want)
	}
	if got := names(); !slices.Equal(got, []string{"new", "old"}) {
		t.Errorf("MetricNames = %q", got)
	}
	write("new", 5, 2)
	if got := values("old"); got != nil {
		t.Errorf("old points should be gone: %v", got)
	}
	if got := names(); !slices.Equal(got, []string{"new"}) {
		t.Errorf("MetricNames after evicting every point of old = %q, want [new]", got)
	}
	if got, want := values(""), seqRange(3, 7); !slices.Equal(got, want) {
		t.Errorf("all points: %v, want %v", got, want)
	}
	if st := s.Stats(); st.Points != 4 || st.EvictedPoints != 3 {
		t.Errorf("Stats = %+v, want 4 points and 3 evicted", st)
	}
}

// TestConcurrentEviction writes, reads and evicts at once (meaningful under -race), then checks that the
// catalog matches the spans that are left.
func TestConcurrentEviction(t *testing.T) {
	ctx := context.Background()
	const limit = 300
	s := memory.New(memory.Options{MaxSpans: limit, MaxLogs: limit, MaxPoints: limit})
	defer s.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for b := range 100 {
				svc := fmt.Sprintf("svc-%d", (w*100+b)%7)
				if err := s.WriteSpans(ctx, spans(svc, byte(w*100+b), b*5, 5, time.Duration(b)*time.Second)); err != nil {
					t.Error(err)
					return
				}
				if err := s.WriteLogs(ctx, storagetest.AllFieldsLogs()); err != nil {
					t.Error(err)
					return
				}
				if err := s.WriteMetrics(ctx, storagetest.AllFieldsMetrics()); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for i := range 100 {
				for td, err := range s.GetTrace(ctx, storage.TraceQuery{TraceID: storagetest.TraceID(byte(w*100 + i)), PageSize: 2}) {
					if err != nil && !errors.Is(err, storage.ErrNotFound) {
						t.Error(err)
					}
					if err == nil {
						td.ResourceSpans().At(0).Resource().Attributes().PutStr("mutated", "by reader")
					}
				}
				if _, err := storagetest.CollectTraces(s.FindSpans(ctx, storage.SpanQuery{Service: "svc-3", Limit: 50})); err != nil {
					t.Error(err)
				}
				if _, err := s.Services(ctx); err != nil {
					t.Error(err)
				}
				if _, err := storagetest.CollectLogs(s.FindLogs(ctx, storage.LogQuery{MinSeverity: plog.SeverityNumberError})); err != nil {
					t.Error(err)
				}
				if _, err := storagetest.CollectMetrics(s.FindMetrics(ctx, storage.MetricQuery{Name: "latency.exp"})); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	all, err := storagetest.CollectTraces(s.FindSpans(ctx, storage.SpanQuery{Limit: 10 * limit}))
	if err != nil {
		t.Fatal(err)
	}
	if n := all.SpanCount(); n != limit {
		t.Errorf("%d spans left, want the limit %d", n, limit)
	}
	wantSvcs := map[string]bool{}
	for _, rs := range all.ResourceSpans().All() {
		v, _ := rs.Resource().Attributes().Get("service.name")
		wantSvcs[v.Str()] = true
		if _, ok := rs.Resource().Attributes().Get("mutated"); ok {
			t.Error("a reader's change to a result reached the store")
		}
	}
	svcs, err := s.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != len(wantSvcs) {
		t.Errorf("Services = %q, want the %d services of the spans left", svcs, len(wantSvcs))
	}
	for _, svc := range svcs {
		if !wantSvcs[svc] {
			t.Errorf("Services lists %q, which has no span left", svc)
		}
	}
	ld, err := storagetest.CollectLogs(s.FindLogs(ctx, storage.LogQuery{Limit: 10 * limit}))
	if err != nil {
		t.Fatal(err)
	}
	if n := ld.LogRecordCount(); n != limit {
		t.Errorf("%d log records left, want the limit %d", n, limit)
	}
	md, err := storagetest.CollectMetrics(s.FindMetrics(ctx, storage.MetricQuery{Limit: 10 * limit}))
	if err != nil {
		t.Fatal(err)
	}
	if n := md.DataPointCount(); n != limit {
		t.Errorf("%d points left, want the limit %d", n, limit)
	}
}

func TestContextCanceled(t *testing.T) {
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WriteSpans(ctx, storagetest.AllFieldsTraces()); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteSpans with a canceled context: %v", err)
	}
	if _, err := storagetest.CollectTraces(s.FindSpans(ctx, storage.SpanQuery{})); !errors.Is(err, context.Canceled) {
		t.Errorf("FindSpans with a canceled context: %v", err)
	}
}

// workloadBatch builds n spans shaped like the reference workload: about 10 resource attributes, 10 span
// attributes, traces of 10 spans.
func workloadBatch(rng *rand.Rand, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("service.namespace", "shop")
	ra.PutStr("service.version", "1.4.2")
	ra.PutStr("service.instance.id", "checkout-3")
	ra.PutStr("host.name", "node-17")
	ra.PutStr("host.arch", "amd64")
	ra.PutStr("os.type", "linux")
	ra.PutInt("process.pid", 4242)
	ra.PutStr("telemetry.sdk.name", "opentelemetry")
	ra.PutStr("deployment.environment.name", "prod")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	spans := ss.Spans()
	var tid pcommon.TraceID
	start := storagetest.BaseTime
	for i := range n {
		if i%10 == 0 {
			for j := range tid {
				tid[j] = byte(rng.Uint32())
			}
		}
		sp := spans.AppendEmpty()
		sp.SetTraceID(tid)
		var sid pcommon.SpanID
		for j := range sid {
			sid[j] = byte(rng.Uint32())
		}
		sp.SetSpanID(sid)
		sp.SetName("GET /api/items/{id}")
		sp.SetKind(ptrace.SpanKindServer)
		st := start.Add(time.Duration(i) * time.Millisecond)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(st))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(st.Add(time.Duration(rng.IntN(500)) * time.Millisecond)))
		a := sp.Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("http.route", "/api/items/{id}")
		a.PutStr("url.path", fmt.Sprintf("/api/items/%d", rng.IntN(100000)))
		a.PutInt("http.response.status_code", 200)
		a.PutStr("server.address", "checkout.shop.svc")
		a.PutStr("user.id", fmt.Sprintf("user-%d", rng.IntN(10000)))
		a.PutStr("db.system.name", "postgresql")
		a.PutStr("db.query.text", "SELECT * FROM items WHERE id = ?")
		a.PutInt("net.peer.port", 5432)
		a.PutStr("rpc.method", "Items/Get")
	}
	return td
}

func BenchmarkWriteSpans(b *testing.B) {
	const batch = 512
	rng := rand.New(rand.NewPCG(1, 2))
	td := workloadBatch(rng, batch)
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	b.SetBytes(int64((&ptrace.ProtoMarshaler{}).TracesSize(td)))
	b.ReportAllocs()
	for b.Loop() {
		// The store keeps references and never modifies td, so writing it again is a fair steady state
		// (after DefaultMaxSpans/batch iterations, every write also evicts a batch).
		if err := s.WriteSpans(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "spans/s")
}

func BenchmarkGetTrace(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	var ids []pcommon.TraceID
	for range 200 { // 102,400 spans in traces of 10
		td := workloadBatch(rng, 512)
		for i := 0; i < 512; i += 10 {
			ids = append(ids, td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(i).TraceID())
		}
		if err := s.WriteSpans(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	spans := 0
	i := 0
	for b.Loop() {
		for td, err := range s.GetTrace(ctx, storage.TraceQuery{TraceID: ids[i%len(ids)]}) {
			if err != nil {
				b.Fatal(err)
			}
			spans += td.SpanCount()
		}
		i++
	}
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
}

func BenchmarkFindSpans(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	for range 200 {
		if err := s.WriteSpans(ctx, workloadBatch(rng, 512)); err != nil {
			b.Fatal(err)
		}
	}
	q := storage.SpanQuery{
		Service:     "checkout",
		MinDuration: 400 * time.Millisecond,
		Attributes:  []storage.AttrPredicate{{Scope: storage.AttrSpan, Key: "user.id", Op: storage.OpEqual, Value: "user-42"}},
		Limit:       20,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.FindTraceIDs(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(102400*b.N)/b.Elapsed().Seconds(), "spans-scanned/s")
}

func BenchmarkFindSpansNewest(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	for range 200 {
		if err := s.WriteSpans(ctx, workloadBatch(rng, 512)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		td, err := storagetest.CollectTraces(s.FindSpans(ctx, storage.SpanQuery{Limit: 20}))
		if err != nil || td.SpanCount() != 20 {
			b.Fatal(err, td.SpanCount())
		}
	}
	b.ReportMetric(float64(102400*b.N)/b.Elapsed().Seconds(), "spans-scanned/s")
}

func BenchmarkWriteLogs(b *testing.B) {
	const batch = 512
	ld := storagetest.AllFieldsLogs()
	recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for recs.Len() < batch {
		recs.At(recs.Len() % 10).CopyTo(recs.AppendEmpty())
	}
	n := ld.LogRecordCount()
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	b.SetBytes(int64((&plog.ProtoMarshaler{}).LogsSize(ld)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.WriteLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkFindLogsByTraceID(b *testing.B) {
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	// 100,000 records, one in ten carrying one of 1,000 trace IDs.
	for i := range 200 {
		ld := plog.NewLogs()
		recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for j := range 500 {
			r := recs.AppendEmpty()
			r.SetTimestamp(pcommon.Timestamp(i*500 + j))
			r.Body().SetStr("message")
			if j%10 == 0 {
				r.SetTraceID(pcommon.TraceID{1, byte((i*50 + j/10) % 1000 >> 8), byte((i*50 + j/10) % 1000)})
			}
		}
		if err := s.WriteLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ld, err := storagetest.CollectLogs(s.FindLogs(ctx, storage.LogQuery{TraceID: pcommon.TraceID{1, byte(i % 1000 >> 8), byte(i % 1000)}}))
		if err != nil || ld.LogRecordCount() != 10 {
			b.Fatal(err, ld.LogRecordCount())
		}
		i++
	}
}

func BenchmarkFindTraceIDsNewest(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()
	for range 200 {
		if err := s.WriteSpans(ctx, workloadBatch(rng, 512)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		refs, err := s.FindTraceIDs(ctx, storage.SpanQuery{Limit: 20})
		if err != nil || len(refs) != 20 {
			b.Fatal(err, len(refs))
		}
	}
	b.ReportMetric(float64(102400*b.N)/b.Elapsed().Seconds(), "spans-scanned/s")
}
