package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// The randomized tests write random items, run random queries, and compare each answer with a brute-force
// evaluation of the query over the written items. Item times are distinct, so that every limited answer is
// fully determined.

const (
	randomItems   = 600
	randomQueries = 300
)

var (
	randServices = []string{"alpha", "beta", "gamma", "delta", ""} // "" : resource without service.name
	randNames    = []string{"GET /", "POST /cart", "SELECT", "publish", "work"}
	randRoutes   = []string{"/", "/cart", "/cart/{id}", "/health"}
	randKeys     = []string{"http.response.status_code", "http.route", "ratio", "flag", "env", "lib.flag", "missing"}
	randBodies   = []string{"user logged in", "cart updated", "payment failed: card declined", "GET /cart 200", ""}
)

type randItem struct {
	res   pcommon.Resource
	scope pcommon.InstrumentationScope
}

func randResource(rng *rand.Rand, r pcommon.Resource) string {
	svc := randServices[rng.IntN(len(randServices))]
	if svc != "" {
		r.Attributes().PutStr("service.name", svc)
	}
	if rng.IntN(2) == 0 {
		r.Attributes().PutStr("env", []string{"prod", "dev"}[rng.IntN(2)])
	}
	return svc
}

func randScope(rng *rand.Rand, s pcommon.InstrumentationScope) {
	s.SetName([]string{"lib-a", "lib-b"}[rng.IntN(2)])
	if rng.IntN(3) == 0 {
		s.Attributes().PutStr("lib.flag", "on")
	}
	if rng.IntN(4) == 0 {
		s.Attributes().PutStr("env", "scope")
	}
}

func randAttrs(rng *rand.Rand, m pcommon.Map) {
	if rng.IntN(4) != 0 {
		m.PutInt("http.response.status_code", []int64{200, 201, 404, 500, 503}[rng.IntN(5)])
	}
	if rng.IntN(2) == 0 {
		m.PutStr("http.route", randRoutes[rng.IntN(len(randRoutes))])
	}
	if rng.IntN(3) == 0 {
		m.PutDouble("ratio", float64(rng.IntN(5))/4)
	}
	if rng.IntN(3) == 0 {
		m.PutBool("flag", rng.IntN(2) == 0)
	}
	if rng.IntN(5) == 0 {
		m.PutStr("env", "item")
	}
}

func randPredicates(rng *rand.Rand) []storage.AttrPredicate {
	var ps []storage.AttrPredicate
	for range rng.IntN(3) {
		p := storage.AttrPredicate{
			Scope: storage.AttrScope(rng.IntN(4)),
			Key:   randKeys[rng.IntN(len(randKeys))],
			Op:    storage.AttrOp(rng.IntN(8)),
		}
		switch p.Key {
		case "http.response.status_code":
			p.Value = []string{"200", "404", "500"}[rng.IntN(3)]
			p.Number = []float64{200, 404, 500, 499.5}[rng.IntN(4)]
		case "http.route":
			p.Value = randRoutes[rng.IntN(len(randRoutes))]
			if p.Op == storage.OpContains {
				p.Value = "cart"
			}
		case "ratio":
			p.Value = "0.5"
			p.Number = 0.5
		case "flag":
			p.Value = "true"
		case "env":
			p.Value = []string{"prod", "dev", "scope", "item"}[rng.IntN(4)]
		default:
			p.Value = "on"
		}
		ps = append(ps, p)
	}
	return ps
}

func randTime(rng *rand.Rand) (time.Time, time.Time) {
	var start, end time.Time
	if rng.IntN(3) == 0 {
		start = BaseTime.Add(time.Duration(rng.IntN(randomItems*10)) * time.Millisecond)
	}
	if rng.IntN(3) == 0 {
		end = BaseTime.Add(time.Duration(rng.IntN(randomItems*10)) * time.Millisecond)
	}
	return start, end
}

func inTime(t pcommon.Timestamp, start, end time.Time) bool {
	at := t.AsTime()
	return (start.IsZero() || !at.Before(start)) && (end.IsZero() || !at.After(end))
}

type randSpan struct {
	randItem
	span ptrace.Span
	svc  string
}

