package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/tail"
)

// sevClass names the severity class of an OTLP severity number, as the log explorer groups them.
func sevClass(n plog.SeverityNumber) string {
	switch {
	case n == 0:
		return "unset"
	case n <= 4:
		return "trace"
	case n <= 8:
		return "debug"
	case n <= 12:
		return "info"
	case n <= 16:
		return "warn"
	case n <= 20:
		return "error"
	}
	return "fatal"
}

// liveLogs builds n records of service "live" at now, with the given body prefix and severity.
func liveLogs(n int, body string, sev plog.SeverityNumber) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "live")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	now := time.Now()
	for i := range n {
		r := recs.AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i) * time.Microsecond)))
		r.SetSeverityNumber(sev)
		r.Body().SetStr(fmt.Sprintf("%s %d", body, i))
	}
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		panic(err)
	}
	return b
}

// TestBrowserLogsServerCounts checks that the severity facets count every record in the range (from the
// server's histogram), not only the page shown, that they keep counting every severity when one is ticked,
// and that the histogram's bars are stacked by severity.
func TestBrowserLogsServerCounts(t *testing.T) {
	ctx := browser(t)
	f := newFixture(11, time.Now(), 0)
	otlp, base := startOtlpd(t)
	load(t, otlp, f)
	export(t, otlp+"/v1/logs", liveLogs(7, "no severity", plog.SeverityNumberUnspecified))
	want := map[string]int{"unset": 7}
	for _, l := range f.logs {
		want[sevClass(l.sev)]++
	}
	t.Logf("fixture logs per severity: %v", want)
	step(t, ctx, "logs", chromedp.Navigate(base+"/#/logs?range=1h&limit=20"), chromedp.WaitVisible(chromedp.CSS(".log-row")),
		chromedp.WaitVisible(chromedp.CSS(".chart-svg rect.bar")))
	checkFacets := func(when string) {
		t.Helper()
		for _, sv := range []string{"trace", "debug", "info", "warn", "error", "fatal", "unset"} {
			got := textOf(t, ctx, `.facet[data-severity="`+sv+`"] .n`)
			if got != fmt.Sprint(want[sv]) {
				t.Errorf("%s: facet %s shows %q, want the %d records of the range", when, sv, got, want[sv])
			}
		}
	}
	checkFacets("no facet ticked")
	series := eval[[]string](t, ctx, `[...new Set([...document.querySelectorAll('.chart-svg rect.bar')].map((r) => r.dataset.series))].sort()`)
	var wantSeries []string
	for _, sv := range []string{"debug", "error", "fatal", "info", "trace", "unset", "warn"} {
		if want[sv] > 0 {
			wantSeries = append(wantSeries, sv)
		}
	}
	if strings.Join(series, ",") != strings.Join(wantSeries, ",") {
		t.Errorf("histogram bars by %v, want one series per severity present %v", series, wantSeries)
	}
	step(t, ctx, "tick error", chromedp.Click(chromedp.CSS(`.facet[data-severity="error"] input`)))
	waitJS(t, ctx, `location.hash.includes('sev=error') && !document.querySelector('.view-logs .loading') && document.querySelectorAll('.log-row').length > 0`)
	checkFacets("error ticked")
	series = eval[[]string](t, ctx, `[...new Set([...document.querySelectorAll('.chart-svg rect.bar')].map((r) => r.dataset.series))]`)
	if len(series) != 1 || series[0] != "error" {
		t.Errorf("with error ticked the histogram shows %v", series)
	}
	if got, w := textOf(t, ctx, ".hist-total"), fmt.Sprint(want["error"]); !strings.HasPrefix(got, w+" records") {
		t.Errorf("histogram total %q, want %s records", got, w)
	}
	// records without a severity have a facet too (severity = 0 in the filter language)
	step(t, ctx, "untick error, tick unset", chromedp.Click(chromedp.CSS(`.facet[data-severity="error"] input`)))
	waitJS(t, ctx, `!location.hash.includes('sev=') && !document.querySelector('.view-logs .loading')`)
	step(t, ctx, "tick unset", chromedp.Click(chromedp.CSS(`.facet[data-severity="unset"] input`)))
	waitJS(t, ctx, `location.hash.includes('sev=unset') && !document.querySelector('.view-logs .loading') && document.querySelectorAll('.log-row').length > 0`)
	bodies := eval[[]string](t, ctx, `[...document.querySelectorAll('.log-row .body')].map((e) => e.textContent)`)
	if len(bodies) != 7 {
		t.Errorf("with unset ticked: %d rows, want the 7 records without a severity", len(bodies))
	}
	for _, b := range bodies {
		if !strings.HasPrefix(b, "no severity") {
			t.Errorf("with unset ticked the list shows %q", b)
		}
	}
	checkFacets("unset ticked")
}

