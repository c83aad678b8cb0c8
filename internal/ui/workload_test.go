package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/workload"
)

// getJSONURL decodes the JSON answer of a GET into v.
func getJSONURL(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestBrowserWorkload loads 30 minutes of the reference workload (traces and logs of 20 services) into a real
// otlpd over OTLP/HTTP and checks what each view shows; it writes the screenshots of docs/ui.md.
func TestBrowserWorkload(t *testing.T) {
	ctx := browser(t)
	otlp, base := startOtlpd(t)
	const seed, spans, logs = 42, 30_000, 15_000
	gen := workload.New(seed, workload.Options{Start: time.Now().Add(-30 * time.Minute), Rate: spans / 1800.0})
	for sent := 0; sent < spans; sent += 500 {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(gen.NextTraces(500))
		if err != nil {
			t.Fatal(err)
		}
		export(t, otlp+"/v1/traces", b)
	}
	lg := workload.New(seed, workload.Options{Start: time.Now().Add(-30 * time.Minute), Rate: logs / 1800.0})
	for sent := 0; sent < logs; sent += 500 {
		b, err := (&plog.ProtoMarshaler{}).MarshalLogs(lg.NextLogs(500))
		if err != nil {
			t.Fatal(err)
		}
		export(t, otlp+"/v1/logs", b)
	}
	f := newFixture(seed, time.Now(), 0) // metrics: the reference workload's 100,000 series are too many for this test
	mb, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(f.metrics())
	if err != nil {
		t.Fatal(err)
	}
	export(t, otlp+"/v1/metrics", mb)
	t.Logf("reference workload seed %d: %d spans and %d logs over the last 30 minutes", seed, spans, logs)
	res, err := http.Get(base + "/api/otlpd/services")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	step(t, ctx, "theme", chromedp.Navigate(base+"/#/search"), setTheme("light"))
	step(t, ctx, "search", chromedp.Navigate(base+"/#/search?range=1h&limit=50"), chromedp.WaitVisible(chromedp.CSS(".result")),
		chromedp.WaitVisible(chromedp.CSS(".scatter-box circle.dot")))
	if n := count(t, ctx, ".result"); n != 50 {
		t.Errorf("search results = %d, want 50", n)
	}
	screenshot(t, ctx, "search")

	// a failing trace, its exception
	q := strings.ReplaceAll("status = error and kind = server", " ", "%20")
	step(t, ctx, "errors", chromedp.Navigate(base+"/#/search?range=1h&limit=100&q="+q), chromedp.WaitVisible(chromedp.CSS(".result .badge-err")))
	// the failing trace with the most spans shows the waterfall best
	tid := eval[string](t, ctx, `[...document.querySelectorAll('.result')].map((r) => [parseInt(r.querySelector('.result-meta .chip').textContent), r.dataset.traceId]).sort((a, b) => b[0] - a[0])[0][1]`)
	step(t, ctx, "trace", chromedp.Navigate(base+"/#/trace/"+tid), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(".wf-row .wf-err")))
	errSpan := eval[string](t, ctx, `document.querySelector('.wf-row .wf-err').closest('.wf-row').dataset.spanId`)
	step(t, ctx, "exception", chromedp.Navigate(base+"/#/trace/"+tid+"?span="+errSpan+"&tab=events"), chromedp.WaitVisible(chromedp.CSS(".span-detail")))
	if n := count(t, ctx, ".stack"); n == 0 {
		t.Logf("the failed span %s has no exception event (the workload puts one on most failed spans)", errSpan)
	} else {
		screenshot(t, ctx, "trace-exception")
	}
	step(t, ctx, "attributes", chromedp.Navigate(base+"/#/trace/"+tid+"?span="+errSpan), chromedp.WaitVisible(chromedp.CSS(".span-detail")))
	screenshot(t, ctx, "trace")
	// the logs of a trace: the stored trace with the most records among the newest 2,000 records
	logTrace, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const res = await (await fetch('/api/otlpd/logs/search?limit=2000')).json();
		const n = {};
		for (const rl of res.logs.resourceLogs || []) for (const sl of rl.scopeLogs || []) for (const r of sl.logRecords || []) if (r.traceId) n[r.traceId] = (n[r.traceId] || 0) + 1;
		for (const [id] of Object.entries(n).sort((a, b) => b[1] - a[1]).slice(0, 40)) if ((await fetch('/api/otlpd/traces/' + id + '/summary')).ok) return id;
		return '';
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("find a trace with logs: %v", err)
	}
	if logTrace == "" {
		t.Error("no stored trace has logs among the newest 2,000 records")
		logTrace = tid
	}
	step(t, ctx, "logs of the trace", chromedp.Navigate(base+"/#/trace/"+logTrace+"?logs=1"), chromedp.WaitVisible(chromedp.CSS(".trace-logs .log-row")))
	screenshot(t, ctx, "trace-logs")

	// the whole graph: every edge drawn, hovering shows a service's calls with every peer
	step(t, ctx, "map, all calls", chromedp.Navigate(base+"/#/services?range=1h&edges=all"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	if n := count(t, ctx, "g.node"); n != 20 {
		t.Errorf("service map nodes = %d, want the workload's 20 services", n)
	}
	var deps struct {
		Edges []struct {
			Parent, Child string
			CallCount     int64
		}
	}
	getJSONURL(t, base+"/api/otlpd/dependencies?start="+fmt.Sprint(time.Now().Add(-time.Hour).UnixMilli()), &deps)
	cross := 0
	for _, e := range deps.Edges {
		if e.Parent != e.Child {
			cross++
		}
	}
	if n := count(t, ctx, ".map-svg path.edge"); n != cross {
		t.Errorf("with all calls drawn: %d edges, want the %d between different services", n, cross)
	}
	if n := count(t, ctx, ".edge-table tbody tr"); n != 15 {
		t.Errorf("edge table rows = %d, want the first 15", n)
	}
	if got := textOf(t, ctx, ".edge-table tbody tr td:last-child"); !strings.HasSuffix(got, "%") {
		t.Errorf("edge table error rate %q", got)
	}
	hover := func(name string) {
		t.Helper()
		xy := eval[[]float64](t, ctx, `(() => { const r = document.querySelector('g.node[data-service="`+name+`"]').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
		step(t, ctx, "hover "+name, chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]), chromedp.WaitVisible(chromedp.CSS(".map-svg .edge-label.hl")))
	}
	hover("checkout")
	peers := map[string]bool{}
	for _, e := range deps.Edges {
		if e.Parent == "checkout" && e.Child != "checkout" {
			peers[e.Child] = true
		} else if e.Child == "checkout" && e.Parent != "checkout" {
			peers[e.Parent] = true
		}
	}
	if n := count(t, ctx, ".map-svg .edge-label.hl"); n != len(peers) || n < 15 {
		t.Errorf("focusing checkout labels %d peers, want one label for each of its %d peers", n, len(peers))
	}
	// by default a graph this dense draws its busiest 40 calls
	step(t, ctx, "map", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	if n := count(t, ctx, ".map-svg path.edge"); n != 40 {
		t.Errorf("default map draws %d edges, want the busiest 40", n)
	}
	minDrawn := eval[int](t, ctx, `Math.min(...[...document.querySelectorAll('.map-svg path.edge')].map((p) => Number(p.dataset.calls)))`)
	above := 0
	for _, e := range deps.Edges {
		if e.Parent != e.Child && e.CallCount > int64(minDrawn) {
			above++
		}
	}
	if above > 40 {
		t.Errorf("the drawn edges are not the busiest: %d edges have more calls than the least drawn one (%d)", above, minDrawn)
	}
	step(t, ctx, "draw 20", chromedp.SetValue(chromedp.CSS("select.edge-limit"), "20"), js(`document.querySelector('select.edge-limit').dispatchEvent(new Event('change'))`))
	waitJS(t, ctx, `document.querySelectorAll('.map-svg path.edge').length === 20 && location.hash.includes('edges=20')`)
	step(t, ctx, "map 40", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	hover("checkout")
	screenshotHovering(t, ctx, "service-map")
	// uninstrumented peers: one dashed node each, which opens no overview
	var withPeers struct{ Peers []string }
	getJSONURL(t, base+"/api/otlpd/dependencies?peers=true&start="+fmt.Sprint(time.Now().Add(-time.Hour).UnixMilli()), &withPeers)
	t.Logf("uninstrumented peers: %v", withPeers.Peers)
	step(t, ctx, "peers", chromedp.Navigate(base+"/#/services?range=1h&peers=1"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	waitJS(t, ctx, `document.querySelector('input.peers-toggle').checked`)
	if n := count(t, ctx, "g.node.peer"); n != len(withPeers.Peers) || n == 0 {
		t.Errorf("peer nodes = %d, want the server's %d peers", n, len(withPeers.Peers))
	}
	if n := count(t, ctx, "g.node"); n != 20+len(withPeers.Peers) {
		t.Errorf("nodes with peers = %d, want 20 services and %d peers", n, len(withPeers.Peers))
	}
	if len(withPeers.Peers) > 0 {
		step(t, ctx, "click a peer", chromedp.Click(chromedp.CSS(`g.node.peer`)))
		if hash := eval[string](t, ctx, `location.hash`); !strings.HasPrefix(hash, "#/services") {
			t.Errorf("clicking a peer went to %s", hash)
		}
	}
	screenshot(t, ctx, "service-map-peers")
	step(t, ctx, "peers off", chromedp.Click(chromedp.CSS("input.peers-toggle")))
	waitJS(t, ctx, `!location.hash.includes('peers=1') && document.querySelectorAll('g.node').length === 20 && !document.querySelector('g.node.peer')`)
	step(t, ctx, "map again", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	hover("checkout")
	step(t, ctx, "overview", chromedp.Click(chromedp.CSS(`g.node[data-service="checkout"]`)), chromedp.WaitVisible(chromedp.CSS(".op-table tr[data-operation]")),
		chromedp.WaitVisible(chromedp.CSS(".recent-traces tr")), chromedp.WaitVisible(chromedp.CSS(".view-service .chart-svg path.line")))
	screenshot(t, ctx, "service-overview")

	step(t, ctx, "logs", chromedp.Navigate(base+"/#/logs?range=1h"), chromedp.WaitVisible(chromedp.CSS(".log-row")), chromedp.WaitVisible(chromedp.CSS(".chart-svg rect.bar")))
	total := textOf(t, ctx, ".hist-total")
	if !strings.Contains(total, fmt.Sprintf("%d", logs)) && !strings.Contains(total, "15k") {
		t.Errorf("histogram total %q, want the %d records sent", total, logs)
	}
	// expand a record with a structured body (a tenth of the workload's bodies are maps)
	step(t, ctx, "expand", js(`[...document.querySelectorAll('.log-row')].find((r) => r.querySelector('.body').textContent.startsWith('{'))?.click()`),
		chromedp.WaitVisible(chromedp.CSS(".log-detail .json details")))
	screenshot(t, ctx, "logs")

	// compare two traces of the same root operation
	step(t, ctx, "pick", chromedp.Navigate(base+"/#/search?range=1h&limit=500"), chromedp.WaitVisible(chromedp.CSS(".result")))
	pair := eval[[]string](t, ctx, `(() => { const by = {}; for (const r of document.querySelectorAll('.result')) { const k = r.querySelector('.svc').textContent + ' ' + r.querySelector('.op').textContent; (by[k] ||= []).push(r.dataset.traceId); } return Object.values(by).sort((a, b) => b.length - a.length)[0].slice(0, 2); })()`)
	if len(pair) < 2 {
		t.Fatalf("no two traces share a root service and operation")
	}
	step(t, ctx, "compare", chromedp.Navigate(base+"/#/compare?a="+pair[0]+"&b="+pair[1]), chromedp.WaitVisible(chromedp.CSS(".cmp-row[data-path]")))
	if n := count(t, ctx, ".cmp-row[data-path]:not(.only-a):not(.only-b)"); n == 0 {
		t.Error("two traces of the same root operation share no span path")
	}
	screenshot(t, ctx, "compare")

	step(t, ctx, "dark", setTheme("dark"), chromedp.Navigate(base+"/#/trace/"+tid+"?span="+errSpan), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".span-detail")))
	screenshot(t, ctx, "trace-dark")
	step(t, ctx, "dark map", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	screenshot(t, ctx, "service-map-dark")
	step(t, ctx, "light again", setTheme("light"))
}
