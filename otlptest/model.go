package otlptest

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Span is a received span, flattened with its resource and scope.
type Span struct {
	TraceID       string // lowercase hex
	SpanID        string
	ParentSpanID  string // empty for a root span
	TraceState    string
	Name          string
	Kind          string // Unspecified, Internal, Server, Client, Producer, Consumer
	Start, End    time.Time
	StatusCode    string // Unset, Ok, Error
	StatusMessage string
	Attributes    map[string]any
	Events        []Event
	Links         []Link
	Resource      map[string]any
	Scope         Scope
}

// Event is a span event.
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]any
}

// Link is a span link.
type Link struct {
	TraceID, SpanID string
	Attributes      map[string]any
}

// Scope is an instrumentation scope.
type Scope struct {
	Name, Version string
	Attributes    map[string]any
}

// Duration is End minus Start.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Service returns the resource's service.name.
func (s Span) Service() string { str, _ := s.Resource["service.name"].(string); return str }

// LogRecord is a received log record, flattened with its resource and scope.
type LogRecord struct {
	Time, ObservedTime time.Time
	SeverityNumber     int32 // 1-24; 9 is INFO, 17 ERROR
	SeverityText       string
	Body               any
	EventName          string
	TraceID, SpanID    string // empty when the record is not correlated
	Attributes         map[string]any
	Resource           map[string]any
	Scope              Scope
}

// Metric is one metric of one export request, flattened with its resource and scope. A periodic reader
// sends the same metric again with every export; Metrics keeps them all in arrival order.
type Metric struct {
	Name, Description, Unit string
	Type                    string // Gauge, Sum, Histogram, ExponentialHistogram, Summary
	Temporality             string // Delta or Cumulative for Sum and histograms, else empty
	Monotonic               bool   // Sum only
	Points                  []Point
	Resource                map[string]any
	Scope                   Scope
}

// Point is a data point. Value holds Gauge and Sum values (int64 or float64 as sent, see IsInt); histogram
// points fill Count, Sum, Bounds and BucketCounts; exponential histograms fill Count, Sum, Scale, ZeroCount.
type Point struct {
	Attributes   map[string]any
	Start, Time  time.Time
	IsInt        bool
	Int          int64
	Double       float64
	Count        uint64
	Sum          float64
	Min, Max     float64
	Bounds       []float64
	BucketCounts []uint64
	Scale        int32
	ZeroCount    uint64
	Exemplars    []Exemplar
}

// Value returns a Gauge or Sum point's value as float64.
func (p Point) Value() float64 {
	if p.IsInt {
		return float64(p.Int)
	}
	return p.Double
}

// Exemplar is a measurement sample linked to a span.
type Exemplar struct {
	TraceID, SpanID    string
	Time               time.Time
	Value              float64
	FilteredAttributes map[string]any
}

func hexOrEmpty(empty bool, s string) string {
	if empty {
		return ""
	}
	return s
}

func scopeOf(s pcommon.InstrumentationScope) Scope {
	return Scope{Name: s.Name(), Version: s.Version(), Attributes: s.Attributes().AsRaw()}
}

func flattenTraces(td ptrace.Traces) []Span {
	var out []Span
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource().Attributes().AsRaw()
		for _, ss := range rs.ScopeSpans().All() {
			scope := scopeOf(ss.Scope())
			for _, s := range ss.Spans().All() {
				sp := Span{
					TraceID:       s.TraceID().String(),
					SpanID:        s.SpanID().String(),
					ParentSpanID:  hexOrEmpty(s.ParentSpanID().IsEmpty(), s.ParentSpanID().String()),
					TraceState:    s.TraceState().AsRaw(),
					Name:          s.Name(),
					Kind:          kindName(s.Kind()),
					Start:         s.StartTimestamp().AsTime(),
					End:           s.EndTimestamp().AsTime(),
					StatusCode:    s.Status().Code().String(),
					StatusMessage: s.Status().Message(),
					Attributes:    s.Attributes().AsRaw(),
					Resource:      res,
					Scope:         scope,
				}
				for _, e := range s.Events().All() {
					sp.Events = append(sp.Events, Event{Name: e.Name(), Time: e.Timestamp().AsTime(), Attributes: e.Attributes().AsRaw()})
				}
				for _, l := range s.Links().All() {
					sp.Links = append(sp.Links, Link{TraceID: l.TraceID().String(), SpanID: l.SpanID().String(), Attributes: l.Attributes().AsRaw()})
				}
				out = append(out, sp)
			}
		}
	}
	return out
}

func kindName(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindInternal:
		return "Internal"
	case ptrace.SpanKindServer:
		return "Server"
	case ptrace.SpanKindClient:
		return "Client"
	case ptrace.SpanKindProducer:
		return "Producer"
	case ptrace.SpanKindConsumer:
		return "Consumer"
	}
	return "Unspecified"
}

