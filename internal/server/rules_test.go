package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/otlpd/otlpd/internal/config"
)

const testRules = `groups:
  - name: shop
    interval: 100ms
    rules:
      - record: service:span_calls:sum
        expr: sum by (service_name) (traces_span_metrics_calls_total)
      - alert: ShopErrors
        expr: sum by (service_name) (traces_span_metrics_calls_total{status_code="STATUS_CODE_ERROR"}) > 2
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.service_name }} had {{ $value }} failed spans"
`

// alertmanager is a fake Alertmanager that records the alerts posted to its API v2.
type alertmanager struct {
	mu     sync.Mutex
	alerts []map[string]any
}

func (am *alertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	var batch []map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	am.mu.Lock()
	am.alerts = append(am.alerts, batch...)
	am.mu.Unlock()
}

func (am *alertmanager) received() []map[string]any {
	am.mu.Lock()
	defer am.mu.Unlock()
	return append([]map[string]any(nil), am.alerts...)
}

// TestRulesAndAlerts evaluates a recording and an alerting rule over the span metrics of spans sent with the
// SDK: the recorded series is queryable, the alert fires (API and a fake Alertmanager), and reloads keep the
// old rules when the file breaks.
func TestRulesAndAlerts(t *testing.T) {
	am := &alertmanager{}
	amSrv := httptest.NewServer(am)
	defer amSrv.Close()
	rulesFile := filepath.Join(t.TempDir(), "shop.rules.yml")
	if err := os.WriteFile(rulesFile, []byte(testRules), 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, Options{}, func(c *config.Config) {
		c.SpanMetrics.Interval = config.Duration(100 * time.Millisecond)
		c.Rules.Files = []string{filepath.Join(filepath.Dir(rulesFile), "*.rules.yml")}
		c.Rules.Alertmanagers = []string{amSrv.URL}
		c.Rules.ExternalURL = "https://otlpd.example"
	})

	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(r.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("shop"))))
	for i := range 10 {
		_, sp := tp.Tracer("t").Start(ctx, "Pay")
		if i < 4 {
			sp.SetStatus(otelcodes.Error, "declined")
		}
		sp.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "the recording rule's series", func() bool {
		v, ok := r.promValue(t, `service:span_calls:sum{service_name="shop"}`)
		return ok && v == 10
	})
	var firing map[string]any
	waitFor(t, "a firing alert in /api/v1/alerts", func() bool {
		_, body := r.get(t, "/api/v1/alerts")
		var resp struct {
			Data struct {
				Alerts []map[string]any `json:"alerts"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &resp) != nil {
			return false
		}
		for _, a := range resp.Data.Alerts {
			if a["state"] == "firing" {
				firing = a
				return true
			}
		}
		return false
	})
	labels, _ := firing["labels"].(map[string]any)
	annotations, _ := firing["annotations"].(map[string]any)
	if labels["alertname"] != "ShopErrors" || labels["severity"] != "page" || labels["service_name"] != "shop" ||
		annotations["summary"] != "shop had 4 failed spans" || firing["value"] != "4" {
		t.Errorf("firing alert %v", firing)
	}
	waitFor(t, "the alert at the Alertmanager", func() bool {
		for _, a := range am.received() {
			l, _ := a["labels"].(map[string]any)
			if l["alertname"] == "ShopErrors" && strings.HasPrefix(a["generatorURL"].(string), "https://otlpd.example/graph?g0.expr=") && a["startsAt"] != nil {
				return true
			}
		}
		return false
	})

	// /api/v1/rules lists both rules, healthy, and filters by type.
	_, body := r.get(t, "/api/v1/rules")
	for _, want := range []string{`"name":"shop"`, `"type":"recording"`, `"type":"alerting"`, `"state":"firing"`, `"health":"ok"`, `"name":"service:span_calls:sum"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/api/v1/rules lacks %s: %s", want, body)
		}
	}
	_, body = r.get(t, "/api/v1/rules?type=record")
	if strings.Contains(string(body), `"type":"alerting"`) || !strings.Contains(string(body), `"type":"recording"`) {
		t.Errorf("/api/v1/rules?type=record: %s", body)
	}
	if code, body := r.get(t, "/api/v1/rules?type=nope"); code != 400 || !strings.Contains(string(body), "bad_data") {
		t.Errorf("/api/v1/rules?type=nope: %d %s", code, body)
	}

	// A broken file on reload: an error naming it, the rules stay.
	if err := os.WriteFile(rulesFile, []byte("groups:\n  - name: shop\n    rules:\n      - alert: Broken\n        expr: sum(\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.ReloadRules(); err == nil || !strings.Contains(err.Error(), rulesFile) {
		t.Errorf("reload of a broken file: %v, want an error naming %s", err, rulesFile)
	}
	if _, body := r.get(t, "/api/v1/rules"); !strings.Contains(string(body), "ShopErrors") {
		t.Error("the rules went after a failed reload")
	}
	// A good file on reload replaces them.
	if err := os.WriteFile(rulesFile, []byte(strings.ReplaceAll(testRules, "ShopErrors", "ShopFailures")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.ReloadRules(); err != nil {
		t.Fatal(err)
	}
	if _, body := r.get(t, "/api/v1/rules"); !strings.Contains(string(body), "ShopFailures") || strings.Contains(string(body), "ShopErrors") {
		t.Errorf("after reload: %s", body)
	}
}

// TestBadRulesFile: otlpd does not start with a rule file it cannot load, and says which and why.
func TestBadRulesFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: rate(foo[5m]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string][]string{"syntax": {bad}, "missing": {filepath.Join(dir, "nope.yml")}} {
		cfg := config.Default()
		cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr, cfg.Storage = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "memory"
		cfg.Rules.Files = files
		srv, err := New(cfg, nil, Options{})
		if err == nil {
			srv.closeAll()
			t.Errorf("%s: New succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), files[0]) {
			t.Errorf("%s: error %q does not name %s", name, err, files[0])
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
