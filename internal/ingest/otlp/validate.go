package otlp

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// Item validation. Each check names the field and the rule so that the partial-success message tells the
// client what to fix. Rules:
//
//   - span: trace_id 16 bytes and not all zeros; span_id 8 bytes and not all zeros; parent_span_id empty or
//     8 bytes; every link with a valid trace_id and span_id.
//   - log record: trace_id and span_id each either empty or valid.
//   - metric: a type (gauge, sum, histogram, exponential histogram or summary); sums and histograms with an
//     aggregation temporality (0, UNSPECIFIED, must not be used); a number point with a value (as_int or
//     as_double); a histogram point with len(bucket_counts) == len(explicit_bounds)+1 (or both empty) and
//     strictly increasing bounds.
//   - every string or bytes attribute value, at any depth, on the item, its events, links, exemplars, scope
//     and resource, and a string or bytes log body: at most maxAttrBytes bytes.
//
// IDs of the wrong length (or, in JSON, not hex) cannot be held by pdata; the decoder leaves those items out
// and reports them (salvage.go). Empty and all-zero IDs decode, and are checked here.
//
// A bad resource or scope attribute rejects every item under it. A metric that fails a metric-level rule
// rejects all its points; a metric without a type counts as one rejected point, so that the client is told.

const (
	maxProblems      = 3   // problems quoted in a partial-success message
	maxProblemLength = 200 // bytes of one quoted problem
)

// rejections collects the items removed from a request.
type rejections struct {
	count    int64
	problems []string
	more     int // problems not quoted
}

func (r *rejections) add(n int64, where, problem string) {
	r.count += n
	if len(r.problems) == maxProblems {
		r.more++
		return
	}
	p := where + ": " + problem
	if len(p) > maxProblemLength {
		p = p[:maxProblemLength] + "..."
	}
	r.problems = append(r.problems, p)
}

// merge adds the rejections of a writer (storage.RejectedError) to r.
func (r *rejections) merge(n int64, reason string) {
	r.count += n
	if reason == "" {
		return
	}
	if len(r.problems) == maxProblems {
		r.more++
		return
	}
	if len(reason) > maxProblemLength {
		reason = reason[:maxProblemLength] + "..."
	}
	r.problems = append(r.problems, reason)
}

// mergeFrom adds o to r.
func (r *rejections) mergeFrom(o rejections) {
	r.count += o.count
	for _, p := range o.problems {
		if len(r.problems) == maxProblems {
			r.more++
			continue
		}
		r.problems = append(r.problems, p)
	}
	r.more += o.more
}

// message is the English text of a partial success: "rejected 2 of 7 spans: <problem>; <problem> (and 3 more
// problems)". It is empty when nothing was rejected.
func (r *rejections) message(total int64, noun string) string {
	if r.count == 0 && len(r.problems) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rejected %d of %d %s: %s", r.count, total, noun, strings.Join(r.problems, "; "))
	if r.more > 0 {
		fmt.Fprintf(&b, " (and %d more problems)", r.more)
	}
	return b.String()
}

// checkAttrs returns a problem with the first attribute whose value is too large, or "".
func checkAttrs(m pcommon.Map, max int) string {
	var problem string
	m.Range(func(k string, v pcommon.Value) bool {
		if n := oversized(v, max); n > 0 {
			problem = fmt.Sprintf("attribute %q value %d bytes exceeds limit %d", truncate(k, 64), n, max)
			return false
		}
		return true
	})
	return problem
}

// oversized returns the size of the first string or bytes value in v larger than max, or 0.
func oversized(v pcommon.Value, max int) int {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if n := len(v.Str()); n > max {
			return n
		}
	case pcommon.ValueTypeBytes:
		if n := v.Bytes().Len(); n > max {
			return n
		}
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if n := oversized(s.At(i), max); n > 0 {
				return n
			}
		}
	case pcommon.ValueTypeMap:
		var found int
		v.Map().Range(func(_ string, e pcommon.Value) bool {
			found = oversized(e, max)
			return found == 0
		})
		return found
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// resourceProblem and scopeProblem check the attributes shared by every item under a resource and scope.
func resourceProblem(res pcommon.Resource, max int) string {
	if p := checkAttrs(res.Attributes(), max); p != "" {
		return "resource " + p
	}
	return ""
}

func scopeProblem(sc pcommon.InstrumentationScope, max int) string {
	if p := checkAttrs(sc.Attributes(), max); p != "" {
		return "scope " + p
	}
	return ""
}

