package storagetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// queryMetrics: a.gauge at 1s 2s 3s, b.sum at 1.5s 2.5s (same resource), c.hist at 2s (another resource).
func queryMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "frontend")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	g := ms.AppendEmpty()
	g.SetName("a.gauge")
	gauge := g.SetEmptyGauge()
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		p := gauge.DataPoints().AppendEmpty()
		p.SetTimestamp(ts(s))
		p.SetDoubleValue(s.Seconds())
	}
	sum := ms.AppendEmpty()
	sum.SetName("b.sum")
	sum.SetEmptySum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	sum.Sum().SetIsMonotonic(true)
	for _, s := range []time.Duration{1500 * time.Millisecond, 2500 * time.Millisecond} {
		p := sum.Sum().DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(0))
		p.SetTimestamp(ts(s))
		p.SetIntValue(s.Milliseconds())
	}
	rm2 := md.ResourceMetrics().AppendEmpty()
	rm2.Resource().Attributes().PutStr("service.name", "backend")
	h := rm2.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	h.SetName("c.hist")
	h.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	p := h.Histogram().DataPoints().AppendEmpty()
	p.SetTimestamp(ts(2 * time.Second))
	p.SetCount(1)
	return md
}

// pointLabels returns the sorted name@seconds labels of the points of md.
func pointLabels(md pmetric.Metrics) []string {
	out := []string{}
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				add := func(t time.Time) {
					out = append(out, fmt.Sprintf("%s@%g", m.Name(), t.Sub(BaseTime).Seconds()))
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, p := range m.Gauge().DataPoints().All() {
						add(p.Timestamp().AsTime())
					}
				case pmetric.MetricTypeSum:
					for _, p := range m.Sum().DataPoints().All() {
						add(p.Timestamp().AsTime())
					}
				case pmetric.MetricTypeHistogram:
					for _, p := range m.Histogram().DataPoints().All() {
						add(p.Timestamp().AsTime())
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, p := range m.ExponentialHistogram().DataPoints().All() {
						add(p.Timestamp().AsTime())
					}
				case pmetric.MetricTypeSummary:
					for _, p := range m.Summary().DataPoints().All() {
						add(p.Timestamp().AsTime())
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func testMetrics(t *testing.T, f Factory) {
	h := open(t, f)
	ctx := context.Background()
	names, err := h.b.MetricNames(ctx)
	if err != nil || len(names) != 0 {
		t.Errorf("MetricNames of an empty backend = %q, %v; want none", names, err)
	}
	h.writeMetrics(queryMetrics())
	check := func() {
		t.Helper()
		names, err := h.b.MetricNames(ctx)
		if err != nil {
			t.Fatalf("MetricNames: %v", err)
		}
		if want := []string{"a.gauge", "b.sum", "c.hist"}; !slices.Equal(names, want) {
			t.Errorf("MetricNames = %q, want %q", names, want)
		}
		at := func(d time.Duration) time.Time { return BaseTime.Add(d) }
		cases := []struct {
			name string
			q    storage.MetricQuery
			want []string
		}{
			{"Everything", storage.MetricQuery{}, sortedLabels("a.gauge@1", "a.gauge@2", "a.gauge@3", "b.sum@1.5", "b.sum@2.5", "c.hist@2")},
			{"Name", storage.MetricQuery{Name: "a.gauge"}, sortedLabels("a.gauge@1", "a.gauge@2", "a.gauge@3")},
			{"UnknownName", storage.MetricQuery{Name: "nope"}, sortedLabels()},
			{"TimeRangeInclusive", storage.MetricQuery{Start: at(2 * time.Second), End: at(2500 * time.Millisecond)}, sortedLabels("a.gauge@2", "b.sum@2.5", "c.hist@2")},
			{"StartOnly", storage.MetricQuery{Start: at(2500 * time.Millisecond)}, sortedLabels("a.gauge@3", "b.sum@2.5")},
			{"EndOnly", storage.MetricQuery{End: at(1500 * time.Millisecond)}, sortedLabels("a.gauge@1", "b.sum@1.5")},
			{"LimitTakesOldest", storage.MetricQuery{Limit: 2}, sortedLabels("a.gauge@1", "b.sum@1.5")},
			{"NameTimeLimit", storage.MetricQuery{Name: "a.gauge", Start: at(2 * time.Second), Limit: 1}, sortedLabels("a.gauge@2")},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := h.findMetrics(c.q)
				if l := pointLabels(got); !slices.Equal(l, c.want) {
					t.Errorf("FindMetrics(%+v) = %q, want %q", c.q, l, c.want)
				}
			})
		}
		t.Run("PointsAreWhole", func(t *testing.T) {
			EqualMetrics(t, queryMetrics(), h.findMetrics(storage.MetricQuery{}))
		})
	}
	check()
	if h.reopen() {
		t.Run("AfterReopen", func(t *testing.T) { check() })
	}
}

// testMany writes more items than one page holds, in shuffled time order, and checks that a limited search
// returns the right items and that its pages come in order.
func testMany(t *testing.T, f Factory) {
	const n, limit = 2500, 2100
	seed := time.Now().UnixNano()
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	perm := rng.Perm(n)
	h := open(t, f)
	ctx := context.Background()

	// Item i has time BaseTime + i ms; items are written in perm order, in batches of 500.
	for b := 0; b < n; b += 500 {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "many")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		ld := plog.NewLogs()
		recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		md := pmetric.NewMetrics()
		pts := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		pts.SetName("many")
		gauge := pts.SetEmptyGauge().DataPoints()
		for _, i := range perm[b : b+500] {
			sp := spans.AppendEmpty()
			var id [16]byte
			id[0], id[14], id[15] = 0x7e, byte(i>>8), byte(i)
			sp.SetTraceID(id)
			sp.SetSpanID([8]byte{1, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
			sp.SetName("op")
			sp.SetStartTimestamp(ts(time.Duration(i) * time.Millisecond))
			sp.SetEndTimestamp(ts(time.Duration(i+1) * time.Millisecond))
			r := recs.AppendEmpty()
			r.SetTimestamp(ts(time.Duration(i) * time.Millisecond))
			r.Body().SetInt(int64(i))
			p := gauge.AppendEmpty()
			p.SetTimestamp(ts(time.Duration(i) * time.Millisecond))
			p.SetIntValue(int64(i))
		}
		h.writeSpans(td)
		h.writeLogs(ld)
		h.writeMetrics(md)
	}
	msOf := func(t time.Time) int { return int(t.Sub(BaseTime) / time.Millisecond) }

	// checkPages checks the yielded times: pages in order (order within a page: testPageOrder), all distinct, and exactly
	// the range [lo, hi].
	checkPages := func(what string, pages [][]int, newestFirst bool, lo, hi int) {
		t.Helper()
		seen := make(map[int]bool)
		prevMin, prevMax := -1, -1
		for pi, page := range pages {
			if len(page) == 0 {
				t.Errorf("%s: page %d is empty", what, pi)
				continue
			}
			mn, mx := slices.Min(page), slices.Max(page)
			if pi > 0 && newestFirst && mx > prevMin {
				t.Errorf("%s: page %d holds time %d ms, newer than %d ms of the page before", what, pi, mx, prevMin)
			}
			if pi > 0 && !newestFirst && mn < prevMax {
				t.Errorf("%s: page %d holds time %d ms, older than %d ms of the page before", what, pi, mn, prevMax)
			}
			prevMin, prevMax = mn, mx
			for _, v := range page {
				if seen[v] {
					t.Errorf("%s: item at %d ms yielded twice", what, v)
				}
				seen[v] = true
				if v < lo || v > hi {
					t.Errorf("%s: item at %d ms is outside the expected [%d, %d]", what, v, lo, hi)
				}
			}
		}
		if len(seen) != hi-lo+1 {
			t.Errorf("%s: %d items, want %d", what, len(seen), hi-lo+1)
		}
	}

	t.Run("FindSpans", func(t *testing.T) {
		var pages [][]int
		for page, err := range h.b.FindSpans(ctx, storage.SpanQuery{Limit: limit}) {
			if err != nil {
				t.Fatalf("FindSpans: %v", err)
			}
			var times []int
			for _, rs := range page.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, sp := range ss.Spans().All() {
						times = append(times, msOf(sp.StartTimestamp().AsTime()))
					}
				}
			}
			pages = append(pages, times)
		}
		checkPages("FindSpans newest first", pages, true, n-limit, n-1)
	})
	t.Run("DefaultLimitTakesNewest", func(t *testing.T) {
		// Limit 0 is the backend's default: some spans, and the newest ones.
		var times []int
		for page, err := range h.b.FindSpans(ctx, storage.SpanQuery{}) {
			if err != nil {
				t.Fatalf("FindSpans: %v", err)
			}
			for _, rs := range page.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, sp := range ss.Spans().All() {
						times = append(times, msOf(sp.StartTimestamp().AsTime()))
					}
				}
			}
		}
		if len(times) == 0 {
			t.Fatal("FindSpans with the default limit returned nothing")
		}
		if lo := slices.Min(times); lo != n-len(times) {
			t.Errorf("FindSpans with the default limit returned %d spans, the oldest at %d ms; want the newest %d (from %d ms)",
				len(times), lo, len(times), n-len(times))
		}
	})
	t.Run("FindTraceIDs", func(t *testing.T) {
		refs, err := h.b.FindTraceIDs(ctx, storage.SpanQuery{Limit: 150})
		if err != nil {
			t.Fatalf("FindTraceIDs: %v", err)
		}
		if len(refs) != 150 {
			t.Fatalf("FindTraceIDs returned %d traces, want 150", len(refs))
		}
		for k, r := range refs {
			if want := n - 1 - k; msOf(r.Start) != want {
				t.Errorf("FindTraceIDs[%d] starts at %d ms, want %d (newest first)", k, msOf(r.Start), want)
			}
		}
	})
	for _, order := range []storage.Order{storage.NewestFirst, storage.OldestFirst} {
		t.Run(fmt.Sprintf("FindLogsOrder%d", order), func(t *testing.T) {
			var pages [][]int
			for page, err := range h.b.FindLogs(ctx, storage.LogQuery{Order: order, Limit: limit}) {
				if err != nil {
					t.Fatalf("FindLogs: %v", err)
				}
				var times []int
				for _, rl := range page.ResourceLogs().All() {
					for _, sl := range rl.ScopeLogs().All() {
						for _, r := range sl.LogRecords().All() {
							times = append(times, msOf(r.Timestamp().AsTime()))
						}
					}
				}
				pages = append(pages, times)
			}
			if order == storage.NewestFirst {
				checkPages("FindLogs newest first", pages, true, n-limit, n-1)
			} else {
				checkPages("FindLogs oldest first", pages, false, 0, limit-1)
			}
		})
	}
	t.Run("FindMetrics", func(t *testing.T) {
		var pages [][]int
		for page, err := range h.b.FindMetrics(ctx, storage.MetricQuery{Limit: limit}) {
			if err != nil {
				t.Fatalf("FindMetrics: %v", err)
			}
			var times []int
			for _, rm := range page.ResourceMetrics().All() {
				for _, sm := range rm.ScopeMetrics().All() {
					for _, m := range sm.Metrics().All() {
						for _, p := range m.Gauge().DataPoints().All() {
							times = append(times, msOf(p.Timestamp().AsTime()))
						}
					}
				}
			}
			pages = append(pages, times)
		}
		checkPages("FindMetrics oldest first", pages, false, 0, limit-1)
	})
	t.Run("StopEarly", func(t *testing.T) {
		for range h.b.FindSpans(ctx, storage.SpanQuery{}) {
			break
		}
		for range h.b.FindLogs(ctx, storage.LogQuery{}) {
			break
		}
		for range h.b.FindMetrics(ctx, storage.MetricQuery{}) {
			break
		}
	})
}

