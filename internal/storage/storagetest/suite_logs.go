package storagetest

import (
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
)

// LogMatcherFunc adapts a function to storage.LogMatcher.
type LogMatcherFunc func(res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) bool

// MatchLog calls f.
func (f LogMatcherFunc) MatchLog(res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) bool {
	return f(res, scope, rec)
}

// The log query fixture. Each record's severity_text is its label; newest first: L6 L5 L4 L3 L2 L1.
//
//	L1 frontend  time 0s             INFO   "user logged in"    user.id u-1, trace 11 span 1
//	L2 frontend  time 1s             DEBUG  "cache miss key=42" cache.hit false
//	L3 backend   time 2s             ERROR  "payment failed"    http.response.status_code 500, trace 12
//	L4 backend   time 0, observed 3s WARN   map {msg: slow query, ms: 1500}
//	L5 backend   time 4s             FATAL  "panic: nil map"    (scope lib-a {lib.flag on})
//	L6 worker    time 5s             (unspecified severity) body int 7
func queryLogs() plog.Logs {
	ld := plog.NewLogs()
	scope := func(service, name string) plog.LogRecordSlice {
		rl := ld.ResourceLogs().AppendEmpty()
		if err := rl.Resource().Attributes().FromRaw(serviceResources[service]); err != nil {
			panic(err)
		}
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(name)
		if name == "lib-a" {
			sl.Scope().Attributes().PutStr("lib.flag", "on")
		}
		return sl.LogRecords()
	}
	rec := func(s plog.LogRecordSlice, label string, t time.Duration, sev plog.SeverityNumber) plog.LogRecord {
		r := s.AppendEmpty()
		r.SetSeverityText(label)
		r.SetSeverityNumber(sev)
		r.SetTimestamp(ts(t))
		r.SetObservedTimestamp(ts(t + time.Millisecond))
		return r
	}
	fe := scope("frontend", "lib-b")
	r := rec(fe, "L1", 0, plog.SeverityNumberInfo)
	r.Body().SetStr("user logged in")
	r.Attributes().PutStr("user.id", "u-1")
	r.SetTraceID(TraceID(11))
	r.SetSpanID(SpanID(1))
	r = rec(fe, "L2", time.Second, plog.SeverityNumberDebug)
	r.Body().SetStr("cache miss key=42")
	r.Attributes().PutBool("cache.hit", false)

	be := scope("backend", "lib-b")
	r = rec(be, "L3", 2*time.Second, plog.SeverityNumberError)
	r.Body().SetStr("payment failed")
	r.Attributes().PutInt("http.response.status_code", 500)
	r.SetTraceID(TraceID(12))
	r = rec(be, "L4", 0, plog.SeverityNumberWarn)
	r.SetTimestamp(0)
	r.SetObservedTimestamp(ts(3 * time.Second))
	body := r.Body().SetEmptyMap()
	body.PutStr("msg", "slow query")
	body.PutInt("ms", 1500)
	bea := scope("backend", "lib-a")
	r = rec(bea, "L5", 4*time.Second, plog.SeverityNumberFatal)
	r.Body().SetStr("panic: nil map")

	wk := scope("worker", "lib-b")
	r = rec(wk, "L6", 5*time.Second, plog.SeverityNumberUnspecified)
	r.Body().SetInt(7)
	return ld
}

func logLabels(ld plog.Logs) []string {
	out := []string{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, r := range sl.LogRecords().All() {
				out = append(out, r.SeverityText())
			}
		}
	}
	slices.Sort(out)
	return out
}

func sortedLabels(l ...string) []string {
	out := append([]string{}, l...)
	slices.Sort(out)
	return out
}

