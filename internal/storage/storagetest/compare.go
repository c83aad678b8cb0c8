package storagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata/entity"
)

// The comparisons below flatten every item (a span, a log record, a metric data point) together with its
// resource and scope into sorted "path = value" lines, so that two batches compare equal when they hold the
// same items with the same fields, however the items are grouped into resources and scopes and in whatever
// order they come. Attribute maps compare by key, whatever their order; slices (array values, events, links,
// buckets, exemplars) compare in order.

// item is one flattened span, record or point: key pairs items of want and got.
type item struct {
	key   string
	lines []string
}

// EqualTraces reports, through t.Errorf, every difference between the spans of want and got.
func EqualTraces(t testing.TB, want, got ptrace.Traces) bool {
	t.Helper()
	if d := DiffTraces(want, got); d != "" {
		t.Errorf("spans differ (-want +got):\n%s", d)
		return false
	}
	return true
}

// EqualLogs reports, through t.Errorf, every difference between the log records of want and got.
func EqualLogs(t testing.TB, want, got plog.Logs) bool {
	t.Helper()
	if d := DiffLogs(want, got); d != "" {
		t.Errorf("log records differ (-want +got):\n%s", d)
		return false
	}
	return true
}

// EqualMetrics reports, through t.Errorf, every difference between the data points of want and got.
func EqualMetrics(t testing.TB, want, got pmetric.Metrics) bool {
	t.Helper()
	if d := DiffMetrics(want, got); d != "" {
		t.Errorf("metric points differ (-want +got):\n%s", d)
		return false
	}
	return true
}

// DiffTraces returns a readable difference between the spans of want and got, or "" when they are equal.
func DiffTraces(want, got ptrace.Traces) string { return diffItems(traceItems(want), traceItems(got)) }

// DiffLogs returns a readable difference between the log records of want and got, or "" when they are equal.
func DiffLogs(want, got plog.Logs) string { return diffItems(logItems(want), logItems(got)) }

// DiffMetrics returns a readable difference between the points of want and got, or "" when they are equal.
func DiffMetrics(want, got pmetric.Metrics) string {
	return diffItems(metricItems(want), metricItems(got))
}

// SpanLines returns the flattened form of every span of td (with its resource and scope), one string per
// span, sorted. Tests use it to compare or print spans.
func SpanLines(td ptrace.Traces) []string { return joinItems(traceItems(td)) }

// LogLines is SpanLines for log records.
func LogLines(ld plog.Logs) []string { return joinItems(logItems(ld)) }

// MetricLines is SpanLines for metric data points.
func MetricLines(md pmetric.Metrics) []string { return joinItems(metricItems(md)) }

func joinItems(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = strings.Join(it.lines, "\n")
	}
	sort.Strings(out)
	return out
}

const maxDiffItems = 10

