package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// SpanMatcherFunc adapts a function to storage.SpanMatcher.
type SpanMatcherFunc func(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool

// MatchSpan calls f.
func (f SpanMatcherFunc) MatchSpan(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool {
	return f(res, scope, span)
}

type spanSpec struct {
	trace, id, parent byte
	service, name     string
	kind              ptrace.SpanKind
	status            ptrace.StatusCode
	start, dur        time.Duration
	attrs             map[string]any
}

// The query fixture. Labels are service/name; newest first: F E D C B A.
//
//	A frontend/GET /      SERVER   OK     0s    100ms  status_code 200, http.route "/"
//	B frontend/SELECT     CLIENT   unset  10ms  50ms   db.system.name
//	C backend/POST /pay   SERVER   ERROR  1s    2s     status_code 500, user.id, latency 1.5, http.route "/pay"
//	D backend/charge      INTERNAL unset  1.1s  1s     env "span" (shadows the resource's env)
//	E worker/consume      CONSUMER unset  2s    10ms
//	F worker/GET /        CLIENT   unset  2.5s  5ms
//
// Resources: frontend {deployment.environment.name prod, env res}, backend {deployment.environment.name dev,
// env res}, worker {}. Backend spans are in scope "lib-a" {lib.flag on, env scope}, others in "lib-b" (no
// attributes). So for AttrAny, env is "res" for A and B, "scope" for C and "span" for D.
var querySpans = []spanSpec{
	{11, 1, 0, "frontend", "GET /", ptrace.SpanKindServer, ptrace.StatusCodeOk, 0, 100 * time.Millisecond,
		map[string]any{"http.response.status_code": 200, "http.route": "/"}},
	{11, 2, 1, "frontend", "SELECT", ptrace.SpanKindClient, ptrace.StatusCodeUnset, 10 * time.Millisecond, 50 * time.Millisecond,
		map[string]any{"db.system.name": "postgresql"}},
	{12, 3, 0, "backend", "POST /pay", ptrace.SpanKindServer, ptrace.StatusCodeError, time.Second, 2 * time.Second,
		map[string]any{"http.response.status_code": 500, "user.id": "u-7", "latency": 1.5, "http.route": "/pay"}},
	{12, 4, 3, "backend", "charge", ptrace.SpanKindInternal, ptrace.StatusCodeUnset, 1100 * time.Millisecond, time.Second,
		map[string]any{"env": "span"}},
	{13, 5, 0, "worker", "consume", ptrace.SpanKindConsumer, ptrace.StatusCodeUnset, 2 * time.Second, 10 * time.Millisecond, nil},
	{13, 6, 5, "worker", "GET /", ptrace.SpanKindClient, ptrace.StatusCodeUnset, 2500 * time.Millisecond, 5 * time.Millisecond, nil},
}

var serviceResources = map[string]map[string]any{
	"frontend": {"service.name": "frontend", "deployment.environment.name": "prod", "env": "res"},
	"backend":  {"service.name": "backend", "deployment.environment.name": "dev", "env": "res"},
	"worker":   {"service.name": "worker"},
}

// buildSpans makes one ResourceSpans per service (in order of first appearance) from specs.
func buildSpans(specs []spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	scopes := make(map[string]ptrace.SpanSlice)
	for _, s := range specs {
		spans, ok := scopes[s.service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			attrs, ok := serviceResources[s.service]
			if !ok {
				attrs = map[string]any{"service.name": s.service}
			}
			if err := rs.Resource().Attributes().FromRaw(attrs); err != nil {
				panic(err)
			}
			ss := rs.ScopeSpans().AppendEmpty()
			if s.service == "backend" {
				ss.Scope().SetName("lib-a")
				ss.Scope().Attributes().PutStr("lib.flag", "on")
				ss.Scope().Attributes().PutStr("env", "scope")
			} else {
				ss.Scope().SetName("lib-b")
			}
			spans = ss.Spans()
			scopes[s.service] = spans
		}
		sp := spans.AppendEmpty()
		sp.SetTraceID(TraceID(s.trace))
		sp.SetSpanID(SpanID(s.id))
		if s.parent != 0 {
			sp.SetParentSpanID(SpanID(s.parent))
		}
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		sp.Status().SetCode(s.status)
		sp.SetStartTimestamp(ts(s.start))
		sp.SetEndTimestamp(ts(s.start + s.dur))
		if err := sp.Attributes().FromRaw(s.attrs); err != nil {
			panic(err)
		}
	}
	return td
}

// spanLabels returns the sorted service/name labels of the spans of td.
func spanLabels(td ptrace.Traces) []string {
	out := []string{}
	for _, rs := range td.ResourceSpans().All() {
		svc, _ := rs.Resource().Attributes().Get("service.name")
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				out = append(out, svc.AsString()+"/"+sp.Name())
			}
		}
	}
	slices.Sort(out)
	return out
}

