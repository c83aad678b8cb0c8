package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/tail"
)

const alertRules = `groups:
  - name: checkout
    interval: 200ms
    rules:
      - record: service:span_calls:sum
        expr: sum by (service_name) (traces_span_metrics_calls_total)
      - alert: CheckoutErrors
        expr: sum by (service_name) (traces_span_metrics_calls_total{service_name="checkout", status_code="STATUS_CODE_ERROR"}) > 1
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.service_name }} failed {{ $value }} times"
      - alert: NeverFires
        expr: vector(0) > 1
        for: 5m
`

// erroringSpans is n spans of service checkout, errors of them failing.
func erroringSpans(n, errors int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetName("PlaceOrder")
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetTraceID(pcommon.TraceID{byte(i + 1), 7})
		sp.SetSpanID(pcommon.SpanID{byte(i + 1), 7})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(30 * time.Millisecond)))
		if i < errors {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		panic(err)
	}
	return b
}

// TestBrowserAlerts loads rules that watch the span metrics, sends failing spans, and reads the alerts view:
// the firing alert with its templated summary, the inactive rule, the recording rule, the counts, and the
// link from a rule's query to the metrics explorer.
func TestBrowserAlerts(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "checkout.yml"), []byte(alertRules), 0o600); err != nil {
		t.Fatal(err)
	}
	otlp, base := startOtlpdWith(t, tail.Options{}, func(c *config.Config) {
		c.SpanMetrics.Interval = config.Duration(100 * time.Millisecond)
		c.Rules.Files = []string{filepath.Join(dir, "*.yml")}
	})
	export(t, otlp+"/v1/traces", erroringSpans(10, 3))

	step(t, ctx, "alerts view", chromedp.Navigate(base+"/#/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`.rule-row[data-rule="CheckoutErrors"]`)))
	// The view refreshes every 15 s; reload until the alert fires (rules run every 200 ms).
	deadline := time.Now().Add(20 * time.Second)
	for count(t, ctx, `.rule-row[data-rule="CheckoutErrors"][data-state="firing"]`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("CheckoutErrors never shown firing")
		}
		time.Sleep(300 * time.Millisecond)
		step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.rule-row[data-rule="CheckoutErrors"]`)))
	}
	if got := textOf(t, ctx, `.alert-row[data-state="firing"] .alert-summary`); got != "checkout failed 3 times" {
		t.Errorf("alert summary %q", got)
	}
	if got := textOf(t, ctx, `.alert-row[data-state="firing"]`); !strings.Contains(got, `severity="page"`) || !strings.Contains(got, `service_name="checkout"`) {
		t.Errorf("alert labels %q", got)
	}
	if n := count(t, ctx, `.rule-row[data-rule="NeverFires"][data-state="inactive"]`); n != 1 {
		t.Errorf("NeverFires inactive rows: %d", n)
	}
	if n := count(t, ctx, `.rule-row[data-rule="service:span_calls:sum"][data-state="ok"]`); n != 1 {
		t.Errorf("recording rule rows: %d", n)
	}
	if got := textOf(t, ctx, `[data-count="firing"]`); got != "1 firing" {
		t.Errorf("firing count %q", got)
	}
	screenshot(t, ctx, "alerts")

	step(t, ctx, "open the query", chromedp.Click(chromedp.CSS(`.rule-row[data-rule="service:span_calls:sum"] .rule-query`)),
		chromedp.WaitVisible(chromedp.CSS(`.f-query`)))
	if got := eval[string](t, ctx, `document.querySelector('.f-query').value`); got != "sum by (service_name) (traces_span_metrics_calls_total)" {
		t.Errorf("metrics explorer query %q", got)
	}
}

// TestBrowserAlertsNoRules: without rule files the view says how to add them.
func TestBrowserAlertsNoRules(t *testing.T) {
	ctx := browser(t)
	_, base := startOtlpd(t)
	step(t, ctx, "alerts view", chromedp.Navigate(base+"/#/alerts"), chromedp.WaitVisible(chromedp.CSS(`.empty`)))
	if got := textOf(t, ctx, ".empty"); !strings.Contains(got, "No rules loaded") || !strings.Contains(got, "rules.files") {
		t.Errorf("empty state %q", got)
	}
}
