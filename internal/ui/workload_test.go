package ui

import (
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
	step(t, ctx, "logs of the trace", chromedp.Navigate(base+"/#/trace/"+tid+"?logs=1"), chromedp.WaitVisible(chromedp.CSS(".trace-logs .panel-head")))
	screenshot(t, ctx, "trace-logs")

	step(t, ctx, "map", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS("g.node")))
	if n := count(t, ctx, "g.node"); n != 20 {
		t.Errorf("service map nodes = %d, want the workload's 20 services", n)
	}
	if n := count(t, ctx, ".edge-table tbody tr"); n != 15 {
		t.Errorf("edge table rows = %d, want the first 15", n)
	}
	if got := textOf(t, ctx, ".edge-table tbody tr td:last-child"); !strings.HasSuffix(got, "%") {
		t.Errorf("edge table error rate %q", got)
	}
	step(t, ctx, "hover", chromedp.Focus(chromedp.CSS(`g.node[data-service="checkout"]`)))
	if n := count(t, ctx, ".map-svg .edge-label.hl"); n == 0 {
		t.Error("focusing a service shows none of its call labels")
	}
	screenshot(t, ctx, "service-map")
	step(t, ctx, "blur", chromedp.Blur(chromedp.CSS(`g.node[data-service="checkout"]`)))
	step(t, ctx, "overview", chromedp.Click(chromedp.CSS(`g.node[data-service="checkout"]`)), chromedp.WaitVisible(chromedp.CSS(".op-table tr[data-operation]")),
		chromedp.WaitVisible(chromedp.CSS(".recent-traces tr")))
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