func diffItems(want, got []item) string {
	// Items with the same key pair up in the order of their full text.
	group := func(items []item) map[string][][]string {
		type joined struct {
			text  string
			lines []string
		}
		byKey := make(map[string][]joined)
		for _, it := range items {
			byKey[it.key] = append(byKey[it.key], joined{strings.Join(it.lines, "\n"), it.lines})
		}
		m := make(map[string][][]string, len(byKey))
		for k, v := range byKey {
			slices.SortFunc(v, func(a, b joined) int { return strings.Compare(a.text, b.text) })
			for _, j := range v {
				m[k] = append(m[k], j.lines)
			}
		}
		return m
	}
	w, g := group(want), group(got)
	keys := make(map[string]bool)
	for k := range w {
		keys[k] = true
	}
	for k := range g {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	var b strings.Builder
	shown := 0
	for _, k := range sorted {
		ws, gs := w[k], g[k]
		for i := range max(len(ws), len(gs)) {
			var d string
			switch {
			case i >= len(gs):
				d = fmt.Sprintf("missing %s:\n%s", k, indent("- ", ws[i]))
			case i >= len(ws):
				d = fmt.Sprintf("unexpected %s:\n%s", k, indent("+ ", gs[i]))
			default:
				d = lineDiff(ws[i], gs[i])
				if d != "" {
					d = fmt.Sprintf("%s:\n%s", k, d)
				}
			}
			if d == "" {
				continue
			}
			shown++
			if shown <= maxDiffItems {
				b.WriteString(d)
			}
		}
	}
	if shown > maxDiffItems {
		fmt.Fprintf(&b, "... and %d more differing items\n", shown-maxDiffItems)
	}
	if shown > 0 {
		fmt.Fprintf(&b, "(want %d items, got %d)\n", len(want), len(got))
	}
	return b.String()
}

func indent(prefix string, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    ")
		b.WriteString(prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// lineDiff lists the lines only in want (-) and only in got (+). Both are sorted.
func lineDiff(want, got []string) string {
	var b strings.Builder
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j >= len(got) || (i < len(want) && want[i] < got[j]):
			b.WriteString("    - " + want[i] + "\n")
			i++
		case i >= len(want) || got[j] < want[i]:
			b.WriteString("    + " + got[j] + "\n")
			j++
		default:
			i++
			j++
		}
	}
	return b.String()
}

// lines accumulates "path = value" lines.
type lines []string

func (l *lines) add(path string, format string, args ...any) {
	*l = append(*l, path+" = "+fmt.Sprintf(format, args...))
}

func (l *lines) value(path string, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		l.add(path, "empty")
	case pcommon.ValueTypeStr:
		l.add(path, "str %s", longString(v.Str()))
	case pcommon.ValueTypeBool:
		l.add(path, "bool %t", v.Bool())
	case pcommon.ValueTypeInt:
		l.add(path, "int %d", v.Int())
	case pcommon.ValueTypeDouble:
		l.add(path, "double %s", float(v.Double()))
	case pcommon.ValueTypeBytes:
		if b := v.Bytes().AsRaw(); len(b) > maxInline {
			l.add(path, "bytes len %d sha256 %x first %s", len(b), sha256.Sum256(b), hex.EncodeToString(b[:32]))
		} else {
			l.add(path, "bytes %s", hex.EncodeToString(b))
		}
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		l.add(path, "array len %d", s.Len())
		for i := range s.Len() {
			l.value(fmt.Sprintf("%s[%d]", path, i), s.At(i))
		}
	case pcommon.ValueTypeMap:
		l.add(path, "map len %d", v.Map().Len())
		l.attrs(path, v.Map())
	default:
		l.add(path, "unknown value type %d", v.Type())
	}
}

// maxInline is the length above which a string or bytes value is shown by its length, hash and start.
const maxInline = 256