func labels(s ...string) []string {
	out := []string{}
	for _, l := range s {
		switch l {
		case "A":
			out = append(out, "frontend/GET /")
		case "B":
			out = append(out, "frontend/SELECT")
		case "C":
			out = append(out, "backend/POST /pay")
		case "D":
			out = append(out, "backend/charge")
		case "E":
			out = append(out, "worker/consume")
		case "F":
			out = append(out, "worker/GET /")
		default:
			panic("unknown label " + l)
		}
	}
	slices.Sort(out)
	return out
}

func writeQuerySpans(h *harness) {
	h.t.Helper()
	// Two batches, so that queries span writes.
	h.writeSpans(buildSpans(querySpans[:4]))
	h.writeSpans(buildSpans(querySpans[4:]))
}

func testGetTrace(t *testing.T, f Factory) {
	h := open(t, f)
	ctx := context.Background()
	writeQuerySpans(h)

	t.Run("NotFound", func(t *testing.T) {
		n := 0
		for _, err := range h.b.GetTrace(ctx, storage.TraceQuery{TraceID: TraceID(99)}) {
			n++
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("GetTrace of an unknown trace: error %v, want ErrNotFound", err)
			}
		}
		if n != 1 {
			t.Errorf("GetTrace of an unknown trace yielded %d times, want once (the error)", n)
		}
	})
	t.Run("WholeTrace", func(t *testing.T) {
		for _, id := range []byte{11, 12, 13} {
			var want []spanSpec
			for _, s := range querySpans {
				if s.trace == id {
					want = append(want, s)
				}
			}
			EqualTraces(t, buildSpans(want), h.getTrace(TraceID(id)))
		}
	})
	t.Run("TimeHintCoveringTrace", func(t *testing.T) {
		td, err := CollectTraces(h.b.GetTrace(ctx, storage.TraceQuery{
			TraceID: TraceID(12), Start: BaseTime.Add(time.Second), End: BaseTime.Add(3 * time.Second)}))
		if err != nil {
			t.Fatalf("GetTrace with a time range: %v", err)
		}
		EqualTraces(t, buildSpans(querySpans[2:4]), td)
	})
	t.Run("Paging", func(t *testing.T) {
		// 25 spans of one trace over 3 batches; pages of at most 10.
		var specs []spanSpec
		for i := range 25 {
			specs = append(specs, spanSpec{trace: 50, id: byte(100 + i), service: []string{"frontend", "backend", "worker"}[i%3],
				name: fmt.Sprintf("op-%02d", i), kind: ptrace.SpanKindInternal, start: time.Duration(i) * time.Millisecond, dur: time.Millisecond})
		}
		h.writeSpans(buildSpans(specs[:10]))
		h.writeSpans(buildSpans(specs[10:20]))
		h.writeSpans(buildSpans(specs[20:]))
		for _, size := range []int{1, 7, 10, 25, 100} {
			got := ptrace.NewTraces()
			pages := 0
			for page, err := range h.b.GetTrace(ctx, storage.TraceQuery{TraceID: TraceID(50), PageSize: size}) {
				if err != nil {
					t.Fatalf("GetTrace page size %d: %v", size, err)
				}
				pages++
				if n := page.SpanCount(); n > size || n == 0 {
					t.Errorf("page size %d: page %d has %d spans", size, pages, n)
				}
				page.ResourceSpans().MoveAndAppendTo(got.ResourceSpans())
			}
			if min := (25 + size - 1) / size; pages < min {
				t.Errorf("page size %d: %d pages, want at least %d", size, pages, min)
			}
			EqualTraces(t, buildSpans(specs), got)
		}
		// Stopping early must be safe.
		for range h.b.GetTrace(ctx, storage.TraceQuery{TraceID: TraceID(50), PageSize: 5}) {
			break
		}
	})
}

