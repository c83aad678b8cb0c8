package metrics

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	otlpdstorage "github.com/otlpd/otlpd/internal/storage"
)

// TestGuardDefaultsAdmitReferenceWorkload feeds the default guard the Prometheus series of the reference
// workload (100 resource groups; per group 400 counters, 200 explicit histograms with 15 bounds = 18 series
// each, 100 exponential histograms, 300 gauges, one target_info) and checks every one is admitted, then
// that the per-metric and the total limits still refuse.
func TestGuardDefaultsAdmitReferenceWorkload(t *testing.T) {
	g := newGuard(Limits{MaxSeries: DefaultMaxSeries, MaxSeriesPerMetric: DefaultMaxSeriesPerMetric}, func() int64 { return 0 })
	var h uint64
	admit := func(family string) string {
		h++
		_, reason, _ := g.admit(family, h, 1)
		return reason
	}
	perGroup := map[string]int{"http_server_request_count_total": 400, "http_server_request_duration_milliseconds": 200 * 18,
		"rpc_server_duration_milliseconds": 100, "http_server_active_requests": 200, "system_cpu_utilization_ratio": 100, "target_info": 1}
	for range 100 {
		for fam, n := range perGroup {
			for range n {
				if r := admit(fam); r != "" {
					t.Fatalf("reference workload: series %d of %s refused (%s)", g.len()+1, fam, r)
				}
			}
		}
	}
	if n := g.len(); n != 440_100 {
		t.Fatalf("counted %d series, want 440,100", n)
	}
	// One histogram metric grows past the per-metric limit (360,000 series so far).
	refused := ""
	for range DefaultMaxSeriesPerMetric - 360_000 + 1 {
		refused = admit("http_server_request_duration_milliseconds")
	}
	if refused != "metric_series_limit" {
		t.Fatalf("series %d of one metric: refusal %q, want metric_series_limit", DefaultMaxSeriesPerMetric+1, refused)
	}
	// Other metrics fill the total.
	for i := 0; refused != "series_limit"; i++ {
		if i > DefaultMaxSeries {
			t.Fatal("the total limit never refused")
		}
		refused = admit(fmt.Sprintf("m%d", i/1000))
	}
	if n := g.len(); n != DefaultMaxSeries {
		t.Errorf("full at %d series, want %d", n, DefaultMaxSeries)
	}
}

func TestFamilyOf(t *testing.T) {
	for _, c := range []struct {
		ls   labels.Labels
		want string
	}{
		{labels.FromStrings("__name__", "d_seconds_bucket", "le", "1"), "d_seconds"},
		{labels.FromStrings("__name__", "d_seconds_count"), "d_seconds"},
		{labels.FromStrings("__name__", "d_seconds_sum"), "d_seconds"},
		{labels.FromStrings("__name__", "x_bucket"), "x_bucket"}, // no le: not a histogram bucket
		{labels.FromStrings("__name__", "requests_total"), "requests_total"},
		{labels.FromStrings("__name__", "_count"), "_count"},
	} {
		if got := familyOf(c.ls); got != c.want {
			t.Errorf("familyOf(%s) = %q, want %q", c.ls, got, c.want)
		}
	}
}

// TestGuardCountsHistogramFamily checks through the store that a histogram metric's _bucket, _count and _sum
// series count against one per-metric limit: 10 OTLP series with 3 bounds are 60 Prometheus series.
func TestGuardCountsHistogramFamily(t *testing.T) {
	hist := func(n int, ts time.Time) pmetric.Metrics {
		md := pmetric.NewMetrics()
		m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("lat")
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for i := range n {
			p := h.DataPoints().AppendEmpty()
			p.SetStartTimestamp(pcommon.NewTimestampFromTime(ts.Add(-time.Minute)))
			p.SetTimestamp(pcommon.NewTimestampFromTime(ts))
			p.ExplicitBounds().FromRaw([]float64{1, 2, 3})
			p.BucketCounts().FromRaw([]uint64{1, 1, 1, 1})
			p.SetCount(4)
			p.SetSum(6)
			p.Attributes().PutInt("i", int64(i))
		}
		return md
	}
	now := time.Now()
	// Admission: exactly 60 fit.
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "m"), Limits: Limits{MaxSeriesPerMetric: 60}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ConsumeMetrics(context.Background(), hist(10, now)); err != nil {
		t.Errorf("10 histogram series (60 Prometheus series) with a limit of 60: %v", err)
	}
	if n := s.guard.perMetric["lat"]; n != 60 {
		t.Errorf("family lat counted %d series, want 60", n)
	}
	s.Close()
	// Refusal: an 11th OTLP series passes the limit.
	s, err = Open(Options{Dir: filepath.Join(t.TempDir(), "m"), Limits: Limits{MaxSeriesPerMetric: 60}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.ConsumeMetrics(context.Background(), hist(11, now))
	var rej *otlpdstorage.RejectedError
	// The guard refuses in Prometheus samples: the 6 series of the 11th OTLP series.
	if !errors.As(err, &rej) || rej.Rejected != 6 {
		t.Errorf("11 histogram series with a limit of 60: %v, want 6 rejected", err)
	}
}
