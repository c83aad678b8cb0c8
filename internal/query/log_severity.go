package query

import "go.opentelemetry.io/collector/pdata/plog"

// SeverityClasses names the groups of OTLP severity numbers the log histogram counts separately: 0 is unset,
// 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal (numbers above 24 count as fatal).
var SeverityClasses = [...]string{"unset", "trace", "debug", "info", "warn", "error", "fatal"}

// SeverityClass returns the index in SeverityClasses of a severity number.
func SeverityClass(n plog.SeverityNumber) int {
	switch {
	case n <= 0:
		return 0
	case n > 24:
		return len(SeverityClasses) - 1
	default:
		return int(n-1)/4 + 1
	}
}

// severityCounts accumulates a histogram's counts per severity class; its size is bounded by the number of
// classes times the number of buckets.
type severityCounts struct {
	buckets int
	counts  [len(SeverityClasses)][]int64
}

func (s *severityCounts) add(n plog.SeverityNumber, bucket int) {
	c := SeverityClass(n)
	if s.counts[c] == nil {
		s.counts[c] = make([]int64, s.buckets)
	}
	s.counts[c][bucket]++
}

// fill sets h.Severity and h.SeverityTotals from the classes that counted at least one record.
func (s *severityCounts) fill(h *Histogram) {
	h.Severity = map[string][]int64{}
	h.SeverityTotals = map[string]int64{}
	for c, counts := range s.counts {
		if counts == nil {
			continue
		}
		var total int64
		for _, n := range counts {
			total += n
		}
		h.Severity[SeverityClasses[c]] = counts
		h.SeverityTotals[SeverityClasses[c]] = total
	}
}