func testRandomSpans(t *testing.T, f Factory) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	h := open(t, f)
	ctx := context.Background()

	// Distinct start times: a permutation of 10 ms steps.
	starts := rng.Perm(randomItems)
	var all []randSpan
	written := 0
	for written < randomItems {
		td := ptrace.NewTraces()
		for range 1 + rng.IntN(3) {
			rs := td.ResourceSpans().AppendEmpty()
			svc := randResource(rng, rs.Resource())
			for range 1 + rng.IntN(2) {
				ss := rs.ScopeSpans().AppendEmpty()
				randScope(rng, ss.Scope())
				for range 1 + rng.IntN(20) {
					if written == randomItems {
						break
					}
					sp := ss.Spans().AppendEmpty()
					sp.SetTraceID(TraceID(byte(rng.IntN(40))))
					sp.SetSpanID(pcommon.SpanID{0x5a, 0, 0, 0, 0, 0, byte(written >> 8), byte(written)})
					sp.SetName(randNames[rng.IntN(len(randNames))])
					sp.SetKind(ptrace.SpanKind(rng.IntN(6)))
					sp.Status().SetCode(ptrace.StatusCode(rng.IntN(3)))
					st := BaseTime.Add(time.Duration(starts[written]) * 10 * time.Millisecond)
					sp.SetStartTimestamp(pcommon.NewTimestampFromTime(st))
					sp.SetEndTimestamp(pcommon.NewTimestampFromTime(st.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)))
					randAttrs(rng, sp.Attributes())
					all = append(all, randSpan{randItem{rs.Resource(), ss.Scope()}, sp, svc})
					written++
				}
			}
		}
		// Write a copy: all keeps the originals for the reference evaluation.
		cp := ptrace.NewTraces()
		td.CopyTo(cp)
		h.writeSpans(cp)
	}

	nonEmpty := 0
	defer func() {
		t.Logf("%d of %d random span queries had matches", nonEmpty, randomQueries)
		if nonEmpty < randomQueries/4 || nonEmpty == randomQueries {
			t.Errorf("the random queries are too narrow or too wide to test anything (%d of %d match)", nonEmpty, randomQueries)
		}
	}()
	for qi := range randomQueries {
		q := storage.SpanQuery{}
		q.Start, q.End = randTime(rng)
		if rng.IntN(4) == 0 {
			q.Service = randServices[rng.IntN(len(randServices))]
		}
		if rng.IntN(4) == 0 {
			q.SpanName = randNames[rng.IntN(len(randNames))]
		}
		if rng.IntN(4) == 0 {
			q.Kind = ptrace.SpanKind(rng.IntN(6))
		}
		if rng.IntN(4) == 0 {
			q.Status, q.StatusSet = ptrace.StatusCode(rng.IntN(3)), true
		}
		if rng.IntN(4) == 0 {
			q.MinDuration = time.Duration(rng.IntN(2000)) * time.Millisecond
		}
		if rng.IntN(4) == 0 {
			q.MaxDuration = time.Duration(1+rng.IntN(2000)) * time.Millisecond
		}
		q.Attributes = randPredicates(rng)
		if rng.IntN(5) == 0 {
			route := randRoutes[rng.IntN(len(randRoutes))]
			q.Match = SpanMatcherFunc(func(_ pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
				v, ok := sp.Attributes().Get("http.route")
				return !ok || v.Str() != route
			})
		}
		q.Limit = 10_000 // the backend default limit is the backend's
		if rng.IntN(2) == 0 {
			q.Limit = 1 + rng.IntN(50)
		}

		var match []randSpan
		for _, s := range all {
			if spanMatchesRef(s, &q) {
				match = append(match, s)
			}
		}
		slices.SortFunc(match, func(a, b randSpan) int { return int(b.span.StartTimestamp()) - int(a.span.StartTimestamp()) })

		// FindSpans: the newest Limit matches.
		want := match
		if q.Limit > 0 && len(want) > q.Limit {
			want = want[:q.Limit]
		}
		wantIDs := make([]string, len(want))
		for i, s := range want {
			wantIDs[i] = s.span.SpanID().String()
		}
		slices.Sort(wantIDs)
		if len(wantIDs) > 0 {
			nonEmpty++
		}
		got := h.findSpans(q)
		var gotIDs []string
		for _, rs := range got.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					gotIDs = append(gotIDs, sp.SpanID().String())
				}
			}
		}
		slices.Sort(gotIDs)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("query %d FindSpans(%s): got %d spans, want %d\n got %v\nwant %v", qi, describeSpanQuery(q), len(gotIDs), len(wantIDs), gotIDs, wantIDs)
			continue
		}

		// FindTraceIDs: traces by their newest matching span, with the range of their matching spans.
		var refs []storage.TraceRef
		pos := make(map[pcommon.TraceID]int)
		for _, s := range match {
			id := s.span.TraceID()
			st, en := s.span.StartTimestamp().AsTime(), s.span.EndTimestamp().AsTime()
			i, ok := pos[id]
			if !ok {
				pos[id] = len(refs)
				refs = append(refs, storage.TraceRef{TraceID: id, Start: st, End: en})
				continue
			}
			if st.Before(refs[i].Start) {
				refs[i].Start = st
			}
			if en.After(refs[i].End) {
				refs[i].End = en
			}
		}
		if q.Limit > 0 && len(refs) > q.Limit {
			refs = refs[:q.Limit]
		}
		gotRefs, err := h.b.FindTraceIDs(ctx, q)
		if err != nil {
			t.Fatalf("FindTraceIDs: %v", err)
		}
		switch {
		case !slices.EqualFunc(gotRefs, refs, func(a, b storage.TraceRef) bool { return a.TraceID == b.TraceID }):
			t.Errorf("query %d FindTraceIDs(%s): wrong traces or order:\n%s\nwant\n%s", qi, describeSpanQuery(q), refsString(gotRefs), refsString(refs))
		case !slices.EqualFunc(gotRefs, refs, func(a, b storage.TraceRef) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }):
			t.Errorf("query %d FindTraceIDs(%s): right traces, but Start..End must span every matching span of the trace:\n%s\nwant\n%s",
				qi, describeSpanQuery(q), refsString(gotRefs), refsString(refs))
		}
	}
}

