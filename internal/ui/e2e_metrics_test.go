package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestBrowserRealServerMetrics sends a counter and a histogram with exemplars to a real otlpd and drives the
// metrics explorer on its Prometheus API: completion, a range graph with exemplar dots that open their traces,
// an instant table and the bucket heatmap.
func TestBrowserRealServerMetrics(t *testing.T) {
	ctx := browser(t)
	f := newFixture(13, time.Now(), 0)
	otlp, base := startOtlpd(t)
	load(t, otlp, f)
	b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(f.metrics())
	if err != nil {
		t.Fatal(err)
	}
	export(t, otlp+"/v1/metrics", b)

	var names []string
	for i := 0; i < 50; i++ { // the TSDB answers once the appended samples are committed
		res, err := http.Get(base + "/api/v1/label/__name__/values")
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Data []string }
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if names = body.Data; slices.Contains(names, "app_requests_total") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("metric names: %v", names)
	for _, want := range []string{"app_requests_total", "app_request_duration_seconds_bucket"} {
		if !slices.Contains(names, want) {
			t.Fatalf("otlpd has no metric %s (names: %v)", want, names)
		}
	}
	q := url.QueryEscape("histogram_quantile(0.95, sum by (le) (rate(app_request_duration_seconds_bucket[5m])))")
	step(t, ctx, "range graph", chromedp.Navigate(base+"/#/metrics?range=1h&q="+q), chromedp.WaitVisible(chromedp.CSS(".view-metrics .chart-svg path.line")),
		chromedp.WaitVisible(chromedp.CSS(".view-metrics circle.marker")))
	screenshot(t, ctx, "metrics")
	step(t, ctx, "exemplar opens its trace", chromedp.Click(chromedp.CSS(".view-metrics circle.marker")), chromedp.WaitVisible(chromedp.CSS(`[data-complete="true"]`)))
	step(t, ctx, "instant", chromedp.Navigate(base+"/#/metrics?mode=instant&q="+url.QueryEscape("sum by (http_route) (app_requests_total)")),
		chromedp.WaitVisible(chromedp.CSS(".instant-table tbody tr")))
	if n := count(t, ctx, ".instant-table tbody tr"); n != 3 {
		t.Errorf("instant table rows = %d, want 3 routes", n)
	}
	step(t, ctx, "heatmap", chromedp.Navigate(base+"/#/metrics?range=1h&q="+url.QueryEscape("sum by (le) (rate(app_request_duration_seconds_bucket[5m]))")),
		chromedp.WaitVisible(chromedp.CSS(".heatmap canvas")))
	screenshot(t, ctx, "metrics-heatmap")
	step(t, ctx, "completion", chromedp.Navigate(base+"/#/metrics"), chromedp.WaitVisible(chromedp.CSS(".f-query")),
		chromedp.SendKeys(chromedp.CSS(".f-query"), "app_req"), chromedp.WaitVisible(chromedp.CSS(".ac-list li")))
	if got := textOf(t, ctx, ".ac-list li .ac-text"); got != "app_request_duration_seconds_bucket" && got != "app_request_duration_seconds_count" && got != "app_requests_total" && got != "app_request_duration_seconds_sum" {
		t.Errorf("first metric completion = %q", got)
	}
}
