package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/otlpd/otlpd/internal/config"
)

// TestEngineOTLPMetrics: with the engine, metric batches reach PromQL either way, and the OTLP endpoints
// only with engine.otlp_metrics.
func TestEngineOTLPMetrics(t *testing.T) {
	for _, keep := range []bool{false, true} {
		r := start(t, Options{}, func(c *config.Config) {
			c.Storage, c.DataDir = "engine", t.TempDir()
			c.Engine.OTLPMetrics = keep
		})
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "meter")
		g := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		g.SetName("queue.depth")
		p := g.SetEmptyGauge().DataPoints().AppendEmpty()
		p.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
		p.SetIntValue(42)
		body := mustBytes(pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto())
		if resp, out := r.postOTLP(t, "/v1/metrics", "application/x-protobuf", "", body); resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %s", resp.StatusCode, out)
		}
		waitFor(t, "the point in PromQL", func() bool {
			v, ok := r.promValue(t, `queue_depth{job="meter"}`)
			return ok && v == 42
		})
		code, out := r.get(t, "/api/otlpd/metrics/queue.depth")
		switch {
		case keep && (code != http.StatusOK || !strings.Contains(string(out), `"asInt":"42"`)):
			t.Errorf("otlp_metrics on: %d %s", code, out)
		case !keep && code != http.StatusNotFound:
			t.Errorf("otlp_metrics off: %d %s, want 404 (nothing kept)", code, out)
		}
	}
}