func longString(s string) string {
	if len(s) <= maxInline {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("len %d sha256 %x first %q", len(s), sha256.Sum256([]byte(s)), s[:64])
}

func (l *lines) attrs(path string, m pcommon.Map) {
	for k, v := range m.All() {
		l.value(fmt.Sprintf("%s{%q}", path, k), v)
	}
}

func (l *lines) resource(schemaURL string, r pcommon.Resource) {
	l.add("resource.schema_url", "%q", schemaURL)
	l.add("resource.dropped_attributes_count", "%d", r.DroppedAttributesCount())
	l.add("resource.attributes", "len %d", r.Attributes().Len())
	l.attrs("resource.attributes", r.Attributes())
	refs := entity.ResourceEntityRefs(r)
	l.add("resource.entity_refs", "len %d", refs.Len())
	for i, ref := range refs.All() {
		p := fmt.Sprintf("resource.entity_refs[%d]", i)
		l.add(p+".schema_url", "%q", ref.SchemaUrl())
		l.add(p+".type", "%q", ref.Type())
		l.add(p+".id_keys", "%q", ref.IdKeys().AsRaw())
		l.add(p+".description_keys", "%q", ref.DescriptionKeys().AsRaw())
	}
}

func (l *lines) scope(schemaURL string, s pcommon.InstrumentationScope) {
	l.add("scope.schema_url", "%q", schemaURL)
	l.add("scope.name", "%q", s.Name())
	l.add("scope.version", "%q", s.Version())
	l.add("scope.dropped_attributes_count", "%d", s.DroppedAttributesCount())
	l.add("scope.attributes", "len %d", s.Attributes().Len())
	l.attrs("scope.attributes", s.Attributes())
}

func float(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if f == 0 && math.Signbit(f) {
		return "-0"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func floats(s pcommon.Float64Slice) string {
	parts := make([]string, s.Len())
	for i := range s.Len() {
		parts[i] = float(s.At(i))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func traceItems(td ptrace.Traces) []item {
	var out []item
	for _, rs := range td.ResourceSpans().All() {
		var rl lines
		rl.resource(rs.SchemaUrl(), rs.Resource())
		for _, ss := range rs.ScopeSpans().All() {
			head := slices.Clone(rl)
			head.scope(ss.SchemaUrl(), ss.Scope())
			for _, sp := range ss.Spans().All() {
				l := slices.Clone(head)
				spanLines(&l, sp)
				sort.Strings(l)
				out = append(out, item{key: "span " + sp.TraceID().String() + "/" + sp.SpanID().String(), lines: l})
			}
		}
	}
	return out
}

func spanLines(l *lines, sp ptrace.Span) {
	l.add("span.trace_id", "%s", sp.TraceID())
	l.add("span.span_id", "%s", sp.SpanID())
	l.add("span.parent_span_id", "%s", sp.ParentSpanID())
	l.add("span.trace_state", "%q", sp.TraceState().AsRaw())
	l.add("span.flags", "%#x", sp.Flags())
	l.add("span.name", "%q", sp.Name())
	l.add("span.kind", "%s", sp.Kind())
	l.add("span.start_time_unix_nano", "%d", sp.StartTimestamp())
	l.add("span.end_time_unix_nano", "%d", sp.EndTimestamp())
	l.add("span.attributes", "len %d", sp.Attributes().Len())
	l.attrs("span.attributes", sp.Attributes())
	l.add("span.dropped_attributes_count", "%d", sp.DroppedAttributesCount())
	l.add("span.events", "len %d", sp.Events().Len())
	for i, ev := range sp.Events().All() {
		p := fmt.Sprintf("span.events[%d]", i)
		l.add(p+".time_unix_nano", "%d", ev.Timestamp())
		l.add(p+".name", "%q", ev.Name())
		l.add(p+".attributes", "len %d", ev.Attributes().Len())
		l.attrs(p+".attributes", ev.Attributes())
		l.add(p+".dropped_attributes_count", "%d", ev.DroppedAttributesCount())
	}
	l.add("span.dropped_events_count", "%d", sp.DroppedEventsCount())
	l.add("span.links", "len %d", sp.Links().Len())
	for i, ln := range sp.Links().All() {
		p := fmt.Sprintf("span.links[%d]", i)
		l.add(p+".trace_id", "%s", ln.TraceID())
		l.add(p+".span_id", "%s", ln.SpanID())
		l.add(p+".trace_state", "%q", ln.TraceState().AsRaw())
		l.add(p+".flags", "%#x", ln.Flags())
		l.add(p+".attributes", "len %d", ln.Attributes().Len())
		l.attrs(p+".attributes", ln.Attributes())
		l.add(p+".dropped_attributes_count", "%d", ln.DroppedAttributesCount())
	}
	l.add("span.dropped_links_count", "%d", sp.DroppedLinksCount())
	l.add("span.status.code", "%s", sp.Status().Code())
	l.add("span.status.message", "%q", sp.Status().Message())
}

func logItems(ld plog.Logs) []item {
	var out []item
	for _, rl := range ld.ResourceLogs().All() {
		var res lines
		res.resource(rl.SchemaUrl(), rl.Resource())
		for _, sl := range rl.ScopeLogs().All() {
			head := slices.Clone(res)
			head.scope(sl.SchemaUrl(), sl.Scope())
			for _, rec := range sl.LogRecords().All() {
				l := slices.Clone(head)
				l.add("log.time_unix_nano", "%d", rec.Timestamp())
				l.add("log.observed_time_unix_nano", "%d", rec.ObservedTimestamp())
				l.add("log.severity_number", "%d", rec.SeverityNumber())
				l.add("log.severity_text", "%q", rec.SeverityText())
				l.value("log.body", rec.Body())
				l.add("log.attributes", "len %d", rec.Attributes().Len())
				l.attrs("log.attributes", rec.Attributes())
				l.add("log.dropped_attributes_count", "%d", rec.DroppedAttributesCount())
				l.add("log.flags", "%#x", uint32(rec.Flags()))
				l.add("log.trace_id", "%s", rec.TraceID())
				l.add("log.span_id", "%s", rec.SpanID())
				l.add("log.event_name", "%q", rec.EventName())
				sort.Strings(l)
				key := fmt.Sprintf("log time=%d observed=%d trace=%s span=%s", rec.Timestamp(), rec.ObservedTimestamp(), rec.TraceID(), rec.SpanID())
				out = append(out, item{key: key, lines: l})
			}
		}
	}
	return out
}

func metricItems(md pmetric.Metrics) []item {
	var out []item
	for _, rm := range md.ResourceMetrics().All() {
		var res lines
		res.resource(rm.SchemaUrl(), rm.Resource())
		for _, sm := range rm.ScopeMetrics().All() {
			scope := slices.Clone(res)
			scope.scope(sm.SchemaUrl(), sm.Scope())
			for _, m := range sm.Metrics().All() {
				header := func() lines {
					l := slices.Clone(scope)
					l.add("metric.name", "%q", m.Name())
					l.add("metric.description", "%q", m.Description())
					l.add("metric.unit", "%q", m.Unit())
					l.add("metric.type", "%s", m.Type())
					l.add("metric.metadata", "len %d", m.Metadata().Len())
					l.attrs("metric.metadata", m.Metadata())
					return l
				}
				emit := func(l lines, start, ts pcommon.Timestamp, attrs pcommon.Map) {
					sort.Strings(l)
					var a lines
					a.attrs("", attrs)
					sort.Strings(a)
					key := fmt.Sprintf("point %q %s time=%d start=%d attrs=%s", m.Name(), m.Type(), ts, start, strings.Join(a, ","))
					out = append(out, item{key: key, lines: l})
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						l := header()
						numberPoint(&l, "point", dp)
						emit(l, dp.StartTimestamp(), dp.Timestamp(), dp.Attributes())
					}
				case pmetric.MetricTypeSum:
					s := m.Sum()
					for _, dp := range s.DataPoints().All() {
						l := header()
						l.add("sum.aggregation_temporality", "%s", s.AggregationTemporality())
						l.add("sum.is_monotonic", "%t", s.IsMonotonic())
						numberPoint(&l, "point", dp)
						emit(l, dp.StartTimestamp(), dp.Timestamp(), dp.Attributes())
					}
				case pmetric.MetricTypeHistogram:
					h := m.Histogram()
					for _, dp := range h.DataPoints().All() {
						l := header()
						l.add("histogram.aggregation_temporality", "%s", h.AggregationTemporality())
						pointCommon(&l, "point", dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), uint32(dp.Flags()), dp.Exemplars())
						l.add("point.count", "%d", dp.Count())
						optFloat(&l, "point.sum", dp.HasSum(), dp.Sum())
						optFloat(&l, "point.min", dp.HasMin(), dp.Min())
						optFloat(&l, "point.max", dp.HasMax(), dp.Max())
						l.add("point.bucket_counts", "%v", dp.BucketCounts().AsRaw())
						l.add("point.explicit_bounds", "%s", floats(dp.ExplicitBounds()))
						emit(l, dp.StartTimestamp(), dp.Timestamp(), dp.Attributes())
					}
				case pmetric.MetricTypeExponentialHistogram:
					h := m.ExponentialHistogram()
					for _, dp := range h.DataPoints().All() {
						l := header()
						l.add("exponential_histogram.aggregation_temporality", "%s", h.AggregationTemporality())
						pointCommon(&l, "point", dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), uint32(dp.Flags()), dp.Exemplars())
						l.add("point.count", "%d", dp.Count())
						optFloat(&l, "point.sum", dp.HasSum(), dp.Sum())
						optFloat(&l, "point.min", dp.HasMin(), dp.Min())
						optFloat(&l, "point.max", dp.HasMax(), dp.Max())
						l.add("point.scale", "%d", dp.Scale())
						l.add("point.zero_count", "%d", dp.ZeroCount())
						l.add("point.zero_threshold", "%s", float(dp.ZeroThreshold()))
						l.add("point.positive.offset", "%d", dp.Positive().Offset())
						l.add("point.positive.bucket_counts", "%v", dp.Positive().BucketCounts().AsRaw())
						l.add("point.negative.offset", "%d", dp.Negative().Offset())
						l.add("point.negative.bucket_counts", "%v", dp.Negative().BucketCounts().AsRaw())
						emit(l, dp.StartTimestamp(), dp.Timestamp(), dp.Attributes())
					}
				case pmetric.MetricTypeSummary:
					for _, dp := range m.Summary().DataPoints().All() {
						l := header()
						pointCommon(&l, "point", dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), uint32(dp.Flags()), pmetric.NewExemplarSlice())
						l.add("point.count", "%d", dp.Count())
						l.add("point.sum", "%s", float(dp.Sum()))
						l.add("point.quantile_values", "len %d", dp.QuantileValues().Len())
						for i, q := range dp.QuantileValues().All() {
							l.add(fmt.Sprintf("point.quantile_values[%d]", i), "quantile %s value %s", float(q.Quantile()), float(q.Value()))
						}
						emit(l, dp.StartTimestamp(), dp.Timestamp(), dp.Attributes())
					}
				default:
					var l lines = header()
					sort.Strings(l)
					out = append(out, item{key: fmt.Sprintf("metric %q without data", m.Name()), lines: l})
				}
			}
		}
	}
	return out
}

func optFloat(l *lines, path string, has bool, v float64) {
	if has {
		l.add(path, "%s", float(v))
	} else {
		l.add(path, "unset")
	}
}

func pointCommon(l *lines, p string, attrs pcommon.Map, start, ts pcommon.Timestamp, flags uint32, exemplars pmetric.ExemplarSlice) {
	l.add(p+".attributes", "len %d", attrs.Len())
	l.attrs(p+".attributes", attrs)
	l.add(p+".start_time_unix_nano", "%d", start)
	l.add(p+".time_unix_nano", "%d", ts)
	l.add(p+".flags", "%#x", flags)
	l.add(p+".exemplars", "len %d", exemplars.Len())
	for i, ex := range exemplars.All() {
		e := fmt.Sprintf("%s.exemplars[%d]", p, i)
		l.add(e+".filtered_attributes", "len %d", ex.FilteredAttributes().Len())
		l.attrs(e+".filtered_attributes", ex.FilteredAttributes())
		l.add(e+".time_unix_nano", "%d", ex.Timestamp())
		switch ex.ValueType() {
		case pmetric.ExemplarValueTypeInt:
			l.add(e+".value", "int %d", ex.IntValue())
		case pmetric.ExemplarValueTypeDouble:
			l.add(e+".value", "double %s", float(ex.DoubleValue()))
		default:
			l.add(e+".value", "empty")
		}
		l.add(e+".trace_id", "%s", ex.TraceID())
		l.add(e+".span_id", "%s", ex.SpanID())
	}
}

func numberPoint(l *lines, p string, dp pmetric.NumberDataPoint) {
	pointCommon(l, p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), uint32(dp.Flags()), dp.Exemplars())
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		l.add(p+".value", "int %d", dp.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		l.add(p+".value", "double %s", float(dp.DoubleValue()))
	default:
		l.add(p+".value", "empty")
	}
}

// CollectTraces merges the pages of seq into one ptrace.Traces, stopping at the first error.
func CollectTraces(seq iter.Seq2[ptrace.Traces, error]) (ptrace.Traces, error) {
	out := ptrace.NewTraces()
	for page, err := range seq {
		if err != nil {
			return out, err
		}
		page.ResourceSpans().MoveAndAppendTo(out.ResourceSpans())
	}
	return out, nil
}

// CollectLogs merges the pages of seq into one plog.Logs, stopping at the first error.
func CollectLogs(seq iter.Seq2[plog.Logs, error]) (plog.Logs, error) {
	out := plog.NewLogs()
	for page, err := range seq {
		if err != nil {
			return out, err
		}
		page.ResourceLogs().MoveAndAppendTo(out.ResourceLogs())
	}
	return out, nil
}

// CollectMetrics merges the pages of seq into one pmetric.Metrics, stopping at the first error.
func CollectMetrics(seq iter.Seq2[pmetric.Metrics, error]) (pmetric.Metrics, error) {
	out := pmetric.NewMetrics()
	for page, err := range seq {
		if err != nil {
			return out, err
		}
		page.ResourceMetrics().MoveAndAppendTo(out.ResourceMetrics())
	}
	return out, nil
}
