package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// orderItems is the item count of testPageOrder: more than one page of every backend the suite runs.
const orderItems = 2300

// orderPlace is where item i of testPageOrder is written: item i has time BaseTime + i ms and goes to write
// i%2, resource (service) i/2%3 and scope i/6%2 of that write, so that items consecutive in time come from
// different writes, resources and scopes.
func orderPlace(i int) (write, res, scope int) { return i % 2, i / 2 % 3, i / 6 % 2 }

func orderService(res int) string { return fmt.Sprintf("order-%d", res) }
func orderScope(scope int) string { return fmt.Sprintf("scope-%d", scope) }

// orderWrites builds the two writes of testPageOrder, each holding its items in a shuffled order.
func orderWrites(rng *rand.Rand) ([2]ptrace.Traces, [2]plog.Logs) {
	var tds [2]ptrace.Traces
	var lds [2]plog.Logs
	var spans [2][3][2]ptrace.SpanSlice
	var recs [2][3][2]plog.LogRecordSlice
	for w := range 2 {
		tds[w], lds[w] = ptrace.NewTraces(), plog.NewLogs()
		for r := range 3 {
			rs := tds[w].ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", orderService(r))
			rl := lds[w].ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("service.name", orderService(r))
			for s := range 2 {
				ss := rs.ScopeSpans().AppendEmpty()
				ss.Scope().SetName(orderScope(s))
				spans[w][r][s] = ss.Spans()
				sl := rl.ScopeLogs().AppendEmpty()
				sl.Scope().SetName(orderScope(s))
				recs[w][r][s] = sl.LogRecords()
			}
		}
	}
	for _, i := range rng.Perm(orderItems) {
		w, r, s := orderPlace(i)
		at := ts(time.Duration(i) * time.Millisecond)
		sp := spans[w][r][s].AppendEmpty()
		var id [16]byte
		id[0], id[14], id[15] = 0x0d, byte(i>>8), byte(i)
		sp.SetTraceID(id)
		sp.SetSpanID([8]byte{2, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
		sp.SetName(fmt.Sprintf("op-%d", i))
		sp.SetStartTimestamp(at)
		sp.SetEndTimestamp(at + 1)
		rec := recs[w][r][s].AppendEmpty()
		rec.SetTimestamp(at)
		rec.Body().SetInt(int64(i))
	}
	return tds, lds
}

// orderedItem is one item of a page read in order: resource by resource, scope by scope, item by item.
type orderedItem struct {
	ms             int
	service, scope string
}

// testPageOrder checks that reading the pages of FindSpans and FindLogs in order, and each page resource by
// resource, scope by scope, item by item, gives the items in the promised order, each under its own resource
// and scope, when items of several writes, resources and scopes interleave in time.
func testPageOrder(t *testing.T, f Factory) {
	seed := time.Now().UnixNano()
	t.Logf("shuffle seed %d", seed)
	tds, lds := orderWrites(rand.New(rand.NewPCG(uint64(seed), 0)))
	h := open(t, f)
	for w := range 2 {
		h.writeSpans(tds[w])
		h.writeLogs(lds[w])
	}
	ctx := context.Background()
	msOf := func(t time.Time) int { return int(t.Sub(BaseTime) / time.Millisecond) }

	// check compares the flattened pages with the items lo..hi (newest first: hi..lo).
	check := func(t *testing.T, what string, pages [][]orderedItem, newestFirst bool, lo, hi int) {
		t.Helper()
		var want []int
		for i := lo; i <= hi; i++ {
			want = append(want, i)
		}
		if newestFirst {
			slices.Reverse(want)
		}
		var got []int
		for pi, page := range pages {
			if len(page) == 0 {
				t.Errorf("%s: page %d is empty", what, pi)
			}
			for _, it := range page {
				got = append(got, it.ms)
				if it.ms < 0 || it.ms >= orderItems {
					continue
				}
				_, r, s := orderPlace(it.ms)
				if it.service != orderService(r) || it.scope != orderScope(s) {
					t.Errorf("%s: item at %d ms is under resource %q scope %q, want %q %q",
						what, it.ms, it.service, it.scope, orderService(r), orderScope(s))
				}
			}
		}
		if len(pages) < 2 && len(want) > 1000 {
			t.Errorf("%s: %d items in %d page(s); the check wants more than one page", what, len(got), len(pages))
		}
		if !slices.Equal(got, want) {
			for k := range min(len(got), len(want)) {
				if got[k] != want[k] {
					t.Errorf("%s: read in order, item %d is at %d ms, want %d ms (%d items, want %d)",
						what, k, got[k], want[k], len(got), len(want))
					return
				}
			}
			t.Errorf("%s: read in order, %d items, want %d", what, len(got), len(want))
		}
	}
	spanPages := func(t *testing.T, q storage.SpanQuery) [][]orderedItem {
		t.Helper()
		var pages [][]orderedItem
		for page, err := range h.b.FindSpans(ctx, q) {
			if err != nil {
				t.Fatalf("FindSpans(%+v): %v", q, err)
			}
			var items []orderedItem
			for _, rs := range page.ResourceSpans().All() {
				svc, _ := rs.Resource().Attributes().Get("service.name")
				for _, ss := range rs.ScopeSpans().All() {
					for _, sp := range ss.Spans().All() {
						items = append(items, orderedItem{msOf(sp.StartTimestamp().AsTime()), svc.AsString(), ss.Scope().Name()})
					}
				}
			}
			pages = append(pages, items)
		}
		return pages
	}
	logPages := func(t *testing.T, q storage.LogQuery) [][]orderedItem {
		t.Helper()
		var pages [][]orderedItem
		for page, err := range h.b.FindLogs(ctx, q) {
			if err != nil {
				t.Fatalf("FindLogs(%+v): %v", q, err)
			}
			var items []orderedItem
			for _, rl := range page.ResourceLogs().All() {
				svc, _ := rl.Resource().Attributes().Get("service.name")
				for _, sl := range rl.ScopeLogs().All() {
					for _, r := range sl.LogRecords().All() {
						items = append(items, orderedItem{msOf(r.Timestamp().AsTime()), svc.AsString(), sl.Scope().Name()})
					}
				}
			}
			pages = append(pages, items)
		}
		return pages
	}
	const limit = orderItems - 100
	checkAll := func(t *testing.T) {
		t.Run("FindSpans", func(t *testing.T) {
			check(t, "FindSpans", spanPages(t, storage.SpanQuery{Limit: limit}), true, orderItems-limit, orderItems-1)
		})
		t.Run("FindSpansInRange", func(t *testing.T) {
			q := storage.SpanQuery{Limit: limit, Start: BaseTime.Add(100 * time.Millisecond), End: BaseTime.Add(199 * time.Millisecond)}
			check(t, "FindSpans in range", spanPages(t, q), true, 100, 199)
		})
		t.Run("FindLogsNewestFirst", func(t *testing.T) {
			check(t, "FindLogs newest first", logPages(t, storage.LogQuery{Limit: limit}), true, orderItems-limit, orderItems-1)
		})
		t.Run("FindLogsOldestFirst", func(t *testing.T) {
			q := storage.LogQuery{Limit: limit, Order: storage.OldestFirst}
			check(t, "FindLogs oldest first", logPages(t, q), false, 0, limit-1)
		})
		t.Run("FindLogsInRangeOldestFirst", func(t *testing.T) {
			q := storage.LogQuery{Order: storage.OldestFirst, Start: BaseTime.Add(100 * time.Millisecond), End: BaseTime.Add(199 * time.Millisecond)}
			check(t, "FindLogs in range oldest first", logPages(t, q), false, 100, 199)
		})
	}
	checkAll(t)
	if h.reopen() {
		t.Run("AfterReopen", checkAll)
	}
}