func testFindSpans(t *testing.T, f Factory) {
	h := open(t, f)
	writeQuerySpans(h)
	at := func(d time.Duration) time.Time { return BaseTime.Add(d) }
	attr := func(scope storage.AttrScope, key string, op storage.AttrOp, value string, number float64) []storage.AttrPredicate {
		return []storage.AttrPredicate{{Scope: scope, Key: key, Op: op, Value: value, Number: number}}
	}
	const ms = time.Millisecond
	cases := []struct {
		name string
		q    storage.SpanQuery
		want []string
	}{
		{"Everything", storage.SpanQuery{}, labels("A", "B", "C", "D", "E", "F")},
		{"TimeRangeInclusive", storage.SpanQuery{Start: at(time.Second), End: at(1100 * ms)}, labels("C", "D")},
		{"StartOnly", storage.SpanQuery{Start: at(1050 * ms)}, labels("D", "E", "F")},
		{"EndOnly", storage.SpanQuery{End: at(10 * ms)}, labels("A", "B")},
		{"EmptyTimeRange", storage.SpanQuery{Start: at(3 * time.Second), End: at(4 * time.Second)}, labels()},
		{"Service", storage.SpanQuery{Service: "backend"}, labels("C", "D")},
		{"UnknownService", storage.SpanQuery{Service: "nope"}, labels()},
		{"SpanName", storage.SpanQuery{SpanName: "GET /"}, labels("A", "F")},
		{"ServiceAndSpanName", storage.SpanQuery{Service: "worker", SpanName: "GET /"}, labels("F")},
		{"KindServer", storage.SpanQuery{Kind: ptrace.SpanKindServer}, labels("A", "C")},
		{"KindClient", storage.SpanQuery{Kind: ptrace.SpanKindClient}, labels("B", "F")},
		{"KindConsumer", storage.SpanQuery{Kind: ptrace.SpanKindConsumer}, labels("E")},
		{"StatusError", storage.SpanQuery{Status: ptrace.StatusCodeError, StatusSet: true}, labels("C")},
		{"StatusOk", storage.SpanQuery{Status: ptrace.StatusCodeOk, StatusSet: true}, labels("A")},
		{"StatusUnset", storage.SpanQuery{Status: ptrace.StatusCodeUnset, StatusSet: true}, labels("B", "D", "E", "F")},
		{"StatusIgnoredWhenNotSet", storage.SpanQuery{Status: ptrace.StatusCodeError}, labels("A", "B", "C", "D", "E", "F")},
		{"MinDurationInclusive", storage.SpanQuery{MinDuration: 100 * ms}, labels("A", "C", "D")},
		{"MaxDurationInclusive", storage.SpanQuery{MaxDuration: 10 * ms}, labels("E", "F")},
		{"DurationRange", storage.SpanQuery{MinDuration: 50 * ms, MaxDuration: time.Second}, labels("A", "B", "D")},
		{"AttrSpanEqual", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.route", storage.OpEqual, "/", 0)}, labels("A")},
		{"AttrSpanEqualInt", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.response.status_code", storage.OpEqual, "500", 0)}, labels("C")},
		{"AttrAnyFindsResource", storage.SpanQuery{Attributes: attr(storage.AttrAny, "deployment.environment.name", storage.OpEqual, "prod", 0)}, labels("A", "B")},
		{"AttrResource", storage.SpanQuery{Attributes: attr(storage.AttrResource, "deployment.environment.name", storage.OpEqual, "prod", 0)}, labels("A", "B")},
		{"AttrSpanIgnoresResource", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "deployment.environment.name", storage.OpEqual, "prod", 0)}, labels()},
		{"AttrScopeExists", storage.SpanQuery{Attributes: attr(storage.AttrScopeSet, "lib.flag", storage.OpExists, "", 0)}, labels("C", "D")},
		{"AttrScopeIgnoresSpan", storage.SpanQuery{Attributes: attr(storage.AttrScopeSet, "http.route", storage.OpExists, "", 0)}, labels()},
		{"AttrAnySpanAndScopeShadowResource", storage.SpanQuery{Attributes: attr(storage.AttrAny, "env", storage.OpEqual, "res", 0)}, labels("A", "B")},
		{"AttrAnyScopeShadowsResource", storage.SpanQuery{Attributes: attr(storage.AttrAny, "env", storage.OpEqual, "scope", 0)}, labels("C")},
		{"AttrAnySpanShadowsScope", storage.SpanQuery{Attributes: attr(storage.AttrAny, "env", storage.OpEqual, "span", 0)}, labels("D")},
		{"AttrScopeNotShadowed", storage.SpanQuery{Attributes: attr(storage.AttrScopeSet, "env", storage.OpEqual, "scope", 0)}, labels("C", "D")},
		{"AttrResourceNotShadowed", storage.SpanQuery{Attributes: attr(storage.AttrResource, "env", storage.OpEqual, "res", 0)}, labels("A", "B", "C", "D")},
		{"AttrNotEqualIncludesAbsent", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.route", storage.OpNotEqual, "/", 0)}, labels("B", "C", "D", "E", "F")},
		{"AttrContains", storage.SpanQuery{Attributes: attr(storage.AttrAny, "user.id", storage.OpContains, "u-", 0)}, labels("C")},
		{"AttrExists", storage.SpanQuery{Attributes: attr(storage.AttrAny, "db.system.name", storage.OpExists, "", 0)}, labels("B")},
		{"AttrGreater", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.response.status_code", storage.OpGreater, "", 200)}, labels("C")},
		{"AttrGreaterEqual", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.response.status_code", storage.OpGreaterEqual, "", 200)}, labels("A", "C")},
		{"AttrLess", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.response.status_code", storage.OpLess, "", 500)}, labels("A")},
		{"AttrLessEqual", storage.SpanQuery{Attributes: attr(storage.AttrSpan, "http.response.status_code", storage.OpLessEqual, "", 500)}, labels("A", "C")},
		{"AttrDoubleGreater", storage.SpanQuery{Attributes: attr(storage.AttrAny, "latency", storage.OpGreater, "", 1)}, labels("C")},
		{"AttrDoubleLessStrict", storage.SpanQuery{Attributes: attr(storage.AttrAny, "latency", storage.OpLess, "", 1.5)}, labels()},
		{"AttrDoubleLessEqual", storage.SpanQuery{Attributes: attr(storage.AttrAny, "latency", storage.OpLessEqual, "", 1.5)}, labels("C")},
		{"AttrNumericOnStringFails", storage.SpanQuery{Attributes: attr(storage.AttrAny, "http.route", storage.OpGreaterEqual, "", -1e300)}, labels()},
		{"AttrNumericAbsentFails", storage.SpanQuery{Attributes: attr(storage.AttrAny, "nope", storage.OpLess, "", 1e300)}, labels()},
		{"AttrsAreANDed", storage.SpanQuery{Attributes: []storage.AttrPredicate{
			{Scope: storage.AttrSpan, Key: "http.response.status_code", Op: storage.OpGreaterEqual, Number: 200},
			{Scope: storage.AttrSpan, Key: "http.route", Op: storage.OpEqual, Value: "/pay"},
		}}, labels("C")},
		{"Matcher", storage.SpanQuery{Match: SpanMatcherFunc(func(_ pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
			return strings.HasPrefix(sp.Name(), "c")
		})}, labels("D", "E")},
		{"MatcherSeesResourceAndScope", storage.SpanQuery{Match: SpanMatcherFunc(func(res pcommon.Resource, sc pcommon.InstrumentationScope, _ ptrace.Span) bool {
			v, _ := res.Attributes().Get("service.name")
			return v.AsString() == "backend" && sc.Name() == "lib-a"
		})}, labels("C", "D")},
		{"MatcherAndedWithFields", storage.SpanQuery{Service: "worker", Match: SpanMatcherFunc(func(_ pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
			return strings.HasPrefix(sp.Name(), "c")
		})}, labels("E")},
		{"LimitTakesNewest", storage.SpanQuery{Limit: 2}, labels("F", "E")},
		{"LimitAfterFilter", storage.SpanQuery{Service: "frontend", Limit: 1}, labels("B")},
		{"Combined", storage.SpanQuery{Service: "backend", Kind: ptrace.SpanKindServer, Status: ptrace.StatusCodeError, StatusSet: true,
			MinDuration: time.Second, Start: at(0), End: at(time.Hour)}, labels("C")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := h.findSpans(c.q)
			if l := spanLabels(got); !slices.Equal(l, c.want) {
				t.Errorf("FindSpans(%+v) = %q, want %q", c.q, l, c.want)
			}
			// Every returned span is whole.
			EqualTraces(t, selectSpans(buildSpans(querySpans), got), got)
		})
	}
}

// selectSpans returns the spans of all whose IDs are in got.
func selectSpans(all, got ptrace.Traces) ptrace.Traces {
	ids := make(map[pcommon.SpanID]bool)
	for _, rs := range got.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				ids[sp.SpanID()] = true
			}
		}
	}
	out := ptrace.NewTraces()
	all.CopyTo(out)
	out.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(sp ptrace.Span) bool { return !ids[sp.SpanID()] })
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	return out
}