// testResultsAreCopies modifies what readers return and checks that the stored data did not change.
func testResultsAreCopies(t *testing.T, f Factory) {
	h := open(t, f)
	h.writeSpans(AllFieldsTraces())
	h.writeLogs(AllFieldsLogs())
	h.writeMetrics(AllFieldsMetrics())

	for _, td := range []ptrace.Traces{h.getTrace(TraceID(1)), h.findSpans(storage.SpanQuery{})} {
		rs := td.ResourceSpans().At(0)
		rs.Resource().Attributes().PutStr("service.name", "changed")
		rs.ScopeSpans().At(0).Scope().SetName("changed")
		sp := rs.ScopeSpans().At(0).Spans().At(0)
		sp.SetName("changed")
		sp.Attributes().Clear()
		sp.Events().RemoveIf(func(ptrace.SpanEvent) bool { return true })
	}
	ld := h.findLogs(storage.LogQuery{})
	rec := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	rec.Body().SetStr("changed")
	rec.Attributes().PutStr("new", "attr")
	ld.ResourceLogs().At(0).Resource().Attributes().Clear()
	md := h.findMetrics(storage.MetricQuery{})
	m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
	m.SetName("changed")
	m.Metadata().Clear()
	md.ResourceMetrics().At(0).Resource().Attributes().Clear()

	got := h.getTrace(TraceID(1))
	h.getTrace(TraceID(2)).ResourceSpans().MoveAndAppendTo(got.ResourceSpans())
	EqualTraces(t, AllFieldsTraces(), got)
	EqualLogs(t, AllFieldsLogs(), h.findLogs(storage.LogQuery{}))
	EqualMetrics(t, AllFieldsMetrics(), h.findMetrics(storage.MetricQuery{}))
}