func spanMatchesRef(s randSpan, q *storage.SpanQuery) bool {
	sp := s.span
	if !inTime(sp.StartTimestamp(), q.Start, q.End) {
		return false
	}
	if q.Service != "" && s.svc != q.Service {
		return false
	}
	if q.SpanName != "" && sp.Name() != q.SpanName {
		return false
	}
	if q.Kind != 0 && sp.Kind() != q.Kind {
		return false
	}
	if q.StatusSet && sp.Status().Code() != q.Status {
		return false
	}
	d := sp.EndTimestamp().AsTime().Sub(sp.StartTimestamp().AsTime())
	if d < q.MinDuration || (q.MaxDuration > 0 && d > q.MaxDuration) {
		return false
	}
	if !storage.MatchAll(q.Attributes, sp.Attributes(), s.scope.Attributes(), s.res.Attributes()) {
		return false
	}
	return q.Match == nil || q.Match.MatchSpan(s.res, s.scope, sp)
}

func describeSpanQuery(q storage.SpanQuery) string {
	var b strings.Builder
	if !q.Start.IsZero() {
		fmt.Fprintf(&b, "start=+%v ", q.Start.Sub(BaseTime))
	}
	if !q.End.IsZero() {
		fmt.Fprintf(&b, "end=+%v ", q.End.Sub(BaseTime))
	}
	if q.Service != "" {
		fmt.Fprintf(&b, "service=%q ", q.Service)
	}
	if q.SpanName != "" {
		fmt.Fprintf(&b, "name=%q ", q.SpanName)
	}
	if q.Kind != 0 {
		fmt.Fprintf(&b, "kind=%s ", q.Kind)
	}
	if q.StatusSet {
		fmt.Fprintf(&b, "status=%s ", q.Status)
	}
	if q.MinDuration != 0 || q.MaxDuration != 0 {
		fmt.Fprintf(&b, "duration=[%v,%v] ", q.MinDuration, q.MaxDuration)
	}
	for _, p := range q.Attributes {
		fmt.Fprintf(&b, "attr(scope=%d %q op=%d %q %v) ", p.Scope, p.Key, p.Op, p.Value, p.Number)
	}
	if q.Match != nil {
		b.WriteString("matcher ")
	}
	fmt.Fprintf(&b, "limit=%d", q.Limit)
	return b.String()
}

type randLog struct {
	randItem
	rec plog.LogRecord
	svc string
	t   pcommon.Timestamp
}