// TestBrowserLiveTailFiltered checks that the live tail streams from the server with the filter applied there (no
// polling of the search API), and that it shows how many records the server dropped.
func TestBrowserLiveTailFiltered(t *testing.T) {
	ctx := browser(t)
	otlp, base := startOtlpd(t)
	export(t, otlp+"/v1/logs", liveLogs(3, "earlier needle", plog.SeverityNumberInfo))
	q := strings.ReplaceAll(`body contains "needle" and severity >= warn`, " ", "%20")
	step(t, ctx, "live", chromedp.Navigate(base+"/#/logs?range=15m&live=1&q="+q), chromedp.WaitVisible(chromedp.CSS(`.tail-status[data-connected]`)))
	searches := `performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/otlpd/logs/search')).length`
	before := eval[int](t, ctx, searches)
	export(t, otlp+"/v1/logs", liveLogs(4, "hay", plog.SeverityNumberError))
	export(t, otlp+"/v1/logs", liveLogs(5, "quiet needle", plog.SeverityNumberInfo))
	export(t, otlp+"/v1/logs", liveLogs(3, "loud needle", plog.SeverityNumberWarn))
	waitJS(t, ctx, `document.querySelectorAll('.log-row').length >= 3`)
	time.Sleep(2500 * time.Millisecond) // longer than the polling interval, so polling would show
	bodies := eval[[]string](t, ctx, `[...document.querySelectorAll('.log-row .body')].map((e) => e.textContent)`)
	if len(bodies) != 3 {
		t.Errorf("live rows %q, want the 3 warn needles", bodies)
	}
	for _, b := range bodies {
		if !strings.HasPrefix(b, "loud needle") {
			t.Errorf("live tail shows %q, which the filter excludes", b)
		}
	}
	if after := eval[int](t, ctx, searches); after != before {
		t.Errorf("the live view searched %d more times while streaming; it should not poll", after-before)
	}
	if n := count(t, ctx, ".tail-dropped"); n != 0 {
		t.Errorf("a drop count is shown though nothing was dropped")
	}

	// a stream with a tiny buffer loses most of a burst; the page shows what the server reports
	otlp2, base2 := startOtlpdTail(t, tail.Options{Buffer: 8})
	step(t, ctx, "live, small buffer", chromedp.Navigate(base2+"/#/logs?range=15m&live=1"), chromedp.WaitVisible(chromedp.CSS(`.tail-status[data-connected]`)))
	const burst = 900
	export(t, otlp2+"/v1/logs", liveLogs(burst, "burst", plog.SeverityNumberInfo))
	waitJS(t, ctx, `!!document.querySelector('.tail-dropped')`)
	time.Sleep(1500 * time.Millisecond) // the next heartbeat carries the final count
	dropped := eval[int](t, ctx, `Number(document.querySelector('.tail-dropped').dataset.dropped)`)
	rows := count(t, ctx, ".log-row")
	if dropped == 0 || rows+dropped != burst {
		t.Errorf("%d rows shown and %d reported dropped; want them to add up to the %d sent", rows, dropped, burst)
	}
	if got := textOf(t, ctx, ".tail-status"); !strings.Contains(got, fmt.Sprintf("%d dropped", dropped)) {
		t.Errorf("status line %q does not say how many were dropped", got)
	}
}
