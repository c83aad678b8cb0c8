package tail

import (
	"encoding/hex"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Item kinds, in Item.Signal.
const (
	KindSpan      = "span"
	KindLog       = "log"
	KindMetric    = "metric"
	KindHeartbeat = "heartbeat"
)

// Item is one span, log record or metric point as the stream carries it, flattened and self-contained.
type Item struct {
	Signal  string    `json:"signal"`
	Time    time.Time `json:"time,omitzero"`
	Service string    `json:"service,omitempty"`

	TraceID      string `json:"trace_id,omitempty"`
	SpanID       string `json:"span_id,omitempty"`
	ParentSpanID string `json:"parent_span_id,omitempty"`
	// Name is the span name or the metric name.
	Name          string `json:"name,omitempty"`
	Kind          string `json:"kind,omitempty"` // span kind: SERVER, CLIENT, ...
	DurationNanos int64  `json:"duration_ns,omitempty"`
	Status        string `json:"status,omitempty"` // span status: OK, ERROR (UNSET is left out)
	StatusMessage string `json:"status_message,omitempty"`
	Events        int    `json:"events,omitempty"`

	Severity       string `json:"severity,omitempty"`
	SeverityNumber int32  `json:"severity_number,omitempty"`
	Body           any    `json:"body,omitempty"`

	MetricType string   `json:"metric_type,omitempty"` // gauge, sum, histogram, exponential_histogram, summary
	Value      *float64 `json:"value,omitempty"`       // gauge and sum
	Count      uint64   `json:"count,omitempty"`       // histograms and summaries
	Sum        *float64 `json:"sum,omitempty"`

	Attributes map[string]any `json:"attributes,omitempty"`
	Resource   map[string]any `json:"resource,omitempty"`

	// Dropped, on heartbeats, is how many items this stream has lost to a full buffer so far.
	Dropped int64 `json:"dropped,omitempty"`
}

func serviceOf(res pcommon.Resource) string {
	if v, ok := res.Attributes().Get("service.name"); ok {
		return v.AsString()
	}
	return ""
}

func idString(b []byte) string {
	for _, c := range b {
		if c != 0 {
			return hex.EncodeToString(b)
		}
	}
	return ""
}

func rawOrNil(m pcommon.Map) map[string]any {
	if m.Len() == 0 {
		return nil
	}
	return m.AsRaw()
}

var kindNames = map[ptrace.SpanKind]string{
	ptrace.SpanKindServer: "SERVER", ptrace.SpanKindClient: "CLIENT", ptrace.SpanKindInternal: "INTERNAL",
	ptrace.SpanKindProducer: "PRODUCER", ptrace.SpanKindConsumer: "CONSUMER",
}

func spanItem(res pcommon.Resource, sp ptrace.Span) Item {
	tid, sid, pid := sp.TraceID(), sp.SpanID(), sp.ParentSpanID()
	it := Item{
		Signal: KindSpan, Time: sp.StartTimestamp().AsTime().UTC(), Service: serviceOf(res),
		TraceID: idString(tid[:]), SpanID: idString(sid[:]), ParentSpanID: idString(pid[:]),
		Name: sp.Name(), Kind: kindNames[sp.Kind()], Events: sp.Events().Len(),
		Attributes: rawOrNil(sp.Attributes()), Resource: rawOrNil(res.Attributes()),
	}
	if sp.EndTimestamp() > sp.StartTimestamp() {
		it.DurationNanos = int64(sp.EndTimestamp() - sp.StartTimestamp())
	}
	switch sp.Status().Code() {
	case ptrace.StatusCodeOk:
		it.Status = "OK"
	case ptrace.StatusCodeError:
		it.Status = "ERROR"
	}
	it.StatusMessage = sp.Status().Message()
	return it
}

func logItem(res pcommon.Resource, lr plog.LogRecord) Item {
	tid, sid := lr.TraceID(), lr.SpanID()
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	it := Item{
		Signal: KindLog, Time: ts.AsTime().UTC(), Service: serviceOf(res),
		TraceID: idString(tid[:]), SpanID: idString(sid[:]),
		Severity: lr.SeverityText(), SeverityNumber: int32(lr.SeverityNumber()),
		Attributes: rawOrNil(lr.Attributes()), Resource: rawOrNil(res.Attributes()),
	}
	if it.Severity == "" && lr.SeverityNumber() != 0 {
		it.Severity = lr.SeverityNumber().String()
	}
	switch lr.Body().Type() {
	case pcommon.ValueTypeEmpty:
	case pcommon.ValueTypeStr:
		it.Body = lr.Body().Str()
	default:
		it.Body = lr.Body().AsRaw()
	}
	return it
}

// pointCount is the number of data points of m.
func pointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// metricPoint flattens point i of m.
func metricPoint(res pcommon.Resource, m pmetric.Metric, i int) Item {
	it := Item{Signal: KindMetric, Service: serviceOf(res), Name: m.Name(), Resource: rawOrNil(res.Attributes())}
	num := func(dp pmetric.NumberDataPoint, typ string) {
		it.MetricType, it.Time, it.Attributes = typ, dp.Timestamp().AsTime().UTC(), rawOrNil(dp.Attributes())
		v := dp.DoubleValue()
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			v = float64(dp.IntValue())
		}
		it.Value = &v
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		num(m.Gauge().DataPoints().At(i), "gauge")
	case pmetric.MetricTypeSum:
		num(m.Sum().DataPoints().At(i), "sum")
	case pmetric.MetricTypeHistogram:
		dp := m.Histogram().DataPoints().At(i)
		it.MetricType, it.Time, it.Attributes, it.Count = "histogram", dp.Timestamp().AsTime().UTC(), rawOrNil(dp.Attributes()), dp.Count()
		if dp.HasSum() {
			s := dp.Sum()
			it.Sum = &s
		}
	case pmetric.MetricTypeExponentialHistogram:
		dp := m.ExponentialHistogram().DataPoints().At(i)
		it.MetricType, it.Time, it.Attributes, it.Count = "exponential_histogram", dp.Timestamp().AsTime().UTC(), rawOrNil(dp.Attributes()), dp.Count()
		if dp.HasSum() {
			s := dp.Sum()
			it.Sum = &s
		}
	case pmetric.MetricTypeSummary:
		dp := m.Summary().DataPoints().At(i)
		s := dp.Sum()
		it.MetricType, it.Time, it.Attributes, it.Count, it.Sum = "summary", dp.Timestamp().AsTime().UTC(), rawOrNil(dp.Attributes()), dp.Count(), &s
	}
	return it
}

// SpanItems flattens every span of td, in order.
func SpanItems(td ptrace.Traces) []Item {
	var out []Item
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				out = append(out, spanItem(rs.Resource(), sp))
			}
		}
	}
	return out
}

// LogItems flattens every log record of ld, in order.
func LogItems(ld plog.Logs) []Item {
	var out []Item
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out = append(out, logItem(rl.Resource(), lr))
			}
		}
	}
	return out
}
