package loadgen

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/otlpd/otlpd/internal/workload"
)

// TestMetricPoolTimes: the pool's points end at the start time, every start timestamp precedes its point,
// and each round moves the points, not their start, by the span the pool covers.
func TestMetricPoolTimes(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, jsonBody := range []bool{false, true} {
		p, err := buildPool(SignalMetrics, jsonBody, 1, 10000, 1, 1, start)
		if err != nil {
			t.Fatal(err)
		}
		if p.shift != workload.MetricInterval || len(p.payloads) != 10 {
			t.Fatalf("json=%v: shift %v, %d requests; want one interval of 10", jsonBody, p.shift, len(p.payloads))
		}
		check := func(round int) {
			t.Helper()
			wantTime := start.Add(time.Duration(round) * p.shift)
			for _, pl := range p.payloads {
				p.advance(pl, round)
				req := pmetricotlp.NewExportRequest()
				if jsonBody {
					err = req.UnmarshalJSON(pl.body)
				} else {
					err = req.UnmarshalProto(pl.body)
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, rm := range req.Metrics().ResourceMetrics().All() {
					for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
						if m.Type() != pmetric.MetricTypeSum {
							continue
						}
						for _, dp := range m.Sum().DataPoints().All() {
							if dp.Timestamp().AsTime() != wantTime || dp.StartTimestamp().AsTime().After(dp.Timestamp().AsTime()) {
								t.Fatalf("json=%v round %d: point at %v (start %v), want at %v", jsonBody, round,
									dp.Timestamp().AsTime(), dp.StartTimestamp().AsTime(), wantTime)
							}
						}
					}
				}
			}
		}
		check(0)
		check(1)
		check(3)
	}
}
