package metrics

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestUnknownStartReset checks that a cumulative point whose start equals its time adds nothing to the
// series (it is stored with the previous value, and later points with that start are shifted), and that a
// point with a new known start ends the shift; for a counter and for a classic histogram's series.
func TestUnknownStartReset(t *testing.T) {
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "m"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(sec int) pcommon.Timestamp {
		return pcommon.NewTimestampFromTime(t0.Add(time.Duration(sec) * time.Second))
	}
	send := func(start, ts int, v int64) {
		t.Helper()
		md := pmetric.NewMetrics()
		ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
		c := ms.AppendEmpty()
		c.SetName("jobs")
		sum := c.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		p := sum.DataPoints().AppendEmpty()
		p.SetStartTimestamp(at(start))
		p.SetTimestamp(at(ts))
		p.SetIntValue(v)
		h := ms.AppendEmpty()
		h.SetName("lat")
		hh := h.SetEmptyHistogram()
		hh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		q := hh.DataPoints().AppendEmpty()
		q.SetStartTimestamp(at(start))
		q.SetTimestamp(at(ts))
		q.ExplicitBounds().FromRaw([]float64{1})
		q.BucketCounts().FromRaw([]uint64{uint64(v), 0})
		q.SetCount(uint64(v))
		q.SetSum(float64(v))
		if err := s.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	send(10, 10, 3)  // first point, unknown start: stored as is
	send(10, 20, 10) // continues
	send(10, 30, 20)
	send(40, 40, 5) // unknown-start reset: no increase, stored as 20
	send(40, 50, 8) // +3 since the reset: 23
	send(55, 60, 2) // a reset with a known start: PromQL counts it from zero, no shift
	send(55, 70, 4)
	want := "[3 10 20 20 23 2 4]"
	for _, name := range []string{"jobs_total", "lat_count", "lat_sum"} {
		if got := values(t, s, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name)); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if got := values(t, s, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "lat_bucket"),
		labels.MustNewMatcher(labels.MatchEqual, labels.BucketLabel, "1")); got != want {
		t.Errorf("lat_bucket{le=1} = %s, want %s", got, want)
	}
}

func values(t *testing.T, s *Store, ms ...*labels.Matcher) string {
	t.Helper()
	q, err := s.Queryable().Querier(0, time.Now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), false, nil, ms...)
	var got []float64
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			_, v := it.At()
			got = append(got, v)
		}
	}
	return fmt.Sprint(got)
}