// validateTraces removes the invalid spans of td (and the resources and scopes left empty) and reports them.
func validateTraces(td ptrace.Traces, maxAttr int) rejections {
	var rej rejections
	ri := -1
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		ri++
		if p := resourceProblem(rs.Resource(), maxAttr); p != "" {
			n := 0
			for i := 0; i < rs.ScopeSpans().Len(); i++ {
				n += rs.ScopeSpans().At(i).Spans().Len()
			}
			rej.add(int64(n), fmt.Sprintf("resource_spans[%d]", ri), p)
			return true
		}
		si := -1
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			si++
			if p := scopeProblem(ss.Scope(), maxAttr); p != "" {
				rej.add(int64(ss.Spans().Len()), fmt.Sprintf("resource_spans[%d].scope_spans[%d]", ri, si), p)
				return true
			}
			i := -1
			ss.Spans().RemoveIf(func(s ptrace.Span) bool {
				i++
				if p := spanProblem(s, maxAttr); p != "" {
					rej.add(1, fmt.Sprintf("resource_spans[%d].scope_spans[%d].spans[%d]", ri, si, i), p)
					return true
				}
				return false
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	return rej
}

func spanProblem(s ptrace.Span, maxAttr int) string {
	if s.TraceID().IsEmpty() {
		return "trace_id must be 16 bytes and not all zeros"
	}
	if s.SpanID().IsEmpty() {
		return "span_id must be 8 bytes and not all zeros"
	}
	// parent_span_id: empty (a root span) or 8 bytes; pdata refuses other lengths when decoding.
	if p := checkAttrs(s.Attributes(), maxAttr); p != "" {
		return "span " + p
	}
	for i := 0; i < s.Events().Len(); i++ {
		if p := checkAttrs(s.Events().At(i).Attributes(), maxAttr); p != "" {
			return fmt.Sprintf("events[%d] %s", i, p)
		}
	}
	for i := 0; i < s.Links().Len(); i++ {
		l := s.Links().At(i)
		if l.TraceID().IsEmpty() || l.SpanID().IsEmpty() {
			return fmt.Sprintf("links[%d] must have a non-zero 16-byte trace_id and 8-byte span_id", i)
		}
		if p := checkAttrs(l.Attributes(), maxAttr); p != "" {
			return fmt.Sprintf("links[%d] %s", i, p)
		}
	}
	return ""
}

// validateLogs removes the invalid log records of ld (and the resources and scopes left empty) and reports
// them.
func validateLogs(ld plog.Logs, maxAttr int) rejections {
	var rej rejections
	ri := -1
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		ri++
		if p := resourceProblem(rl.Resource(), maxAttr); p != "" {
			n := 0
			for i := 0; i < rl.ScopeLogs().Len(); i++ {
				n += rl.ScopeLogs().At(i).LogRecords().Len()
			}
			rej.add(int64(n), fmt.Sprintf("resource_logs[%d]", ri), p)
			return true
		}
		si := -1
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			si++
			if p := scopeProblem(sl.Scope(), maxAttr); p != "" {
				rej.add(int64(sl.LogRecords().Len()), fmt.Sprintf("resource_logs[%d].scope_logs[%d]", ri, si), p)
				return true
			}
			i := -1
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				i++
				if p := logProblem(lr, maxAttr); p != "" {
					rej.add(1, fmt.Sprintf("resource_logs[%d].scope_logs[%d].log_records[%d]", ri, si, i), p)
					return true
				}
				return false
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
	return rej
}

func logProblem(lr plog.LogRecord, maxAttr int) string {
	// An all-zero ID decodes as empty: "not associated with a trace", which is valid. pdata refuses IDs of
	// other lengths when decoding.
	if n := oversized(lr.Body(), maxAttr); n > 0 {
		return fmt.Sprintf("body %d bytes exceeds limit %d", n, maxAttr)
	}
	if p := checkAttrs(lr.Attributes(), maxAttr); p != "" {
		return "log record " + p
	}
	return ""
}

// validateMetrics removes the invalid points and metrics of md (and the resources and scopes left empty) and
// reports them.
func validateMetrics(md pmetric.Metrics, maxAttr int) rejections {
	var rej rejections
	ri := -1
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		ri++
		where := fmt.Sprintf("resource_metrics[%d]", ri)
		if p := resourceProblem(rm.Resource(), maxAttr); p != "" {
			n := 0
			for i := 0; i < rm.ScopeMetrics().Len(); i++ {
				ms := rm.ScopeMetrics().At(i).Metrics()
				for j := 0; j < ms.Len(); j++ {
					n += pointCount(ms.At(j))
				}
			}
			rej.add(int64(n), where, p)
			return true
		}
		si := -1
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			si++
			where := fmt.Sprintf("%s.scope_metrics[%d]", where, si)
			if p := scopeProblem(sm.Scope(), maxAttr); p != "" {
				n := 0
				for j := 0; j < sm.Metrics().Len(); j++ {
					n += pointCount(sm.Metrics().At(j))
				}
				rej.add(int64(n), where, p)
				return true
			}
			mi := -1
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				mi++
				// The location is formatted only when a problem is reported.
				name := func() string { return fmt.Sprintf("%s.metrics[%d] (%q)", where, mi, truncate(m.Name(), 64)) }
				return validateMetric(m, name, maxAttr, &rej)
			})
			return sm.Metrics().Len() == 0
		})
		return rm.ScopeMetrics().Len() == 0
	})
	return rej
}

