package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

func TestSearchTraces(t *testing.T) {
	var all []sp
	// Trace n starts at n minutes; odd traces have an error in "db"; trace 3 has no root span stored.
	for n := 1; n <= 7; n++ {
		at := float64(n) * 60_000
		all = append(all,
			sp{trace: n, id: 1, service: "front", name: "GET /cart", kind: server, start: at, end: at + 300, attrs: map[string]any{"http.response.status_code": int64(200 + n)}},
			sp{trace: n, id: 2, parent: 1, service: "front", name: "query", kind: client, start: at + 10, end: at + 200},
			sp{trace: n, id: 3, parent: 2, service: "db", name: "SELECT", kind: server, start: at + 20, end: at + 190, err: n%2 == 1},
		)
	}
	all = slices.DeleteFunc(all, func(s sp) bool { return s.trace == 3 && s.id == 1 })
	q, _ := newQuerier(t, build(all))
	ctx := context.Background()

	res, err := q.SearchTraces(ctx, TraceSearch{Filter: `service.name = "db" and status = error`, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 2 || res.NextOffset != 2 {
		t.Fatalf("page 1: %d traces, next %d; want 2, 2", len(res.Traces), res.NextOffset)
	}
	want := TraceSummary{TraceID: tid(7).String(), RootService: "front", RootName: "GET /cart",
		Start: ms(7 * 60_000), DurationNanos: int64(300 * time.Millisecond), SpanCount: 3, ErrorCount: 1,
		Services: []ServiceSpans{{"db", 1, 1}, {"front", 2, 0}}}
	if got := res.Traces[0]; !equalSummary(got, want) {
		t.Errorf("newest trace\n%+v\nwant\n%+v", got, want)
	}
	if res.Traces[1].TraceID != tid(5).String() {
		t.Errorf("second trace %s, want trace 5", res.Traces[1].TraceID)
	}
	res, err = q.SearchTraces(ctx, TraceSearch{Filter: `service.name = "db" and status = error`, Limit: 2, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 2 || res.NextOffset != 0 {
		t.Fatalf("page 2: %d traces, next %d; want 2, 0", len(res.Traces), res.NextOffset)
	}
	// Trace 3 lacks its root: the earliest span whose parent is absent stands in.
	if g := res.Traces[0]; g.TraceID != tid(3).String() || !g.RootMissing || g.RootName != "query" || g.SpanCount != 2 {
		t.Errorf("trace 3 summary %+v", g)
	}
	// Typed attribute filter and explicit fields together.
	res, err = q.SearchTraces(ctx, TraceSearch{Filter: `http.response.status_code >= 205`, Service: "front", MinDuration: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 3 { // traces 5, 6, 7
		t.Errorf("status >= 205 found %d traces, want 3", len(res.Traces))
	}
	// The default range is the last 24h before now (base+1h): data at base-2d is not searched.
	old := build([]sp{{trace: 50, id: 1, service: "front", name: "old", kind: server, start: -48 * 3600_000, end: -48*3600_000 + 5}})
	q2, _ := newQuerier(t, old)
	if res, _ := q2.SearchTraces(ctx, TraceSearch{}); len(res.Traces) != 0 {
		t.Errorf("default range found a trace from 2 days ago")
	}
	if res, _ := q2.SearchTraces(ctx, TraceSearch{TimeRange: TimeRange{Start: base.Add(-72 * time.Hour)}}); len(res.Traces) != 1 {
		t.Errorf("explicit range missed the old trace")
	}
	// Bad input is ErrInvalid with the filter's position.
	_, err = q.SearchTraces(ctx, TraceSearch{Filter: `duration >`})
	if !errors.Is(err, ErrInvalid) || err.Error() != "invalid query: filter 1:11: expected a value after '>', found end of input" {
		t.Errorf("bad filter error: %v", err)
	}
	if _, err := q.SearchTraces(ctx, TraceSearch{MinDuration: time.Second, MaxDuration: time.Millisecond}); !errors.Is(err, ErrInvalid) {
		t.Errorf("inverted durations: %v", err)
	}
}

func equalSummary(a, b TraceSummary) bool {
	return a.TraceID == b.TraceID && a.RootService == b.RootService && a.RootName == b.RootName && a.Start.Equal(b.Start) &&
		a.DurationNanos == b.DurationNanos && a.SpanCount == b.SpanCount && a.ErrorCount == b.ErrorCount &&
		slices.Equal(a.Services, b.Services) && a.RootMissing == b.RootMissing
}

// bigTrace builds a trace of n spans in random order, with random start times (many equal).
func bigTrace(n int, seed uint64) ptrace.Traces {
	rng := rand.New(rand.NewPCG(seed, 2))
	spans := make([]sp, n)
	for i := range spans {
		st := float64(rng.IntN(n / 4))
		spans[i] = sp{trace: 77, id: i + 1, parent: rng.IntN(i + 1), service: []string{"a", "b", "c"}[rng.IntN(3)],
			name: "op", kind: internal, start: st, end: st + 1}
	}
	rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
	return build(spans)
}

func TestTracePage(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	const n = 2503
	q, _ := newQuerier(t, bigTrace(n, seed))
	var keys []SpanKey
	var after *SpanKey
	pages := 0
	for {
		p, err := q.TracePage(context.Background(), tid(77), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Total != n {
			t.Fatalf("total %d, want %d", p.Total, n)
		}
		var pageKeys []SpanKey
		forEachSpan(p.Spans, func(_ pcommon.Resource, _ pcommon.InstrumentationScope, s ptrace.Span) {
			pageKeys = append(pageKeys, SpanKey{int64(s.StartTimestamp()), s.SpanID()})
		})
		if len(pageKeys) != p.Count {
			t.Fatalf("page holds %d spans, Count %d", len(pageKeys), p.Count)
		}
		slices.SortFunc(pageKeys, SpanKey.compare)
		keys = append(keys, pageKeys...)
		if p.Next == nil {
			break
		}
		cur, err := ParseSpanKey(p.Next.String())
		if err != nil || cur != *p.Next {
			t.Fatalf("cursor round trip %v -> %v, %v", p.Next, cur, err)
		}
		after = &cur
	}
	if pages != 3 || len(keys) != n {
		t.Fatalf("%d pages with %d spans, want 3 pages with %d", pages, len(keys), n)
	}
	if !slices.IsSortedFunc(keys, SpanKey.compare) || len(slices.CompactFunc(slices.Clone(keys), func(a, b SpanKey) bool { return a == b })) != n {
		t.Fatal("pages are not in key order or repeat spans")
	}
	if _, err := q.TracePage(context.Background(), tid(78), nil, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing trace: %v", err)
	}
	if _, err := ParseSpanKey("12-zz"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

// randomSpans makes traces over [0, 10 min) across services, with random kinds, durations and errors.
func randomSpans(rng *rand.Rand, traces int) []sp {
	var out []sp
	services := []string{"front", "cart", "db", "auth"}
	kinds := []ptrace.SpanKind{server, client, internal, producer, consumer}
	for tr := 1; tr <= traces; tr++ {
		n := 1 + rng.IntN(12)
		at := float64(rng.IntN(600_000))
		for i := 1; i <= n; i++ {
			s := sp{trace: tr, id: i, service: services[rng.IntN(len(services))], name: fmt.Sprintf("op%d", rng.IntN(3)),
				kind: kinds[rng.IntN(len(kinds))], start: at + float64(rng.IntN(1000)), err: rng.IntN(5) == 0}
			if i > 1 {
				s.parent = 1 + rng.IntN(i-1)
				if rng.IntN(10) == 0 {
					s.parent = 1000 + i // parent never stored
				}
			}
			s.end = s.start + float64(rng.IntN(5000))/10
			out = append(out, s)
		}
	}
	return out
}

// percentileByCount is the p-th percentile as the smallest value v with at least p% of values <= v, found by
// counting (a different route from Percentile's rank arithmetic).
func percentileByCount(vals []int64, p float64) int64 {
	if len(vals) == 0 {
		return 0
	}
	cands := slices.Clone(vals)
	slices.Sort(cands)
	for _, v := range cands {
		le := 0
		for _, x := range vals {
			if x <= v {
				le++
			}
		}
		if float64(le)*100 >= p*float64(len(vals)) {
			return v
		}
	}
	return cands[len(cands)-1]
}

func TestRED(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	spans := randomSpans(rng, 300)
	for _, backend := range spanBackends {
		t.Run(backend, func(t *testing.T) {
			q := querierOn(t, backend, spans)
			step := time.Minute
			r := TimeRange{Start: base, End: base.Add(10 * time.Minute)}
			res, err := q.RED(context.Background(), REDQuery{TimeRange: r, Step: step, ByOperation: true})
			if err != nil {
				t.Fatal(err)
			}
			// Independently: requests are server/consumer spans and spans without a parent.
			type key struct {
				svc, op string
				bucket  int
			}
			durs := map[key][]int64{}
			errs := map[key]int64{}
			for _, s := range spans {
				if !(s.kind == server || s.kind == consumer || s.parent == 0) {
					continue
				}
				startNs := ms(s.start).UnixNano()
				if startNs > r.End.UnixNano() {
					continue
				}
				b := int((startNs - base.UnixNano()) / int64(step))
				d := ms(s.end).UnixNano() - startNs
				for _, k := range []key{{s.service, "", b}, {s.service, s.name, b}, {s.service, "", -1}, {s.service, s.name, -1}} {
					durs[k] = append(durs[k], d)
					if s.err {
						errs[k]++
					}
				}
			}
			checked := 0
			for _, se := range res.Series {
				check := func(k key, p REDPoint, secs float64) {
					d := durs[k]
					want := REDPoint{Count: int64(len(d)), Errors: errs[k], P50Nanos: percentileByCount(d, 50),
						P95Nanos: percentileByCount(d, 95), P99Nanos: percentileByCount(d, 99), Rate: float64(len(d)) / secs}
					if len(d) > 0 {
						want.ErrorRate = float64(errs[k]) / float64(len(d))
					}
					p.Time = time.Time{}
					if p != want {
						t.Errorf("%s/%s bucket %d: %+v, want %+v", k.svc, k.op, k.bucket, p, want)
					}
					checked++
				}
				for i, p := range se.Points {
					check(key{se.Service, se.Operation, i}, p, step.Seconds())
				}
				check(key{se.Service, se.Operation, -1}, se.Total, r.End.Sub(r.Start).Seconds())
			}
			nSeries := 0
			for k := range durs {
				if k.bucket == -1 {
					nSeries++
				}
			}
			if len(res.Series) != nSeries || checked == 0 {
				t.Errorf("%d series, want %d", len(res.Series), nSeries)
			}
			// One service, one operation.
			one, err := q.RED(context.Background(), REDQuery{TimeRange: r, Step: step, Service: "cart", Operation: "op1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, se := range one.Series {
				if se.Service != "cart" || (se.Operation != "" && se.Operation != "op1") {
					t.Errorf("unexpected series %s/%s", se.Service, se.Operation)
				}
				if se.Operation == "op1" && se.Total.Count != int64(len(durs[key{"cart", "op1", -1}])) {
					t.Errorf("cart/op1 count %d, want %d", se.Total.Count, len(durs[key{"cart", "op1", -1}]))
				}
			}
			if _, err := q.RED(context.Background(), REDQuery{TimeRange: r, Step: time.Millisecond}); !errors.Is(err, ErrInvalid) {
				t.Errorf("too many buckets: %v", err)
			}
		})
	}
}

func TestDependencies(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	spans := randomSpans(rng, 400)
	for _, backend := range spanBackends {
		t.Run(backend, func(t *testing.T) {
			q := querierOn(t, backend, spans)
			g, err := q.Dependencies(context.Background(), TimeRange{Start: base, End: base.Add(11 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			type pair struct{ p, c string }
			owner := map[[2]int]string{}
			for _, s := range spans {
				owner[[2]int{s.trace, s.id}] = s.service
			}
			calls, errs := map[pair]int64{}, map[pair]int64{}
			for _, s := range spans {
				ps, ok := owner[[2]int{s.trace, s.parent}]
				if s.parent == 0 || !ok || ps == s.service {
					continue
				}
				calls[pair{ps, s.service}]++
				if s.err {
					errs[pair{ps, s.service}]++
				}
			}
			if len(g.Edges) != len(calls) || len(calls) == 0 {
				t.Fatalf("%d edges, want %d", len(g.Edges), len(calls))
			}
			for _, e := range g.Edges {
				k := pair{e.Parent, e.Child}
				if e.CallCount != calls[k] || e.ErrorCount != errs[k] {
					t.Errorf("edge %s->%s: %d calls %d errors, want %d, %d", e.Parent, e.Child, e.CallCount, e.ErrorCount, calls[k], errs[k])
				}
			}
			if !sort.SliceIsSorted(g.Edges, func(i, j int) bool {
				return cmp.Or(cmp.Compare(g.Edges[i].Parent, g.Edges[j].Parent), cmp.Compare(g.Edges[i].Child, g.Edges[j].Child)) < 0
			}) {
				t.Error("edges not sorted")
			}
		})
	}
}

func TestSearchLogs(t *testing.T) {
	q, st := newQuerier(t)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "cart")
	sl := rl.ScopeLogs().AppendEmpty()
	// Record i at i*7 seconds; severity cycles INFO/WARN/ERROR; every 5th belongs to trace 9.
	const n = 200
	wantBuckets := map[int]int64{}
	var errorsTotal int
	for i := range n {
		r := sl.LogRecords().AppendEmpty()
		at := base.Add(time.Duration(i) * 7 * time.Second)
		r.SetTimestamp(pcommon.NewTimestampFromTime(at))
		sev := []plog.SeverityNumber{plog.SeverityNumberInfo, plog.SeverityNumberWarn, plog.SeverityNumberError}[i%3]
		r.SetSeverityNumber(sev)
		r.Body().SetStr(fmt.Sprintf("message %d", i))
		if i%5 == 0 {
			r.SetTraceID(tid(9))
		}
		if sev == plog.SeverityNumberError {
			errorsTotal++
			wantBuckets[int(at.Sub(base)/time.Minute)]++
		}
	}
	writeLogs(t, st, ld)
	ctx := context.Background()
	r := TimeRange{Start: base, End: base.Add(30 * time.Minute)}
	res, err := q.SearchLogs(ctx, LogSearch{TimeRange: r, Filter: `severity >= error`, Limit: 10, Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != 10 || res.NextOffset != 10 {
		t.Fatalf("page: %d records, next %d", res.Count, res.NextOffset)
	}
	first := res.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	if first.Body().Str() != "message 197" { // newest error: 197 = 2 mod 3
		t.Errorf("newest first: got %q", first.Body().Str())
	}
	h := res.Histogram
	if h == nil || h.Total != int64(errorsTotal) || len(h.Counts) != 31 {
		t.Fatalf("histogram %+v, want total %d in 31 buckets", h, errorsTotal)
	}
	for i, c := range h.Counts {
		if c != wantBuckets[i] {
			t.Errorf("bucket %d = %d, want %d", i, c, wantBuckets[i])
		}
	}
	res, err = q.SearchLogs(ctx, LogSearch{TimeRange: r, Order: storage.OldestFirst, Limit: 3, Offset: 3, Filter: `body contains "message"`})
	if err != nil {
		t.Fatal(err)
	}
	if b := res.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str(); b != "message 3" {
		t.Errorf("oldest first, offset 3: got %q", b)
	}
	lt, err := q.LogsOfTrace(ctx, tid(9), r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if lt.Count != n/5 {
		t.Errorf("logs of trace: %d, want %d", lt.Count, n/5)
	}
	if _, err := q.SearchLogs(ctx, LogSearch{Filter: `duration > 1s`}); !errors.Is(err, ErrInvalid) {
		t.Errorf("span field in a log filter: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	var spans []sp
	for i := 1; i <= 50; i++ {
		spans = append(spans, sp{trace: i, id: 1, service: "front", name: "GET", kind: server, start: float64(i), end: float64(i + 1),
			attrs: map[string]any{"http.route": fmt.Sprintf("/r%d", i%3), "common": "x"}})
	}
	q, _ := newQuerier(t, build(spans))
	ctx := context.Background()
	keys, err := q.Attributes(ctx, CatalogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !keys.Complete || keys.Sampled != 50 || len(keys.Entries) != 3 || keys.Entries[0].Count != 50 {
		t.Errorf("keys %+v", keys)
	}
	vals, err := q.Attributes(ctx, CatalogQuery{Key: "http.route", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []CatalogEntry{{Name: "/r1", Count: 17}, {Name: "/r2", Count: 17}}
	if !slices.Equal(vals.Entries, want) {
		t.Errorf("values %+v, want %+v", vals.Entries, want)
	}
	small, _ := q.Attributes(ctx, CatalogQuery{Sample: 10})
	if small.Complete || small.Sampled != 10 {
		t.Errorf("sampled catalog %+v", small)
	}
}

// findOnly hides the backend's SpanScanner, so the querier reads copies through FindSpans.
type findOnly struct{ storage.SpanReader }

// TestScanPathsAgree checks the in-place scan (storage.SpanScanner) and the FindSpans fallback give the same
// RED, graph and truncation.
func TestScanPathsAgree(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	spans := randomSpans(rand.New(rand.NewPCG(seed, 5)), 200)
	scan, st := newQuerier(t, build(spans))
	if _, ok := any(st).(storage.SpanScanner); !ok {
		t.Fatal("the memory backend does not implement storage.SpanScanner")
	}
	r := TimeRange{Start: base, End: base.Add(11 * time.Minute)}
	for _, maxScan := range []int{0, 100} {
		opts := scan.Options()
		opts.MaxScanSpans = maxScan
		a := New(st, st, opts)
		b := New(findOnly{st}, st, opts)
		ra, err1 := a.RED(context.Background(), REDQuery{TimeRange: r, Step: time.Minute, ByOperation: true})
		rb, err2 := b.RED(context.Background(), REDQuery{TimeRange: r, Step: time.Minute, ByOperation: true})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if maxScan > 0 { // which spans a cut keeps depends on the page grouping; both must say they are partial
			if !ra.Truncated || !rb.Truncated {
				t.Errorf("max scan %d: RED not marked truncated (%v, %v)", maxScan, ra.Truncated, rb.Truncated)
			}
			continue
		}
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("RED differs between scan and find")
		}
		ga, err1 := a.Dependencies(context.Background(), r)
		gb, err2 := b.Dependencies(context.Background(), r)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(ga, gb) {
			t.Errorf("graph differs between scan and find (%v, %v)", err1, err2)
		}
		pa, err1 := a.DependenciesWithPeers(context.Background(), r)
		pb, err2 := b.DependenciesWithPeers(context.Background(), r)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(pa, pb) {
			t.Errorf("graph with peers differs between scan and find (%v, %v)", err1, err2)
		}
	}
}