func testFindLogs(t *testing.T, f Factory) {
	h := open(t, f)
	h.writeLogs(queryLogs())
	at := func(d time.Duration) time.Time { return BaseTime.Add(d) }
	attr := func(scope storage.AttrScope, key string, op storage.AttrOp, value string, number float64) []storage.AttrPredicate {
		return []storage.AttrPredicate{{Scope: scope, Key: key, Op: op, Value: value, Number: number}}
	}
	cases := []struct {
		name string
		q    storage.LogQuery
		want []string
	}{
		{"Everything", storage.LogQuery{}, sortedLabels("L1", "L2", "L3", "L4", "L5", "L6")},
		{"EverythingOldestFirst", storage.LogQuery{Order: storage.OldestFirst}, sortedLabels("L1", "L2", "L3", "L4", "L5", "L6")},
		{"TimeRangeUsesObservedWhenTimeIsZero", storage.LogQuery{Start: at(time.Second), End: at(3 * time.Second)}, sortedLabels("L2", "L3", "L4")},
		{"StartOnly", storage.LogQuery{Start: at(4 * time.Second)}, sortedLabels("L5", "L6")},
		{"EndOnly", storage.LogQuery{End: at(0)}, sortedLabels("L1")},
		{"MinSeverity", storage.LogQuery{MinSeverity: plog.SeverityNumberWarn}, sortedLabels("L3", "L4", "L5")},
		{"MaxSeverity", storage.LogQuery{MaxSeverity: plog.SeverityNumberDebug}, sortedLabels("L2", "L6")},
		{"SeverityRange", storage.LogQuery{MinSeverity: plog.SeverityNumberInfo, MaxSeverity: plog.SeverityNumberError}, sortedLabels("L1", "L3", "L4")},
		{"BodyContains", storage.LogQuery{BodyContains: "fail"}, sortedLabels("L3")},
		{"BodyContainsMapStringForm", storage.LogQuery{BodyContains: "slow query"}, sortedLabels("L4")},
		{"BodyContainsIntStringForm", storage.LogQuery{BodyContains: "7"}, sortedLabels("L6")},
		{"TraceID", storage.LogQuery{TraceID: TraceID(12)}, sortedLabels("L3")},
		{"UnknownTraceID", storage.LogQuery{TraceID: TraceID(99)}, sortedLabels()},
		{"Service", storage.LogQuery{Service: "backend"}, sortedLabels("L3", "L4", "L5")},
		{"UnknownService", storage.LogQuery{Service: "nope"}, sortedLabels()},
		{"AttrRecord", storage.LogQuery{Attributes: attr(storage.AttrSpan, "user.id", storage.OpEqual, "u-1", 0)}, sortedLabels("L1")},
		{"AttrRecordBoolStringForm", storage.LogQuery{Attributes: attr(storage.AttrSpan, "cache.hit", storage.OpEqual, "false", 0)}, sortedLabels("L2")},
		{"AttrResource", storage.LogQuery{Attributes: attr(storage.AttrResource, "deployment.environment.name", storage.OpEqual, "prod", 0)}, sortedLabels("L1", "L2")},
		{"AttrRecordIgnoresResource", storage.LogQuery{Attributes: attr(storage.AttrSpan, "deployment.environment.name", storage.OpExists, "", 0)}, sortedLabels()},
		{"AttrScope", storage.LogQuery{Attributes: attr(storage.AttrScopeSet, "lib.flag", storage.OpExists, "", 0)}, sortedLabels("L5")},
		{"AttrAnyNumeric", storage.LogQuery{Attributes: attr(storage.AttrAny, "http.response.status_code", storage.OpGreaterEqual, "", 500)}, sortedLabels("L3")},
		{"AttrNotEqual", storage.LogQuery{Attributes: attr(storage.AttrAny, "deployment.environment.name", storage.OpNotEqual, "dev", 0)}, sortedLabels("L1", "L2", "L6")},
		{"AttrContains", storage.LogQuery{Attributes: attr(storage.AttrAny, "user.id", storage.OpContains, "-", 0)}, sortedLabels("L1")},
		{"Matcher", storage.LogQuery{Match: LogMatcherFunc(func(_ pcommon.Resource, _ pcommon.InstrumentationScope, r plog.LogRecord) bool {
			return r.SeverityNumber() >= plog.SeverityNumberFatal
		})}, sortedLabels("L5")},
		{"MatcherSeesScope", storage.LogQuery{Match: LogMatcherFunc(func(_ pcommon.Resource, sc pcommon.InstrumentationScope, _ plog.LogRecord) bool {
			return sc.Name() == "lib-a"
		})}, sortedLabels("L5")},
		{"LimitNewestFirst", storage.LogQuery{Limit: 3}, sortedLabels("L6", "L5", "L4")},
		{"LimitOldestFirst", storage.LogQuery{Order: storage.OldestFirst, Limit: 3}, sortedLabels("L1", "L2", "L3")},
		{"LimitAfterFilter", storage.LogQuery{Service: "frontend", Order: storage.NewestFirst, Limit: 1}, sortedLabels("L2")},
		{"Combined", storage.LogQuery{Service: "backend", MinSeverity: plog.SeverityNumberError, BodyContains: "a",
			Start: at(0), End: at(time.Hour)}, sortedLabels("L3", "L5")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := h.findLogs(c.q)
			if l := logLabels(got); !slices.Equal(l, c.want) {
				t.Errorf("FindLogs(%+v) = %q, want %q", c.q, l, c.want)
			}
		})
	}
	t.Run("RecordsAreWhole", func(t *testing.T) {
		EqualLogs(t, queryLogs(), h.findLogs(storage.LogQuery{}))
	})
}
