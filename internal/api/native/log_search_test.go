package native

import (
	"net/url"
	"testing"
)

// TestLogSearchSeverityHistogram checks that the histogram of /logs/search carries its counts per severity
// class: testData stores 20 warn records and nothing else.
func TestLogSearchSeverityHistogram(t *testing.T) {
	srv := testData(t)
	var res struct {
		Histogram struct {
			Counts         []int64
			Total          int64
			Severity       map[string][]int64
			SeverityTotals map[string]int64
		}
	}
	if code := getJSON(t, srv, "/api/otlpd/logs/search?histogram=true&limit=1&filter="+url.QueryEscape(`body contains "retrying"`), &res); code != 200 {
		t.Fatalf("status %d", code)
	}
	h := res.Histogram
	if h.Total != 20 || len(h.SeverityTotals) != 1 || h.SeverityTotals["warn"] != 20 {
		t.Fatalf("histogram total %d, per severity %v; want 20 warn", h.Total, h.SeverityTotals)
	}
	warn := h.Severity["warn"]
	if len(warn) != len(h.Counts) {
		t.Fatalf("warn has %d buckets, counts %d", len(warn), len(h.Counts))
	}
	for i := range warn {
		if warn[i] != h.Counts[i] {
			t.Errorf("bucket %d: warn %d, all %d", i, warn[i], h.Counts[i])
		}
	}
	// a filter matching nothing gives empty objects, not null
	var empty struct {
		Histogram struct {
			Severity       map[string][]int64
			SeverityTotals map[string]int64
		}
	}
	if code := getJSON(t, srv, "/api/otlpd/logs/search?histogram=true&filter="+url.QueryEscape(`body contains "no such text"`), &empty); code != 200 ||
		empty.Histogram.Severity == nil || len(empty.Histogram.Severity) != 0 || empty.Histogram.SeverityTotals == nil {
		t.Errorf("empty histogram: %d %+v", code, empty.Histogram)
	}
}
