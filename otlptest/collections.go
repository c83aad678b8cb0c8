package otlptest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Spans is a list of received spans.
type Spans []Span

// Named returns the spans called name.
func (ss Spans) Named(name string) Spans {
	return ss.Where(func(s Span) bool { return s.Name == name })
}

// Where returns the spans for which keep is true.
func (ss Spans) Where(keep func(Span) bool) Spans {
	var out Spans
	for _, s := range ss {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// ByID returns the span with the given hex span ID.
func (ss Spans) ByID(spanID string) (Span, bool) {
	for _, s := range ss {
		if s.SpanID == spanID {
			return s, true
		}
	}
	return Span{}, false
}

// Children returns the direct children of parent.
func (ss Spans) Children(parent Span) Spans {
	return ss.Where(func(s Span) bool { return s.TraceID == parent.TraceID && s.ParentSpanID == parent.SpanID })
}

// One returns the only span called name, failing the test (with a dump of ss) if there are none or several.
func (ss Spans) One(tb testing.TB, name string) Span {
	tb.Helper()
	named := ss.Named(name)
	if len(named) != 1 {
		tb.Fatalf("otlptest: want exactly one span named %q, have %d; received:\n%s", name, len(named), ss)
	}
	return named[0]
}

// String renders the spans as trees, one per trace, with kinds, status, durations and attributes.
func (ss Spans) String() string {
	if len(ss) == 0 {
		return "  (no spans)\n"
	}
	var b strings.Builder
	var traces []string
	byTrace := map[string]Spans{}
	for _, s := range ss {
		if _, ok := byTrace[s.TraceID]; !ok {
			traces = append(traces, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	fmt.Fprintf(&b, "  %s in %s\n", plural(len(ss), "span"), plural(len(traces), "trace"))
	for _, tid := range traces {
		spans := byTrace[tid]
		fmt.Fprintf(&b, "  trace %s\n", tid)
		ids := map[string]bool{}
		for _, s := range spans {
			ids[s.SpanID] = true
		}
		var walk func(s Span, depth int)
		walk = func(s Span, depth int) {
			ind := strings.Repeat("  ", depth+2)
			fmt.Fprintf(&b, "%s%s [%s] span=%s", ind, s.Name, s.Kind, s.SpanID)
			if s.ParentSpanID != "" && !ids[s.ParentSpanID] {
				fmt.Fprintf(&b, " parent=%s (not received)", s.ParentSpanID)
			}
			fmt.Fprintf(&b, " status=%s", s.StatusCode)
			if s.StatusMessage != "" {
				fmt.Fprintf(&b, " %q", s.StatusMessage)
			}
			fmt.Fprintf(&b, " %v service=%s scope=%s\n", s.Duration(), s.Service(), s.Scope.Name)
			if len(s.Attributes) > 0 {
				fmt.Fprintf(&b, "%s    %s\n", ind, formatAttrs(s.Attributes))
			}
			for _, e := range s.Events {
				fmt.Fprintf(&b, "%s    event %s %s\n", ind, e.Name, formatAttrs(e.Attributes))
			}
			for _, l := range s.Links {
				fmt.Fprintf(&b, "%s    link trace=%s span=%s\n", ind, l.TraceID, l.SpanID)
			}
			for _, c := range spans.Children(s) {
				walk(c, depth+1)
			}
		}
		for _, s := range spans {
			if s.ParentSpanID == "" || !ids[s.ParentSpanID] {
				walk(s, 0)
			}
		}
	}
	return b.String()
}

// formatAttrs renders attributes sorted by key: k=v k2="str".
func formatAttrs(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		if s, ok := m[k].(string); ok {
			parts[i] = fmt.Sprintf("%s=%q", k, s)
		} else {
			parts[i] = fmt.Sprintf("%s=%v", k, m[k])
		}
	}
	return strings.Join(parts, " ")
}

// Logs is a list of received log records.
type Logs []LogRecord

// Where returns the records for which keep is true.
func (ls Logs) Where(keep func(LogRecord) bool) Logs {
	var out Logs
	for _, l := range ls {
		if keep(l) {
			out = append(out, l)
		}
	}
	return out
}

// WithBody returns the records whose body is the string body.
func (ls Logs) WithBody(body string) Logs {
	return ls.Where(func(l LogRecord) bool { s, ok := l.Body.(string); return ok && s == body })
}

// One returns the only record whose body is body, failing the test (with a dump) otherwise.
func (ls Logs) One(tb testing.TB, body string) LogRecord {
	tb.Helper()
	got := ls.WithBody(body)
	if len(got) != 1 {
		tb.Fatalf("otlptest: want exactly one log record with body %q, have %d; received:\n%s", body, len(got), ls)
	}
	return got[0]
}

// String renders one record per line.
func (ls Logs) String() string {
	if len(ls) == 0 {
		return "  (no log records)\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s\n", plural(len(ls), "log record"))
	for _, l := range ls {
		fmt.Fprintf(&b, "  %s %s(%d) %q", l.Time.Format("15:04:05.000"), l.SeverityText, l.SeverityNumber, fmt.Sprint(l.Body))
		if l.TraceID != "" {
			fmt.Fprintf(&b, " trace=%s span=%s", l.TraceID, l.SpanID)
		}
		fmt.Fprintf(&b, " service=%v scope=%s", l.Resource["service.name"], l.Scope.Name)
		if len(l.Attributes) > 0 {
			fmt.Fprintf(&b, " %s", formatAttrs(l.Attributes))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Metrics is a list of received metrics, one entry per metric per export.
type Metrics []Metric

// Named returns every export of the metric called name.
func (ms Metrics) Named(name string) Metrics {
	var out Metrics
	for _, m := range ms {
		if m.Name == name {
			out = append(out, m)
		}
	}
	return out
}

// Last returns the latest export of the metric called name.
func (ms Metrics) Last(name string) (Metric, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Name == name {
			return ms[i], true
		}
	}
	return Metric{}, false
}

// Names returns the distinct metric names, sorted.
func (ms Metrics) Names() []string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Point returns the first point whose attributes include every entry of attrs.
func (m Metric) Point(attrs map[string]any) (Point, bool) {
	for _, p := range m.Points {
		if attrsMatch(p.Attributes, attrs) == "" {
			return p, true
		}
	}
	return Point{}, false
}

// String renders the latest export of each metric with its points.
func (ms Metrics) String() string {
	if len(ms) == 0 {
		return "  (no metrics)\n"
	}
	var b strings.Builder
	names := ms.Names()
	fmt.Fprintf(&b, "  %s in %s (latest export of each shown)\n", plural(len(names), "metric"), plural(len(ms), "export entry"))
	for _, n := range names {
		m, _ := ms.Last(n)
		b.WriteString(m.String())
	}
	return b.String()
}

// String renders the metric and its points.
func (m Metric) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %s", m.Name, m.Type)
	if m.Temporality != "" {
		fmt.Fprintf(&b, " %s", m.Temporality)
	}
	if m.Monotonic {
		b.WriteString(" monotonic")
	}
	fmt.Fprintf(&b, " unit=%q scope=%s\n", m.Unit, m.Scope.Name)
	for _, p := range m.Points {
		fmt.Fprintf(&b, "    {%s}", formatAttrs(p.Attributes))
		switch m.Type {
		case "Gauge", "Sum":
			fmt.Fprintf(&b, " value=%v", p.Value())
		default:
			fmt.Fprintf(&b, " count=%d sum=%v", p.Count, p.Sum)
			if len(p.BucketCounts) > 0 {
				fmt.Fprintf(&b, " buckets=%v bounds=%v", p.BucketCounts, p.Bounds)
			}
		}
		if len(p.Exemplars) > 0 {
			fmt.Fprintf(&b, " exemplars=%d", len(p.Exemplars))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
