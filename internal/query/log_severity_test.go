package query

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestLogHistogramSeverity stores records of random severities and times and checks the histogram's counts
// per severity class against counts made here from the OTLP severity ranges, including records outside the
// range, a filter, and the scan limit.
func TestLogHistogramSeverity(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	q, st := newQuerier(t)
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	// the classes by OTLP's ranges, written out independently of SeverityClass
	class := func(n int) string {
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
	r := TimeRange{Start: base, End: base.Add(20 * time.Minute)}
	const step = time.Minute
	want := map[string][]int64{}
	wantHot := map[string][]int64{} // records with "hot" in the body
	count := func(m map[string][]int64, c string, b int) {
		if m[c] == nil {
			m[c] = make([]int64, 21)
		}
		m[c][b]++
	}
	for i := range 3000 {
		rec := sl.LogRecords().AppendEmpty()
		off := time.Duration(rng.Int64N(int64(25 * time.Minute))) // some after the range
		rec.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(off)))
		n := rng.IntN(27) // 25 and 26 are out of OTLP's range and count as fatal
		rec.SetSeverityNumber(plog.SeverityNumber(n))
		hot := i%3 == 0
		if hot {
			rec.Body().SetStr("hot path")
		} else {
			rec.Body().SetStr("cold path")
		}
		if off > 20*time.Minute {
			continue
		}
		b := int(off / step)
		count(want, class(n), b)
		if hot {
			count(wantHot, class(n), b)
		}
	}
	writeLogs(t, st, ld)
	check := func(name string, h *Histogram, want map[string][]int64) {
		t.Helper()
		if len(h.Severity) != len(want) {
			t.Errorf("%s: classes %d, want %d", name, len(h.Severity), len(want))
		}
		sum := make([]int64, len(h.Counts))
		for c, counts := range want {
			got := h.Severity[c]
			if len(got) != len(counts) {
				t.Errorf("%s: %s has %d buckets, want %d", name, c, len(got), len(counts))
				continue
			}
			var total int64
			for i := range counts {
				if got[i] != counts[i] {
					t.Errorf("%s: %s bucket %d = %d, want %d", name, c, i, got[i], counts[i])
				}
				total += counts[i]
				sum[i] += got[i]
			}
			if h.SeverityTotals[c] != total {
				t.Errorf("%s: total of %s = %d, want %d", name, c, h.SeverityTotals[c], total)
			}
		}
		for i := range sum {
			if sum[i] != h.Counts[i] {
				t.Errorf("%s: bucket %d: classes sum to %d, counts say %d", name, i, sum[i], h.Counts[i])
			}
		}
	}
	ctx := context.Background()
	res, err := q.SearchLogs(ctx, LogSearch{TimeRange: r, Limit: 1, Step: step})
	if err != nil {
		t.Fatal(err)
	}
	check("all", res.Histogram, want)
	res, err = q.SearchLogs(ctx, LogSearch{TimeRange: r, Limit: 1, Step: step, Filter: `body contains "hot"`})
	if err != nil {
		t.Fatal(err)
	}
	check("filtered", res.Histogram, wantHot)

	// with a scan limit the classes still add up to the truncated counts
	q.opts.MaxScanLogs = 100
	res, err = q.SearchLogs(ctx, LogSearch{TimeRange: r, Limit: 1, Step: step})
	if err != nil {
		t.Fatal(err)
	}
	h := res.Histogram
	var total int64
	for _, n := range h.SeverityTotals {
		total += n
	}
	if !h.Truncated || h.Total != 100 || total != 100 {
		t.Errorf("scan limit 100: truncated %v, total %d, classes total %d", h.Truncated, h.Total, total)
	}
}

func TestSeverityClass(t *testing.T) {
	for n, want := range map[plog.SeverityNumber]string{0: "unset", 1: "trace", 4: "trace", 5: "debug", 9: "info", 12: "info",
		13: "warn", 17: "error", 20: "error", 21: "fatal", 24: "fatal", 99: "fatal", -3: "unset"} {
		if got := SeverityClasses[SeverityClass(n)]; got != want {
			t.Errorf("SeverityClass(%d) = %s, want %s", n, got, want)
		}
	}
}
