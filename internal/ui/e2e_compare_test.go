package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCompareServer checks that the comparison view shows the server's comparison (GET
// /api/otlpd/compare): the same paths and counts, each path under its parent, and a clear message for a
// trace that is not stored.
func TestBrowserCompareServer(t *testing.T) {
	ctx := browser(t)
	f := newFixture(5, time.Now(), 0)
	otlp, base := startOtlpd(t)
	load(t, otlp, f)
	a, b := f.order[1], f.order[2]
	res, err := http.Get(base + "/api/otlpd/compare?a=" + a + "&b=" + b)
	if err != nil {
		t.Fatal(err)
	}
	var cmp struct {
		OnlyA, OnlyB, Both int
		Paths              []struct{ Path []string }
	}
	err = json.NewDecoder(res.Body).Decode(&cmp)
	res.Body.Close()
	if err != nil || len(cmp.Paths) == 0 {
		t.Fatalf("server comparison: %v, %d paths", err, len(cmp.Paths))
	}
	step(t, ctx, "compare", chromedp.Navigate(base+"/#/compare?a="+a+"&b="+b), chromedp.WaitVisible(chromedp.CSS(`.cmp-tree[data-source="server"] .cmp-row[data-path]`)))
	keys := eval[[]string](t, ctx, `[...document.querySelectorAll('.cmp-row[data-path]')].map((r) => r.dataset.path)`)
	if len(keys) != len(cmp.Paths) {
		t.Errorf("rows %d, want the server's %d paths", len(keys), len(cmp.Paths))
	}
	want := map[string]bool{}
	for _, p := range cmp.Paths {
		want[strings.Join(p.Path, " › ")] = true
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("row %q is not a path of the server's comparison", k)
		}
		if i := strings.LastIndex(k, " › "); i >= 0 && !seen[k[:i]] {
			t.Errorf("row %q comes before its parent", k)
		}
		seen[k] = true
	}
	if n := count(t, ctx, ".cmp-row.only-a"); n != cmp.OnlyA {
		t.Errorf("rows only in A = %d, server says %d", n, cmp.OnlyA)
	}
	if n := count(t, ctx, ".cmp-row.only-b"); n != cmp.OnlyB {
		t.Errorf("rows only in B = %d, server says %d", n, cmp.OnlyB)
	}
	if got := textOf(t, ctx, ".cmp-legend .cmp-only-a"); !strings.Contains(got, fmt.Sprintf("(%d)", cmp.OnlyA)) {
		t.Errorf("legend %q", got)
	}
	missing := strings.Repeat("e", 32)
	step(t, ctx, "missing", chromedp.Navigate(base+"/#/compare?a="+a+"&b="+missing), chromedp.WaitVisible(chromedp.CSS(".error-box")))
	if got := textOf(t, ctx, "#main"); !strings.Contains(got, missing+" not found") {
		t.Errorf("a missing trace shows %q", got)
	}
}