// testConcurrent runs writers and readers at once (meaningful under -race) and checks that every write is
// readable afterwards.
func testConcurrent(t *testing.T, f Factory) {
	h := open(t, f)
	ctx := context.Background()
	const writers, batches = 4, 25
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 64)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				td := buildSpans([]spanSpec{{trace: byte(100 + w), id: byte(b + 1), service: fmt.Sprintf("svc-%d", w%2),
					name: fmt.Sprintf("op-%d", b%3), kind: ptrace.SpanKindServer, start: time.Duration(b) * time.Millisecond, dur: time.Millisecond}})
				if err := h.b.WriteSpans(ctx, td); err != nil {
					errs <- err
					return
				}
				if err := h.b.WriteLogs(ctx, queryLogs()); err != nil {
					errs <- err
					return
				}
				if err := h.b.WriteMetrics(ctx, queryMetrics()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, err := range h.b.FindSpans(ctx, storage.SpanQuery{Service: "svc-1"}) {
					if err != nil {
						errs <- err
					}
				}
				for _, err := range h.b.GetTrace(ctx, storage.TraceQuery{TraceID: TraceID(101)}) {
					if err != nil && !errors.Is(err, storage.ErrNotFound) {
						errs <- err
					}
				}
				if _, err := h.b.FindTraceIDs(ctx, storage.SpanQuery{}); err != nil {
					errs <- err
				}
				if _, err := h.b.Operations(ctx, storage.OperationQuery{}); err != nil {
					errs <- err
				}
				for _, err := range h.b.FindLogs(ctx, storage.LogQuery{MinSeverity: plog.SeverityNumberWarn}) {
					if err != nil {
						errs <- err
					}
				}
				for _, err := range h.b.FindMetrics(ctx, storage.MetricQuery{Name: "a.gauge"}) {
					if err != nil {
						errs <- err
					}
				}
				if _, err := h.b.MetricNames(ctx); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	for w := range writers {
		if n := h.getTrace(TraceID(byte(100 + w))).SpanCount(); n != batches {
			t.Errorf("trace of writer %d has %d spans, want %d", w, n, batches)
		}
	}
	if n := h.findLogs(storage.LogQuery{Limit: 10_000}).LogRecordCount(); n != writers*batches*6 {
		t.Errorf("%d log records stored, want %d", n, writers*batches*6)
	}
	if n := h.findMetrics(storage.MetricQuery{Limit: 10_000}).DataPointCount(); n != writers*batches*6 {
		t.Errorf("%d points stored, want %d", n, writers*batches*6)
	}
}

