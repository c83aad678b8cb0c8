package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	otlpdstorage "github.com/otlpd/otlpd/internal/storage"
)

// gauges returns one batch with n series of metric name at time t (value i for series i).
func gauges(name string, n int, t time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "svc")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	dps := m.SetEmptyGauge().DataPoints()
	for i := range n {
		p := dps.AppendEmpty()
		p.SetTimestamp(pcommon.NewTimestampFromTime(t))
		p.SetDoubleValue(float64(i))
		p.Attributes().PutInt("i", int64(i))
	}
	return md
}

func count(t *testing.T, s *Store, name string) int {
	t.Helper()
	q, err := s.Queryable().Querier(0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name))
	n := 0
	var it chunkenc.Iterator
	for set.Next() {
		it = set.At().Iterator(it)
		for it.Next() != chunkenc.ValNone {
			n++
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCardinalityGuard(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	s, err := Open(Options{
		Dir:        filepath.Join(t.TempDir(), "metrics"),
		Limits:     Limits{MaxSeries: 30, MaxSeriesPerMetric: 10},
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	ctx := context.Background()

	// 12 series of one metric: 10 fit, 2 are refused, and the refusal is partial.
	err = s.ConsumeMetrics(ctx, gauges("a", 12, now))
	var rej *otlpdstorage.RejectedError
	if !errors.As(err, &rej) || rej.Rejected != 2 || !strings.Contains(rej.Reason, "limit") {
		t.Fatalf("ConsumeMetrics = %v, want a RejectedError for 2 points naming the limit", err)
	}
	if got := count(t, s, "a"); got != 10 {
		t.Errorf("stored %d samples of a, want 10", got)
	}
	// Known series keep being written; the refused ones stay refused.
	err = s.ConsumeMetrics(ctx, gauges("a", 12, now.Add(time.Second)))
	if !errors.As(err, &rej) || rej.Rejected != 2 {
		t.Errorf("second batch: %v, want 2 rejected", err)
	}
	if got := count(t, s, "a"); got != 20 {
		t.Errorf("stored %d samples of a, want 20", got)
	}
	// The total limit: b and c take 10 each, then the store is full (30 with the 10 of a).
	for _, name := range []string{"b", "c"} {
		if err := s.ConsumeMetrics(ctx, gauges(name, 10, now)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	err = s.ConsumeMetrics(ctx, gauges("d", 1, now))
	if !errors.As(err, &rej) || rej.Rejected != 1 {
		t.Errorf("over the total limit: %v, want 1 rejected", err)
	}
	if got := s.Refused("metric_series_limit"); got != 4 {
		t.Errorf("refused (metric_series_limit) = %g, want 4", got)
	}
	if got := s.Refused("series_limit"); got != 1 {
		t.Errorf("refused (series_limit) = %g, want 1", got)
	}
	// Logged once per metric.
	if n := strings.Count(logs.String(), "metric=a "); n != 1 {
		t.Errorf("refusals of a logged %d times, want once:\n%s", n, logs.String())
	}
	// Exposed in otlpd's own metrics.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, mf := range mfs {
		if mf.GetName() == "otlpd_metrics_samples_refused_total" {
			found = true
		}
	}
	if !found {
		t.Error("otlpd_metrics_samples_refused_total is not registered")
	}
}

func TestReopenKeepsDataAndCountsSeries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "metrics")
	now := time.Now()
	s, err := Open(Options{Dir: dir, Limits: Limits{MaxSeriesPerMetric: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ConsumeMetrics(context.Background(), gauges("a", 5, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, otlpdstorage.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	s, err = Open(Options{Dir: dir, Limits: Limits{MaxSeriesPerMetric: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := count(t, s, "a"); got != 5 {
		t.Errorf("after reopening: %d samples, want 5", got)
	}
	// The guard counted the 5 series from the head: a sixth is refused.
	err = s.ConsumeMetrics(context.Background(), gauges("a", 6, now.Add(time.Second)))
	var rej *otlpdstorage.RejectedError
	if !errors.As(err, &rej) || rej.Rejected != 1 {
		t.Errorf("after reopening, a sixth series: %v, want 1 rejected", err)
	}
}

func TestOutOfOrderWindow(t *testing.T) {
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "m"), OutOfOrderWindow: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	ctx := context.Background()
	if err := s.ConsumeMetrics(ctx, gauges("a", 1, now)); err != nil {
		t.Fatal(err)
	}
	// Within the window: stored.
	if err := s.ConsumeMetrics(ctx, gauges("a", 1, now.Add(-5*time.Minute))); err != nil {
		t.Errorf("5 minutes out of order: %v", err)
	}
	// Beyond it: refused, reported as partial.
	err = s.ConsumeMetrics(ctx, gauges("a", 1, now.Add(-time.Hour)))
	var rej *otlpdstorage.RejectedError
	if !errors.As(err, &rej) || rej.Rejected != 1 {
		t.Errorf("an hour out of order: %v, want 1 rejected", err)
	}
	if got := count(t, s, "a"); got != 2 {
		t.Errorf("stored %d samples, want 2", got)
	}
}

func TestDeltaTemporalityStored(t *testing.T) {
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "m")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-time.Minute)
	for i := range 3 {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "svc")
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("jobs")
		sum := m.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		p := sum.DataPoints().AppendEmpty()
		p.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i) * 10 * time.Second)))
		p.SetTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i+1) * 10 * time.Second)))
		p.SetIntValue(5)
		if err := s.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := s.Queryable().Querier(0, time.Now().UnixMilli())
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "jobs_total"))
	var got []float64
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			_, v := it.At()
			got = append(got, v)
		}
	}
	if fmt.Sprint(got) != "[5 10 15]" {
		t.Errorf("jobs_total = %v, want [5 10 15]", got)
	}
}