func testFindTraceIDs(t *testing.T, f Factory) {
	h := open(t, f)
	writeQuerySpans(h)
	at := func(d time.Duration) time.Time { return BaseTime.Add(d) }
	const ms = time.Millisecond
	ref := func(id byte, start, end time.Duration) storage.TraceRef {
		return storage.TraceRef{TraceID: TraceID(id), Start: at(start), End: at(end)}
	}
	cases := []struct {
		name string
		q    storage.SpanQuery
		want []storage.TraceRef
	}{
		{"Everything", storage.SpanQuery{}, []storage.TraceRef{ref(13, 2*time.Second, 2505*ms), ref(12, time.Second, 3*time.Second), ref(11, 0, 100*ms)}},
		{"Limit", storage.SpanQuery{Limit: 2}, []storage.TraceRef{ref(13, 2*time.Second, 2505*ms), ref(12, time.Second, 3*time.Second)}},
		{"RangeOfMatchingSpansOnly", storage.SpanQuery{SpanName: "charge"}, []storage.TraceRef{ref(12, 1100*ms, 2100*ms)}},
		{"KindServer", storage.SpanQuery{Kind: ptrace.SpanKindServer}, []storage.TraceRef{ref(12, time.Second, 3*time.Second), ref(11, 0, 100*ms)}},
		{"NewestMatchingSpanOrders", storage.SpanQuery{Kind: ptrace.SpanKindClient}, []storage.TraceRef{ref(13, 2500*ms, 2505*ms), ref(11, 10*ms, 60*ms)}},
		{"TimeRange", storage.SpanQuery{Start: at(5 * ms), End: at(1100 * ms)}, []storage.TraceRef{ref(12, time.Second, 3*time.Second), ref(11, 10*ms, 60*ms)}},
		{"Attributes", storage.SpanQuery{Attributes: []storage.AttrPredicate{{Scope: storage.AttrResource, Key: "env", Op: storage.OpExists}}},
			[]storage.TraceRef{ref(12, time.Second, 3*time.Second), ref(11, 0, 100*ms)}},
		{"None", storage.SpanQuery{Service: "nope"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := h.b.FindTraceIDs(context.Background(), c.q)
			if err != nil {
				t.Fatalf("FindTraceIDs(%+v): %v", c.q, err)
			}
			if !slices.EqualFunc(got, c.want, func(a, b storage.TraceRef) bool {
				return a.TraceID == b.TraceID && a.Start.Equal(b.Start) && a.End.Equal(b.End)
			}) {
				t.Errorf("FindTraceIDs(%+v) =\n%s\nwant\n%s", c.q, refsString(got), refsString(c.want))
			}
		})
	}
}

