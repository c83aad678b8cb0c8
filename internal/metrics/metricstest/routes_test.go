package metricstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServerRoutes checks what otlpd serve mounts on the UI address for Prometheus clients.
func TestServerRoutes(t *testing.T) {
	h := Start(t)
	// Grafana's health check.
	resp, err := http.PostForm(h.APIURL+"/api/v1/query", url.Values{"query": {"1+1"}, "time": {"4"}, "start": {"1"}, "end": {"4"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}` {
		t.Errorf("health check: %d %s", resp.StatusCode, b)
	}
	// buildinfo without features (a features map makes Grafana treat the backend as Mimir).
	code, body := get(t, h.APIURL+"/api/v1/status/buildinfo")
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &env); code != 200 || err != nil || env.Data["version"] == "" {
		t.Errorf("buildinfo: %d %s", code, body)
	}
	if _, ok := env.Data["features"]; ok {
		t.Errorf("buildinfo has features: %s", body)
	}
	// otlpd's own metrics include the store's counters once something was written.
	if err := h.Store.ConsumeMetrics(t.Context(), round(1, time.Now().Add(-time.Second), time.Now())); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, h.APIURL+"/metrics")
	if code != 200 || !strings.Contains(body, "otlpd_metrics_samples_appended_total") || !strings.Contains(body, "prometheus_tsdb_head_series") {
		t.Errorf("/metrics: %d, missing the metrics store's counters:\n%.500s", code, body)
	}
	code, body = get(t, h.APIURL+"/federate?match[]=queue")
	if code != 200 || !strings.Contains(body, `queue{instance="a",job="checkout"}`) {
		t.Errorf("/federate: %d %s", code, body)
	}
}
