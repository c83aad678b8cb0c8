package ui

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTraceModel runs the page's trace model (self time, critical path, tree) on a small trace whose
// answers were worked out by hand: overlapping children, a grandchild, a child that outlives its parent and an
// orphan whose parent never arrived.
func TestBrowserTraceModel(t *testing.T) {
	ctx := browser(t)
	_, base := startOtlpd(t)
	step(t, ctx, "open", chromedp.Navigate(base+"/#/compare"), chromedp.WaitVisible(chromedp.CSS(".view-compare")))
	type span struct {
		ID, Parent string
		Start, End float64
	}
	spans := []span{{"a", "", 0, 100}, {"b", "a", 10, 40}, {"c", "a", 30, 70}, {"d", "c", 35, 50}, {"e", "a", 80, 120}, {"f", "zz", 5, 6}}
	in, _ := json.Marshal(spans)
	expr := fmt.Sprintf(`import('/js/tracemodel.js').then(({ buildTrace }) => {
		const m = buildTrace(%s.map((s) => ({ spanId: s.ID, parentId: s.Parent, start: s.Start, end: s.End, dur: s.End - s.Start, status: { code: 'unset' }, service: 'x', name: s.ID, events: [], attrs: [] })));
		return m.order.map((n) => ({ id: n.span.spanId, self: n.self, crit: n.critTotal, depth: n.depth, orphan: n.orphan }));
	})`, in)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]struct {
		ID     string  `json:"id"`
		Self   float64 `json:"self"`
		Crit   float64 `json:"crit"`
		Depth  int     `json:"depth"`
		Orphan bool    `json:"orphan"`
	}](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id         string
		self, crit float64
		depth      int
		orphan     bool
	}{
		{"a", 20, 20, 0, false}, // children cover [10,70] and [80,100]; on the path: [0,10] and [70,80]
		{"b", 30, 20, 1, false}, // on the path until c starts: [10,30]
		{"c", 25, 25, 1, false}, // [30,35] and [50,70]; d covers [35,50]
		{"d", 15, 15, 2, false},
		{"e", 40, 20, 1, false}, // on the path only up to the end of a: [80,100]
		{"f", 1, 1, 0, true},
	}
	if len(got) != len(want) {
		t.Fatalf("model has %d spans in order, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.Self != w.self || g.Crit != w.crit || g.Depth != w.depth || g.Orphan != w.orphan {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
}