func testRandomLogs(t *testing.T, f Factory) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	h := open(t, f)

	times := rng.Perm(randomItems)
	var all []randLog
	written := 0
	for written < randomItems {
		ld := plog.NewLogs()
		for range 1 + rng.IntN(3) {
			rl := ld.ResourceLogs().AppendEmpty()
			svc := randResource(rng, rl.Resource())
			for range 1 + rng.IntN(2) {
				sl := rl.ScopeLogs().AppendEmpty()
				randScope(rng, sl.Scope())
				for range 1 + rng.IntN(20) {
					if written == randomItems {
						break
					}
					r := sl.LogRecords().AppendEmpty()
					at := pcommon.NewTimestampFromTime(BaseTime.Add(time.Duration(times[written]) * 10 * time.Millisecond))
					if rng.IntN(5) == 0 {
						r.SetObservedTimestamp(at) // time unknown
					} else {
						r.SetTimestamp(at)
						r.SetObservedTimestamp(at + pcommon.Timestamp(rng.IntN(1e9)))
					}
					r.SetSeverityNumber(plog.SeverityNumber(rng.IntN(25)))
					switch rng.IntN(4) {
					case 0:
						r.Body().SetInt(int64(rng.IntN(1000)))
					case 1:
						r.Body().SetEmptyMap().PutStr("msg", randBodies[rng.IntN(len(randBodies))])
					default:
						r.Body().SetStr(randBodies[rng.IntN(len(randBodies))])
					}
					if rng.IntN(2) == 0 {
						r.SetTraceID(TraceID(byte(rng.IntN(20))))
					}
					randAttrs(rng, r.Attributes())
					r.Attributes().PutInt("item", int64(written))
					all = append(all, randLog{randItem{rl.Resource(), sl.Scope()}, r, svc, at})
					written++
				}
			}
		}
		cp := plog.NewLogs()
		ld.CopyTo(cp)
		h.writeLogs(cp)
	}

	nonEmpty := 0
	defer func() {
		t.Logf("%d of %d random log queries had matches", nonEmpty, randomQueries)
		if nonEmpty < randomQueries/4 || nonEmpty == randomQueries {
			t.Errorf("the random queries are too narrow or too wide to test anything (%d of %d match)", nonEmpty, randomQueries)
		}
	}()
	for qi := range randomQueries {
		q := storage.LogQuery{}
		q.Start, q.End = randTime(rng)
		if rng.IntN(3) == 0 {
			q.MinSeverity = plog.SeverityNumber(rng.IntN(25))
		}
		if rng.IntN(3) == 0 {
			q.MaxSeverity = plog.SeverityNumber(rng.IntN(25))
		}
		if rng.IntN(4) == 0 {
			q.BodyContains = []string{"cart", "fail", "1", "msg", "GET"}[rng.IntN(5)]
		}
		if rng.IntN(4) == 0 {
			q.TraceID = TraceID(byte(rng.IntN(20)))
		}
		if rng.IntN(4) == 0 {
			q.Service = randServices[rng.IntN(len(randServices))]
		}
		q.Attributes = randPredicates(rng)
		if rng.IntN(5) == 0 {
			q.Match = LogMatcherFunc(func(_ pcommon.Resource, sc pcommon.InstrumentationScope, _ plog.LogRecord) bool {
				return sc.Name() == "lib-a"
			})
		}
		q.Order = storage.Order(rng.IntN(2))
		q.Limit = 10_000
		if rng.IntN(2) == 0 {
			q.Limit = 1 + rng.IntN(50)
		}

		var match []randLog
		for _, l := range all {
			if logMatchesRef(l, &q) {
				match = append(match, l)
			}
		}
		slices.SortFunc(match, func(a, b randLog) int {
			if q.Order == storage.OldestFirst {
				return int(a.t) - int(b.t)
			}
			return int(b.t) - int(a.t)
		})
		if q.Limit > 0 && len(match) > q.Limit {
			match = match[:q.Limit]
		}
		var want []int
		for _, l := range match {
			v, _ := l.rec.Attributes().Get("item")
			want = append(want, int(v.Int()))
		}
		slices.Sort(want)
		if len(want) > 0 {
			nonEmpty++
		}
		var got []int
		for _, rl := range h.findLogs(q).ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					v, _ := r.Attributes().Get("item")
					got = append(got, int(v.Int()))
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("query %d FindLogs(%+v): got %d records, want %d\n got %v\nwant %v", qi, q, len(got), len(want), got, want)
		}
	}
}

func logMatchesRef(l randLog, q *storage.LogQuery) bool {
	r := l.rec
	if !inTime(l.t, q.Start, q.End) {
		return false
	}
	if q.MinSeverity != 0 && r.SeverityNumber() < q.MinSeverity {
		return false
	}
	if q.MaxSeverity != 0 && r.SeverityNumber() > q.MaxSeverity {
		return false
	}
	if q.BodyContains != "" && !strings.Contains(r.Body().AsString(), q.BodyContains) {
		return false
	}
	if !q.TraceID.IsEmpty() && r.TraceID() != q.TraceID {
		return false
	}
	if q.Service != "" && l.svc != q.Service {
		return false
	}
	if !storage.MatchAll(q.Attributes, r.Attributes(), l.scope.Attributes(), l.res.Attributes()) {
		return false
	}
	return q.Match == nil || q.Match.MatchLog(l.res, l.scope, r)
}