// testClosed checks that every method returns ErrClosed after Close.
func testClosed(t *testing.T, f Factory) {
	b := f.Open(t)
	ctx := context.Background()
	if err := b.WriteSpans(ctx, AllFieldsTraces()); err != nil {
		t.Fatalf("WriteSpans: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: error %v, want ErrClosed", what, err)
		}
	}
	firstErr := func(seq func(func(error) bool)) error {
		var first error
		n := 0
		seq(func(err error) bool {
			n++
			first = err
			return false
		})
		if n == 0 {
			return errors.New("yielded nothing")
		}
		return first
	}
	check("WriteSpans", b.WriteSpans(ctx, AllFieldsTraces()))
	check("WriteLogs", b.WriteLogs(ctx, AllFieldsLogs()))
	check("WriteMetrics", b.WriteMetrics(ctx, AllFieldsMetrics()))
	check("GetTrace", firstErr(func(y func(error) bool) {
		for _, err := range b.GetTrace(ctx, storage.TraceQuery{TraceID: TraceID(1)}) {
			if !y(err) {
				return
			}
		}
	}))
	check("FindSpans", firstErr(func(y func(error) bool) {
		for _, err := range b.FindSpans(ctx, storage.SpanQuery{}) {
			if !y(err) {
				return
			}
		}
	}))
	check("FindLogs", firstErr(func(y func(error) bool) {
		for _, err := range b.FindLogs(ctx, storage.LogQuery{}) {
			if !y(err) {
				return
			}
		}
	}))
	check("FindMetrics", firstErr(func(y func(error) bool) {
		for _, err := range b.FindMetrics(ctx, storage.MetricQuery{}) {
			if !y(err) {
				return
			}
		}
	}))
	_, err := b.FindTraceIDs(ctx, storage.SpanQuery{})
	check("FindTraceIDs", err)
	_, err = b.Services(ctx)
	check("Services", err)
	_, err = b.Operations(ctx, storage.OperationQuery{})
	check("Operations", err)
	_, err = b.MetricNames(ctx)
	check("MetricNames", err)
	check("Close", b.Close())
}