func refsString(refs []storage.TraceRef) string {
	var b strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&b, "  %s %s .. %s\n", r.TraceID, r.Start.UTC().Format(time.RFC3339Nano), r.End.UTC().Format(time.RFC3339Nano))
	}
	if b.Len() == 0 {
		return "  (none)"
	}
	return b.String()
}

func testServicesOperations(t *testing.T, f Factory) {
	h := open(t, f)
	ctx := context.Background()
	check := func() {
		t.Helper()
		svcs, err := h.b.Services(ctx)
		if err != nil {
			t.Fatalf("Services: %v", err)
		}
		if want := []string{"backend", "frontend", "worker"}; !slices.Equal(svcs, want) {
			t.Errorf("Services = %q, want %q", svcs, want)
		}
		op := func(svc, name string, kind ptrace.SpanKind) storage.Operation {
			return storage.Operation{Service: svc, Name: name, Kind: kind}
		}
		cases := []struct {
			q    storage.OperationQuery
			want []storage.Operation
		}{
			{storage.OperationQuery{Service: "backend"}, []storage.Operation{
				op("backend", "POST /pay", ptrace.SpanKindServer), op("backend", "charge", ptrace.SpanKindInternal)}},
			{storage.OperationQuery{Service: "backend", Kind: ptrace.SpanKindServer}, []storage.Operation{
				op("backend", "POST /pay", ptrace.SpanKindServer)}},
			{storage.OperationQuery{Service: "worker"}, []storage.Operation{
				op("worker", "GET /", ptrace.SpanKindClient), op("worker", "consume", ptrace.SpanKindConsumer)}},
			{storage.OperationQuery{Kind: ptrace.SpanKindClient}, []storage.Operation{
				op("worker", "GET /", ptrace.SpanKindClient), op("frontend", "SELECT", ptrace.SpanKindClient)}},
			{storage.OperationQuery{Service: "nope"}, nil},
			{storage.OperationQuery{}, []storage.Operation{
				op("frontend", "GET /", ptrace.SpanKindServer), op("worker", "GET /", ptrace.SpanKindClient),
				op("backend", "POST /pay", ptrace.SpanKindServer), op("frontend", "SELECT", ptrace.SpanKindClient),
				op("backend", "charge", ptrace.SpanKindInternal), op("worker", "consume", ptrace.SpanKindConsumer)}},
		}
		for _, c := range cases {
			got, err := h.b.Operations(ctx, c.q)
			if err != nil {
				t.Fatalf("Operations(%+v): %v", c.q, err)
			}
			if len(got) != len(c.want) || (len(got) > 0 && !slices.Equal(got, c.want)) {
				t.Errorf("Operations(%+v) =\n  %+v\nwant\n  %+v", c.q, got, c.want)
			}
		}
	}
	svcs, err := h.b.Services(ctx)
	if err != nil || len(svcs) != 0 {
		t.Errorf("Services of an empty backend = %q, %v; want none", svcs, err)
	}
	writeQuerySpans(h)
	// Writing the same operations again changes nothing.
	h.writeSpans(buildSpans(querySpans[:2]))
	check()
	if h.reopen() {
		check()
	}
}
