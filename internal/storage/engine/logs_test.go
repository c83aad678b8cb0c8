package engine

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
)

type flatLog struct {
	res pcommon.Resource
	sc  pcommon.InstrumentationScope
	rec plog.LogRecord
	seq int
}

func flattenLogs(lds []plog.Logs) []flatLog {
	var out []flatLog
	for _, ld := range lds {
		for i := range ld.ResourceLogs().Len() {
			rl := ld.ResourceLogs().At(i)
			for j := range rl.ScopeLogs().Len() {
				sl := rl.ScopeLogs().At(j)
				for k := range sl.LogRecords().Len() {
					out = append(out, flatLog{rl.Resource(), sl.Scope(), sl.LogRecords().At(k), len(out)})
				}
			}
		}
	}
	return out
}

func logKey(res pcommon.Resource, sc pcommon.InstrumentationScope, rec plog.LogRecord) string {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sc.CopyTo(sl.Scope())
	rec.CopyTo(sl.LogRecords().AppendEmpty())
	b, _ := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	return string(b)
}

func modelLogs(all []flatLog, q storage.LogQuery) []string {
	f := newLogFilter(&q)
	var hits []flatLog
	for _, l := range all {
		g := group{res: l.res, scope: l.sc, service: serviceOf(l.res)}
		if f.match(&g, l.rec, logTS(l.rec)) {
			hits = append(hits, l)
		}
	}
	sign := -1
	if q.Order == storage.OldestFirst {
		sign = 1
	}
	slices.SortStableFunc(hits, func(a, b flatLog) int {
		return sign * cmp.Or(cmp.Compare(logTS(a.rec), logTS(b.rec)), cmp.Compare(a.seq, b.seq))
	})
	hits = hits[:min(len(hits), orDefault(q.Limit, DefaultLogLimit))]
	var out []string
	for _, l := range hits {
		out = append(out, logKey(l.res, l.sc, l.rec))
	}
	return out
}

func checkLogs(t *testing.T, e *Engine, all []flatLog, stage string) {
	t.Helper()
	qs := []storage.LogQuery{
		{}, {Order: storage.OldestFirst}, {Limit: 5}, {Limit: 5000, Order: storage.OldestFirst},
		{MinSeverity: plog.SeverityNumberWarn},
		{MinSeverity: plog.SeverityNumberInfo, MaxSeverity: plog.SeverityNumberInfo4},
		{BodyContains: "login"}, {BodyContains: "cache miss"}, {BodyContains: " miss id="}, {BodyContains: "ogi"},
		{BodyContains: "zzz"}, {BodyContains: `"msg":"paid"`},
		{TraceID: storage.TraceID{3}}, {Service: "svc-2", Order: storage.OldestFirst},
		{Start: time.Unix(0, base+600e9), End: time.Unix(0, base+4000e9)},
		{Attributes: []storage.AttrPredicate{{Key: "code.function", Op: storage.OpEqual, Value: "f2"}}},
		{Attributes: []storage.AttrPredicate{{Key: "code.function", Op: storage.OpNotEqual, Value: "f2"}}, BodyContains: "order"},
		// A matcher makes every candidate row a full check; small limits stop the scan early.
		{BodyContains: "paid", Match: evenSeverity{}}, {BodyContains: "login", Limit: 3, Match: evenSeverity{}},
		{BodyContains: "ai", Limit: 4, Order: storage.OldestFirst, Match: evenSeverity{}},
		{BodyContains: "4", Limit: 6, Match: evenSeverity{}}, {BodyContains: "n", Match: evenSeverity{}},
		{BodyContains: "zzz", Match: evenSeverity{}}, {BodyContains: `:4`, Limit: 9},
		{BodyContains: "ms", Limit: 2, MinSeverity: plog.SeverityNumberWarn, Match: evenSeverity{}},
		// Needles of digits only are answered on the digit runs of the body column.
		{BodyContains: "12"}, {BodyContains: "49", Match: evenSeverity{}}, {BodyContains: "2 id=1"},
	}
	for i, q := range qs {
		var got []string
		for ld, err := range e.FindLogs(context.Background(), q) {
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range flattenLogs([]plog.Logs{ld}) {
				got = append(got, logKey(l.res, l.sc, l.rec))
			}
		}
		want := modelLogs(all, q)
		if !slices.Equal(got, want) {
			for j := range min(len(got), len(want)) {
				if got[j] != want[j] {
					t.Logf("first difference at %d:\n got %s\nwant %s", j, got[j], want[j])
					break
				}
			}
			t.Fatalf("%s: FindLogs query %d %+v: got %d records, want %d", stage, i, q, len(got), len(want))
		}
	}
}

// evenSeverity is a storage.LogMatcher that keeps the records with an even severity number.
type evenSeverity struct{}

func (evenSeverity) MatchLog(_ pcommon.Resource, _ pcommon.InstrumentationScope, rec plog.LogRecord) bool {
	return rec.SeverityNumber()%2 == 0
}

func TestLogsModel(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	ctx := context.Background()
	var written []plog.Logs
	for round := range 3 {
		lds := genLogs(r, 8, 50)
		for _, ld := range lds {
			if err := e.WriteLogs(ctx, ld); err != nil {
				t.Fatal(err)
			}
		}
		written = append(written, lds...)
		checkLogs(t, e, flattenLogs(written), fmt.Sprintf("round %d head", round))
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkLogs(t, e, flattenLogs(written), fmt.Sprintf("round %d flushed", round))
	}
	if err := e.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	checkLogs(t, e, flattenLogs(written), "compacted")
	more := genLogs(r, 2, 10)
	for _, ld := range more {
		e.WriteLogs(ctx, ld)
	}
	written = append(written, more...)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, testOptions())
	defer e.Close()
	checkLogs(t, e, flattenLogs(written), "reopened")
}