// pointCount is the number of points of m, and 1 for a metric without a type (the metric is the item).
func pointCount(m pmetric.Metric) int {
	if m.Type() == pmetric.MetricTypeEmpty {
		return 1
	}
	return storage.PointCount(m)
}

// validateMetric removes the invalid points of m and reports whether m itself must go (a metric-level
// problem, or no point left).
func validateMetric(m pmetric.Metric, name func() string, maxAttr int, rej *rejections) bool {
	var temporality pmetric.AggregationTemporality = -1
	switch m.Type() {
	case pmetric.MetricTypeEmpty:
		rej.add(1, name(), "metric has no data (gauge, sum, histogram, exponential_histogram or summary)")
		return true
	case pmetric.MetricTypeSum:
		temporality = m.Sum().AggregationTemporality()
	case pmetric.MetricTypeHistogram:
		temporality = m.Histogram().AggregationTemporality()
	case pmetric.MetricTypeExponentialHistogram:
		temporality = m.ExponentialHistogram().AggregationTemporality()
	}
	if temporality == pmetric.AggregationTemporalityUnspecified {
		rej.add(int64(pointCount(m)), name(), "aggregation_temporality must be DELTA (1) or CUMULATIVE (2), not 0")
		return true
	}
	pointWhere := func(i int) string { return fmt.Sprintf("%s.data_points[%d]", name(), i) }
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		removeNumberPoints(m.Gauge().DataPoints(), pointWhere, maxAttr, rej)
		return m.Gauge().DataPoints().Len() == 0
	case pmetric.MetricTypeSum:
		removeNumberPoints(m.Sum().DataPoints(), pointWhere, maxAttr, rej)
		return m.Sum().DataPoints().Len() == 0
	case pmetric.MetricTypeHistogram:
		i := -1
		m.Histogram().DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool {
			i++
			p := histogramProblem(dp)
			if p == "" {
				p = pointAttrProblem(dp.Attributes(), dp.Exemplars(), maxAttr)
			}
			if p != "" {
				rej.add(1, pointWhere(i), p)
				return true
			}
			return false
		})
		return m.Histogram().DataPoints().Len() == 0
	case pmetric.MetricTypeExponentialHistogram:
		i := -1
		m.ExponentialHistogram().DataPoints().RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool {
			i++
			if p := pointAttrProblem(dp.Attributes(), dp.Exemplars(), maxAttr); p != "" {
				rej.add(1, pointWhere(i), p)
				return true
			}
			return false
		})
		return m.ExponentialHistogram().DataPoints().Len() == 0
	case pmetric.MetricTypeSummary:
		i := -1
		m.Summary().DataPoints().RemoveIf(func(dp pmetric.SummaryDataPoint) bool {
			i++
			if p := checkAttrs(dp.Attributes(), maxAttr); p != "" {
				rej.add(1, pointWhere(i), "point "+p)
				return true
			}
			return false
		})
		return m.Summary().DataPoints().Len() == 0
	}
	return false
}

func removeNumberPoints(dps pmetric.NumberDataPointSlice, where func(int) string, maxAttr int, rej *rejections) {
	i := -1
	dps.RemoveIf(func(dp pmetric.NumberDataPoint) bool {
		i++
		var p string
		if dp.ValueType() == pmetric.NumberDataPointValueTypeEmpty {
			p = "point has no value (neither as_int nor as_double)"
		} else {
			p = pointAttrProblem(dp.Attributes(), dp.Exemplars(), maxAttr)
		}
		if p != "" {
			rej.add(1, where(i), p)
			return true
		}
		return false
	})
}

func histogramProblem(dp pmetric.HistogramDataPoint) string {
	counts, bounds := dp.BucketCounts().Len(), dp.ExplicitBounds().Len()
	if !(counts == 0 && bounds == 0) && counts != bounds+1 {
		return fmt.Sprintf("histogram has %d bucket_counts for %d explicit_bounds, want %d", counts, bounds, bounds+1)
	}
	b := dp.ExplicitBounds()
	for i := 1; i < bounds; i++ {
		if !(b.At(i) > b.At(i-1)) {
			return fmt.Sprintf("explicit_bounds must increase strictly: bound %d (%g) after %g", i, b.At(i), b.At(i-1))
		}
	}
	return ""
}

func pointAttrProblem(attrs pcommon.Map, ex pmetric.ExemplarSlice, maxAttr int) string {
	if p := checkAttrs(attrs, maxAttr); p != "" {
		return "point " + p
	}
	for i := 0; i < ex.Len(); i++ {
		if p := checkAttrs(ex.At(i).FilteredAttributes(), maxAttr); p != "" {
			return fmt.Sprintf("exemplars[%d] %s", i, p)
		}
	}
	return ""
}