func flattenLogs(ld plog.Logs) []LogRecord {
	var out []LogRecord
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes().AsRaw()
		for _, sl := range rl.ScopeLogs().All() {
			scope := scopeOf(sl.Scope())
			for _, l := range sl.LogRecords().All() {
				out = append(out, LogRecord{
					Time:           l.Timestamp().AsTime(),
					ObservedTime:   l.ObservedTimestamp().AsTime(),
					SeverityNumber: int32(l.SeverityNumber()),
					SeverityText:   l.SeverityText(),
					Body:           l.Body().AsRaw(),
					EventName:      l.EventName(),
					TraceID:        hexOrEmpty(l.TraceID().IsEmpty(), l.TraceID().String()),
					SpanID:         hexOrEmpty(l.SpanID().IsEmpty(), l.SpanID().String()),
					Attributes:     l.Attributes().AsRaw(),
					Resource:       res,
					Scope:          scope,
				})
			}
		}
	}
	return out
}

func flattenMetrics(md pmetric.Metrics) []Metric {
	var out []Metric
	for _, rm := range md.ResourceMetrics().All() {
		res := rm.Resource().Attributes().AsRaw()
		for _, sm := range rm.ScopeMetrics().All() {
			scope := scopeOf(sm.Scope())
			for _, m := range sm.Metrics().All() {
				mt := Metric{Name: m.Name(), Description: m.Description(), Unit: m.Unit(), Type: m.Type().String(),
					Resource: res, Scope: scope}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					mt.Points = numberPoints(m.Gauge().DataPoints())
				case pmetric.MetricTypeSum:
					mt.Temporality = m.Sum().AggregationTemporality().String()
					mt.Monotonic = m.Sum().IsMonotonic()
					mt.Points = numberPoints(m.Sum().DataPoints())
				case pmetric.MetricTypeHistogram:
					mt.Temporality = m.Histogram().AggregationTemporality().String()
					for _, p := range m.Histogram().DataPoints().All() {
						mt.Points = append(mt.Points, Point{
							Attributes: p.Attributes().AsRaw(), Start: p.StartTimestamp().AsTime(), Time: p.Timestamp().AsTime(),
							Count: p.Count(), Sum: p.Sum(), Min: p.Min(), Max: p.Max(),
							Bounds: p.ExplicitBounds().AsRaw(), BucketCounts: p.BucketCounts().AsRaw(),
							Exemplars: exemplars(p.Exemplars()),
						})
					}
				case pmetric.MetricTypeExponentialHistogram:
					mt.Temporality = m.ExponentialHistogram().AggregationTemporality().String()
					for _, p := range m.ExponentialHistogram().DataPoints().All() {
						mt.Points = append(mt.Points, Point{
							Attributes: p.Attributes().AsRaw(), Start: p.StartTimestamp().AsTime(), Time: p.Timestamp().AsTime(),
							Count: p.Count(), Sum: p.Sum(), Min: p.Min(), Max: p.Max(), Scale: p.Scale(), ZeroCount: p.ZeroCount(),
							Exemplars: exemplars(p.Exemplars()),
						})
					}
				case pmetric.MetricTypeSummary:
					for _, p := range m.Summary().DataPoints().All() {
						mt.Points = append(mt.Points, Point{
							Attributes: p.Attributes().AsRaw(), Start: p.StartTimestamp().AsTime(), Time: p.Timestamp().AsTime(),
							Count: p.Count(), Sum: p.Sum(),
						})
					}
				}
				out = append(out, mt)
			}
		}
	}
	return out
}

func numberPoints(ps pmetric.NumberDataPointSlice) []Point {
	out := make([]Point, 0, ps.Len())
	for _, p := range ps.All() {
		pt := Point{Attributes: p.Attributes().AsRaw(), Start: p.StartTimestamp().AsTime(), Time: p.Timestamp().AsTime(),
			Exemplars: exemplars(p.Exemplars())}
		if p.ValueType() == pmetric.NumberDataPointValueTypeInt {
			pt.IsInt, pt.Int = true, p.IntValue()
		} else {
			pt.Double = p.DoubleValue()
		}
		out = append(out, pt)
	}
	return out
}

func exemplars(es pmetric.ExemplarSlice) []Exemplar {
	var out []Exemplar
	for _, e := range es.All() {
		ex := Exemplar{
			TraceID:            hexOrEmpty(e.TraceID().IsEmpty(), e.TraceID().String()),
			SpanID:             hexOrEmpty(e.SpanID().IsEmpty(), e.SpanID().String()),
			Time:               e.Timestamp().AsTime(),
			FilteredAttributes: e.FilteredAttributes().AsRaw(),
		}
		if e.ValueType() == pmetric.ExemplarValueTypeInt {
			ex.Value = float64(e.IntValue())
		} else {
			ex.Value = e.DoubleValue()
		}
		out = append(out, ex)
	}
	return out
}