// testEmptyWrites writes batches with nothing in them, or resources and scopes without items: no error, and
// nothing to read back.
func testEmptyWrites(t *testing.T, f Factory) {
	h := open(t, f)
	h.writeSpans(ptrace.NewTraces())
	h.writeLogs(plog.NewLogs())
	h.writeMetrics(pmetric.NewMetrics())
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().Resource().Attributes().PutStr("service.name", "empty")
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Scope().SetName("no spans")
	h.writeSpans(td)
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	h.writeLogs(ld)
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	h.writeMetrics(md)

	if n := h.findSpans(storage.SpanQuery{}).SpanCount(); n != 0 {
		t.Errorf("FindSpans after empty writes: %d spans", n)
	}
	if n := h.findLogs(storage.LogQuery{}).LogRecordCount(); n != 0 {
		t.Errorf("FindLogs after empty writes: %d records", n)
	}
	if n := h.findMetrics(storage.MetricQuery{}).DataPointCount(); n != 0 {
		t.Errorf("FindMetrics after empty writes: %d points", n)
	}
	refs, err := h.b.FindTraceIDs(context.Background(), storage.SpanQuery{})
	if err != nil || len(refs) != 0 {
		t.Errorf("FindTraceIDs after empty writes = %v, %v", refs, err)
	}
}
