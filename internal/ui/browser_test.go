package ui

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the browser tests' screenshots to docs/screenshots")

const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile and returns a context for one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser tests need Debian's chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// 1280 px wide: the width the interface is designed to read well at
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline and fails the test with the step's name and where the page was.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		hash, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('main')?.innerText || '').slice(0, 400)`))
		t.Fatalf("%s: %v (at %s; page text: %q)", name, err, hash, text)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func js(expr string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](expr) }

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	// move the pointer off the page so no tooltip covers the view, then let it settle
	step(t, ctx, "settle", chromedp.MouseEvent(chromedp.MouseMoved, 1279, 859), js(`document.querySelector('.tooltip') && (document.querySelector('.tooltip').style.display = 'none')`), chromedp.Sleep(300*time.Millisecond))
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	step(t, ctx, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
}

func attrOf(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ''`, sel, name))
}

func setTheme(theme string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`localStorage.setItem('otlpd.theme', %q); document.documentElement.dataset.theme = %q`, theme, theme))
}

func TestBrowserViews(t *testing.T) {
	ctx := browser(t)
	f := newFixture(7, time.Now(), 0)
	otlp, base := startOtlpd(t)
	load(t, otlp, f)
	t.Logf("fixture seed 7: %d traces, %d logs, sent to otlpd over OTLP/HTTP", len(f.order), len(f.logs))

	t.Run("search", func(t *testing.T) {
		step(t, ctx, "open search", chromedp.Navigate(base+"/#/search?range=1h&limit=50"), setTheme("light"),
			chromedp.WaitVisible(chromedp.CSS(`.result`)), chromedp.WaitVisible(chromedp.CSS(`.scatter-box circle.dot`)))
		if n := count(t, ctx, ".result"); n != 50 {
			t.Errorf("results = %d, want 50 (limit)", n)
		}
		if n := count(t, ctx, ".scatter-box circle.dot"); n != 50 {
			t.Errorf("scatter dots = %d, want 50", n)
		}
		if n := count(t, ctx, ".result .badge-err"); n == 0 {
			t.Errorf("no error marks on results; the fixture has failing traces")
		}
		// a deep link restores the filters into the form
		step(t, ctx, "deep link", chromedp.Navigate(base+"/#/search?service=checkout&operation=PlaceOrder&minDuration=5ms&range=6h"),
			chromedp.WaitReady(chromedp.CSS(`#f-operation option[value="PlaceOrder"]`)))
		svc := eval[string](t, ctx, `document.querySelector('#f-service').value`)
		op := eval[string](t, ctx, `document.querySelector('#f-operation').value`)
		minD := eval[string](t, ctx, `document.querySelector('[aria-label="Minimum duration"]').value`)
		if svc != "checkout" || op != "PlaceOrder" || minD != "5ms" {
			t.Errorf("deep link restored service=%q operation=%q min=%q", svc, op, minD)
		}
		// the scatter plot opens a trace
		step(t, ctx, "scatter click", chromedp.Navigate(base+"/#/search?range=1h"), chromedp.WaitVisible(chromedp.CSS(`.scatter-box circle.dot`)),
			chromedp.Click(chromedp.CSS(`.scatter-box circle.dot`)), chromedp.WaitVisible(chromedp.CSS(`.wf-row`)))
	})

	t.Run("custom range", func(t *testing.T) {
		from := time.Now().Add(-20 * time.Minute).Truncate(time.Minute)
		to := from.Add(10 * time.Minute)
		local := func(t time.Time) string { return t.Local().Format("2006-01-02T15:04:05") }
		step(t, ctx, "open picker", chromedp.Navigate(base+"/#/search?range=1h"), chromedp.WaitVisible(chromedp.CSS(".result")),
			chromedp.Click(chromedp.CSS(`.search-form .pop-anchor .seg`)), chromedp.WaitVisible(chromedp.CSS(".search-form .popover")),
			js(fmt.Sprintf(`document.querySelector('.search-form .popover input[aria-label="From"]').value = %q`, local(from))),
			js(fmt.Sprintf(`document.querySelector('.search-form .popover input[aria-label="To"]').value = %q`, local(to))),
			chromedp.Click(chromedp.CSS(".search-form .popover .btn.primary")), chromedp.Sleep(300*time.Millisecond), chromedp.WaitVisible(chromedp.CSS(".result")))
		hash := eval[string](t, ctx, `location.hash`)
		if want := fmt.Sprintf("from=%d&to=%d", from.UnixMilli(), to.UnixMilli()); !strings.Contains(hash, want) {
			t.Errorf("custom range gave %s, want %s in the URL", hash, want)
		}
		for _, id := range eval[[]string](t, ctx, `[...document.querySelectorAll('.result')].map((r) => r.dataset.traceId)`) {
			// a trace is in the range when one of its spans is: its root may start a moment earlier
			if st := f.rootOf(id).start; st.Before(from.Add(-5*time.Second)) || st.After(to) {
				t.Errorf("trace %s started at %v, outside the custom range", id, st)
			}
		}
	})

	t.Run("autocomplete", func(t *testing.T) {
		step(t, ctx, "type filter", chromedp.Navigate(base+"/#/search"), chromedp.WaitVisible(chromedp.CSS(`.f-query`)),
			chromedp.SendKeys(chromedp.CSS(`.f-query`), "http.req"), chromedp.WaitVisible(chromedp.CSS(`.ac-list li`)))
		got := textOf(t, ctx, ".ac-list li.active .ac-text")
		if got != "http.request.method" {
			t.Errorf("first completion = %q, want http.request.method", got)
		}
		step(t, ctx, "accept", chromedp.SendKeys(chromedp.CSS(`.f-query`), "\t"))
		v := eval[string](t, ctx, `document.querySelector('.f-query').value`)
		if v != "http.request.method " {
			t.Errorf("after Tab the filter is %q", v)
		}
	})

	// a trace with a failed span (and its exception event)
	id := f.order[0]
	for _, tid := range f.order {
		if slices.ContainsFunc(f.traces[tid], func(s *fxSpan) bool { return s.err }) && len(f.traces[tid]) >= 6 {
			id = tid
			break
		}
	}
	t.Run("trace", func(t *testing.T) {
		spans := f.traces[id]
		step(t, ctx, "open trace", chromedp.Navigate(base+"/#/trace/"+id), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)))
		if got := textOf(t, ctx, ".span-count"); got != fmt.Sprint(len(spans)) {
			t.Errorf("span count = %s, want %d", got, len(spans))
		}
		if n := count(t, ctx, ".wf-row"); n != len(spans) {
			t.Errorf("rows = %d, want %d", n, len(spans))
		}
		if n := count(t, ctx, ".wf-crit"); n == 0 {
			t.Error("no critical path segments drawn")
		}
		// select a span with an exception, if any, else the root
		sel := spans[0]
		for _, s := range spans {
			if s.err {
				sel = s
			}
		}
		sid := hex8(sel.spanID)
		step(t, ctx, "select span", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.wf-row[data-span-id="%s"]`, sid))),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.span-detail[data-span-id="%s"]`, sid))))
		hash := eval[string](t, ctx, `location.hash`)
		if !strings.Contains(hash, "span="+sid) {
			t.Errorf("selecting a span did not record it in the URL: %s", hash)
		}
		detail := textOf(t, ctx, ".span-detail")
		for _, want := range []string{sel.service, sel.name, "self time", "Resource", "service.version", "1.4.2"} {
			if !strings.Contains(detail, want) {
				t.Errorf("span details lack %q", want)
			}
		}
		if !sel.err {
			t.Fatal("the fixture has no trace with a failed span")
		}
		{
			step(t, ctx, "events tab", chromedp.Click(`//div[contains(@class,"detail-tabs")]/button[starts-with(normalize-space(.),"Events")]`),
				chromedp.WaitVisible(chromedp.CSS(`.stack`)))
			if got := textOf(t, ctx, ".stack"); !strings.Contains(got, "payment/charge.go:88") {
				t.Errorf("stack trace shows %q", got)
			}
		}
		// collapse the root: only it remains
		step(t, ctx, "collapse", chromedp.Click(chromedp.CSS(`.wf-row:first-child .wf-toggle`)), chromedp.Sleep(100*time.Millisecond))
		if n := count(t, ctx, ".wf-row"); n != 1 {
			t.Errorf("after collapsing the root, rows = %d, want 1", n)
		}
		// a reload of the deep link restores the selection
		step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.span-detail[data-span-id="%s"]`, sid))))
	})

	t.Run("links and keyboard", func(t *testing.T) {
		// a span with a link to another trace: the Links tab opens that trace with the linked span selected
		var from, to string
		var toSpan string
		for _, id := range f.order {
			if sp := f.traces[id][0]; len(sp.links) > 0 {
				from, to, toSpan = id, hex16(sp.links[0][0]), hex8(sp.links[0][1])
				break
			}
		}
		if from == "" {
			t.Fatal("the fixture has no linked span")
		}
		root := hex8(f.traces[from][0].spanID)
		step(t, ctx, "links tab", chromedp.Navigate(base+"/#/trace/"+from+"?span="+root+"&tab=links"), chromedp.WaitVisible(chromedp.CSS(".span-detail .event a")),
			chromedp.Click(chromedp.CSS(".span-detail .event a")), chromedp.WaitVisible(chromedp.CSS(`.span-detail[data-span-id="`+toSpan+`"]`)))
		if hash := eval[string](t, ctx, `location.hash`); !strings.HasPrefix(hash, "#/trace/"+to) {
			t.Errorf("the link led to %s, want trace %s", hash, to)
		}
		// keyboard: the waterfall moves the selection with the arrow keys
		step(t, ctx, "keyboard", chromedp.Navigate(base+"/#/trace/"+from+"?span="+root), chromedp.WaitVisible(chromedp.CSS(".span-detail")),
			chromedp.Focus(chromedp.CSS(".wf-scroll")), chromedp.KeyEvent(kb.ArrowDown), chromedp.Sleep(100*time.Millisecond))
		second := hex8(f.traces[from][1].spanID)
		if got := attrOf(t, ctx, ".span-detail", "data-span-id"); got == root {
			t.Errorf("ArrowDown left the selection on the root (second span in order is %s)", second)
		}
		step(t, ctx, "escape", chromedp.KeyEvent(kb.Escape), chromedp.Sleep(100*time.Millisecond))
		if n := count(t, ctx, ".span-detail"); n != 0 {
			t.Error("Escape did not close the span details")
		}
	})

	t.Run("escaping", func(t *testing.T) {
		x := f.traces[f.xssTrace]
		step(t, ctx, "open markup trace", chromedp.Navigate(base+"/#/trace/"+f.xssTrace+"?span="+hex8(x[0].spanID)+"&logs=1"),
			chromedp.WaitVisible(chromedp.CSS(`.span-detail`)), chromedp.WaitVisible(chromedp.CSS(`.trace-logs .log-row`)))
		detail := textOf(t, ctx, ".span-detail")
		if !strings.Contains(detail, xssPayload) {
			t.Errorf("the attribute holding markup is not shown as text; details: %q", detail)
		}
		step(t, ctx, "select renamed span", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.wf-row[data-span-id="%s"]`, hex8(x[len(x)-1].spanID)))),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.span-detail[data-span-id="%s"]`, hex8(x[len(x)-1].spanID)))))
		injected := eval[bool](t, ctx, `window.__xss === 1`)
		imgs := count(t, ctx, "#main img")
		scripts := count(t, ctx, "#main script")
		if injected || imgs != 0 || scripts != 0 {
			t.Errorf("markup from telemetry became live: script ran=%v, img elements=%d, script elements=%d", injected, imgs, scripts)
		}
		if got := textOf(t, ctx, ".trace-logs"); !strings.Contains(got, xssPayload) {
			t.Errorf("log body holding markup is not shown as text")
		}
		screenshot(t, ctx, "escaping")
	})

	t.Run("path", func(t *testing.T) {
		// service map -> service overview -> trace -> log -> back to the trace, by clicks
		step(t, ctx, "map", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS(`g.node[data-service="checkout"]`)))
		if n := count(t, ctx, "path.edge"); n < 5 {
			t.Errorf("edges = %d, want at least 5", n)
		}
		if !strings.Contains(textOf(t, ctx, ".map-svg"), "calls") {
			t.Error("edge labels lack call counts")
		}
		step(t, ctx, "open checkout", chromedp.Click(chromedp.CSS(`g.node[data-service="checkout"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.op-table tr[data-operation]`)), chromedp.WaitVisible(chromedp.CSS(`.recent-traces tr[data-trace-id]`)))
		if n := count(t, ctx, ".view-service .chart-svg path.line"); n < 4 {
			t.Errorf("service overview draws %d lines, want rate, errors and 3 percentiles", n)
		}
		tid := attrOf(t, ctx, ".recent-traces tr[data-trace-id]", "data-trace-id")
		step(t, ctx, "recent trace", chromedp.Click(chromedp.CSS(`.recent-traces tr[data-trace-id] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)))
		// pick a trace of checkout that has logs: the fixture puts logs on half the traces, so walk the list
		hasLogs := func(id string) bool {
			for _, l := range f.logs {
				if l.hasTrace && hex16(l.traceID) == id {
					return true
				}
			}
			return false
		}
		if !hasLogs(tid) {
			for _, id := range f.order {
				if hasLogs(id) {
					tid = id
					break
				}
			}
			step(t, ctx, "trace with logs", chromedp.Navigate(base+"/#/trace/"+tid), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)))
		}
		step(t, ctx, "trace logs", chromedp.Click(`//button[normalize-space(.)="Trace logs"]`),
			chromedp.WaitVisible(chromedp.CSS(`.trace-logs .log-row`)), chromedp.Click(chromedp.CSS(`.trace-logs .log-row`)),
			chromedp.WaitVisible(chromedp.CSS(`.trace-logs .log-detail a.btn`)))
		step(t, ctx, "back to trace", chromedp.Click(chromedp.CSS(`.trace-logs .log-detail a.btn`)), chromedp.WaitVisible(chromedp.CSS(`.span-detail`)))
		hash := eval[string](t, ctx, `location.hash`)
		if !strings.HasPrefix(hash, "#/trace/"+tid) || !strings.Contains(hash, "span=") {
			t.Errorf("the log's trace link led to %s, want trace %s with its span", hash, tid)
		}
	})

	t.Run("logs", func(t *testing.T) {
		step(t, ctx, "open logs", chromedp.Navigate(base+"/#/logs?range=1h&limit=200"), chromedp.WaitVisible(chromedp.CSS(`.log-row`)),
			chromedp.WaitVisible(chromedp.CSS(`.chart-svg rect.bar`)))
		if n := count(t, ctx, ".log-row"); n != 200 {
			t.Errorf("log rows = %d, want 200", n)
		}
		if got := textOf(t, ctx, `.facet[data-severity="info"] .n`); got == "" || got == "0" {
			t.Errorf("info facet count = %q", got)
		}
		// a structured body expands into a tree
		step(t, ctx, "expand map body", chromedp.Click(`//div[contains(@class,"log-row")][.//span[contains(@class,"body") and contains(.,"order.placed")]]`),
			chromedp.WaitVisible(chromedp.CSS(`.log-detail .json details`)))
		if got := textOf(t, ctx, ".log-detail .json"); !strings.Contains(got, `"items"`) {
			t.Errorf("structured body tree shows %q", got)
		}
		// severity facet filters and lands in the URL
		step(t, ctx, "facet", chromedp.Click(chromedp.CSS(`.facet[data-severity="error"] input`)), chromedp.Sleep(300*time.Millisecond),
			chromedp.WaitVisible(chromedp.CSS(`.log-row`)))
		sevs := eval[[]string](t, ctx, `[...new Set([...document.querySelectorAll('.log-row .sev')].map(e => e.textContent.toLowerCase()))]`)
		if len(sevs) != 1 || sevs[0] != "error" {
			t.Errorf("with the error facet on, rows show severities %v", sevs)
		}
	})

	t.Run("compare", func(t *testing.T) {
		step(t, ctx, "compare", chromedp.Navigate(base+"/#/compare?a="+f.order[1]+"&b="+f.order[2]), chromedp.WaitVisible(chromedp.CSS(`.cmp-row[data-path]`)))
		if n := count(t, ctx, ".cmp-row[data-path]"); n < 2 {
			t.Errorf("comparison rows = %d", n)
		}
	})

	t.Run("dark", func(t *testing.T) {
		step(t, ctx, "dark trace", chromedp.Navigate(base+"/#/trace/"+id), setTheme("dark"), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)),
			chromedp.Click(chromedp.CSS(`.wf-row:nth-child(2)`)), chromedp.WaitVisible(chromedp.CSS(`.span-detail`)))
		theme := eval[string](t, ctx, `document.documentElement.dataset.theme`)
		if theme != "dark" {
			t.Errorf("theme = %q after reload, want the saved dark theme", theme)
		}
		step(t, ctx, "dark search", chromedp.Navigate(base+"/#/search?range=1h"), chromedp.WaitVisible(chromedp.CSS(`.result`)))
		step(t, ctx, "light", setTheme("light"))
	})
}