func testRandomMetrics(t *testing.T, f Factory) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	h := open(t, f)
	names := []string{"m.gauge", "m.sum", "m.hist", "m.exp", "m.summary"}

	// Point i has time BaseTime + times[i]*10ms and carries its index as attribute "item".
	times := rng.Perm(randomItems)
	type point struct {
		name string
		t    time.Time
		item int
	}
	var all []point
	for written := 0; written < randomItems; {
		md := pmetric.NewMetrics()
		sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
		for range 1 + rng.IntN(4) {
			name := names[rng.IntN(len(names))]
			m := sm.Metrics().AppendEmpty()
			m.SetName(name)
			var attrs func() pcommon.Map
			var setTime func(pcommon.Timestamp)
			switch name {
			case "m.gauge":
				g := m.SetEmptyGauge()
				attrs = func() pcommon.Map {
					p := g.DataPoints().AppendEmpty()
					p.SetDoubleValue(rng.Float64())
					setTime = p.SetTimestamp
					return p.Attributes()
				}
			case "m.sum":
				s := m.SetEmptySum()
				s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				attrs = func() pcommon.Map {
					p := s.DataPoints().AppendEmpty()
					p.SetIntValue(rng.Int64N(1000))
					setTime = p.SetTimestamp
					return p.Attributes()
				}
			case "m.hist":
				hh := m.SetEmptyHistogram()
				hh.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
				attrs = func() pcommon.Map {
					p := hh.DataPoints().AppendEmpty()
					p.SetCount(1)
					setTime = p.SetTimestamp
					return p.Attributes()
				}
			case "m.exp":
				e := m.SetEmptyExponentialHistogram()
				e.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
				attrs = func() pcommon.Map {
					p := e.DataPoints().AppendEmpty()
					p.SetZeroCount(1)
					p.SetCount(1)
					setTime = p.SetTimestamp
					return p.Attributes()
				}
			default:
				s := m.SetEmptySummary()
				attrs = func() pcommon.Map {
					p := s.DataPoints().AppendEmpty()
					p.SetCount(2)
					setTime = p.SetTimestamp
					return p.Attributes()
				}
			}
			for range 1 + rng.IntN(10) {
				if written == randomItems {
					break
				}
				a := attrs()
				a.PutInt("item", int64(written))
				at := BaseTime.Add(time.Duration(times[written]) * 10 * time.Millisecond)
				setTime(pcommon.NewTimestampFromTime(at))
				all = append(all, point{name, at, written})
				written++
			}
		}
		h.writeMetrics(md)
	}

	for qi := range randomQueries / 3 {
		q := storage.MetricQuery{Limit: 10_000}
		q.Start, q.End = randTime(rng)
		if rng.IntN(2) == 0 {
			q.Name = names[rng.IntN(len(names))]
		}
		if rng.IntN(2) == 0 {
			q.Limit = 1 + rng.IntN(100)
		}
		var match []point
		for _, p := range all {
			if (q.Name == "" || p.name == q.Name) && (q.Start.IsZero() || !p.t.Before(q.Start)) && (q.End.IsZero() || !p.t.After(q.End)) {
				match = append(match, p)
			}
		}
		slices.SortFunc(match, func(a, b point) int { return a.t.Compare(b.t) })
		if len(match) > q.Limit {
			match = match[:q.Limit]
		}
		want := []int{}
		for _, p := range match {
			want = append(want, p.item)
		}
		slices.Sort(want)
		got := []int{}
		md := h.findMetrics(q)
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					forEachPointAttrs(m, func(a pcommon.Map) {
						v, _ := a.Get("item")
						got = append(got, int(v.Int()))
					})
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("query %d FindMetrics(name=%q start=%v end=%v limit=%d): got %d points, want %d\n got %v\nwant %v",
				qi, q.Name, q.Start, q.End, q.Limit, len(got), len(want), got, want)
		}
	}
}

func forEachPointAttrs(m pmetric.Metric, f func(pcommon.Map)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, p := range m.Gauge().DataPoints().All() {
			f(p.Attributes())
		}
	case pmetric.MetricTypeSum:
		for _, p := range m.Sum().DataPoints().All() {
			f(p.Attributes())
		}
	case pmetric.MetricTypeHistogram:
		for _, p := range m.Histogram().DataPoints().All() {
			f(p.Attributes())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, p := range m.ExponentialHistogram().DataPoints().All() {
			f(p.Attributes())
		}
	case pmetric.MetricTypeSummary:
		for _, p := range m.Summary().DataPoints().All() {
			f(p.Attributes())
		}
	}
}
