package tail

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// otlpBatch gathers entries into OTLP documents (TracesData, LogsData, MetricsData) for the Server-Sent
// Events form of the stream, which browsers read with EventSource. Entries of one resource and scope that
// arrive one after the other share a ResourceX and ScopeX, as they did in the accepted batch.
type otlpBatch struct {
	n int

	traces            ptrace.Traces
	spanRes           pcommon.Resource
	spanScope         pcommon.InstrumentationScope
	spans             ptrace.SpanSlice
	logs              plog.Logs
	logRes            pcommon.Resource
	logScope          pcommon.InstrumentationScope
	records           plog.LogRecordSlice
	metrics           pmetric.Metrics
	metricRes         pcommon.Resource
	metricScope       pcommon.InstrumentationScope
	metricSlice       pmetric.MetricSlice
	lastMetric        pmetric.Metric
	lastMetricCopy    pmetric.Metric
	hasSpans, hasLogs bool
	hasMetrics        bool
}

func newOTLPBatch() *otlpBatch {
	return &otlpBatch{traces: ptrace.NewTraces(), logs: plog.NewLogs(), metrics: pmetric.NewMetrics()}
}

func (b *otlpBatch) add(e *entry) {
	b.n++
	switch e.kind {
	case 1:
		if !b.hasSpans || e.res != b.spanRes || e.scope != b.spanScope {
			rs := b.traces.ResourceSpans().AppendEmpty()
			e.res.CopyTo(rs.Resource())
			ss := rs.ScopeSpans().AppendEmpty()
			e.scope.CopyTo(ss.Scope())
			b.spans, b.spanRes, b.spanScope, b.hasSpans = ss.Spans(), e.res, e.scope, true
		}
		e.span.CopyTo(b.spans.AppendEmpty())
	case 2:
		if !b.hasLogs || e.res != b.logRes || e.scope != b.logScope {
			rl := b.logs.ResourceLogs().AppendEmpty()
			e.res.CopyTo(rl.Resource())
			sl := rl.ScopeLogs().AppendEmpty()
			e.scope.CopyTo(sl.Scope())
			b.records, b.logRes, b.logScope, b.hasLogs = sl.LogRecords(), e.res, e.scope, true
		}
		e.log.CopyTo(b.records.AppendEmpty())
	case 3:
		if !b.hasMetrics || e.res != b.metricRes || e.scope != b.metricScope {
			rm := b.metrics.ResourceMetrics().AppendEmpty()
			e.res.CopyTo(rm.Resource())
			sm := rm.ScopeMetrics().AppendEmpty()
			e.scope.CopyTo(sm.Scope())
			b.metricSlice, b.metricRes, b.metricScope, b.hasMetrics = sm.Metrics(), e.res, e.scope, true
			b.lastMetric = pmetric.NewMetric()
		}
		if e.metric != b.lastMetric {
			b.lastMetric = e.metric
			b.lastMetricCopy = b.metricSlice.AppendEmpty()
			copyMetricShell(e.metric, b.lastMetricCopy)
		}
		appendPoint(e.metric, e.point, b.lastMetricCopy)
	}
}

// copyMetricShell copies m's name, description, unit, type and temporality, without points.
func copyMetricShell(m, dst pmetric.Metric) {
	dst.SetName(m.Name())
	dst.SetDescription(m.Description())
	dst.SetUnit(m.Unit())
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dst.SetEmptyGauge()
	case pmetric.MetricTypeSum:
		dst.SetEmptySum().SetIsMonotonic(m.Sum().IsMonotonic())
		dst.Sum().SetAggregationTemporality(m.Sum().AggregationTemporality())
	case pmetric.MetricTypeHistogram:
		dst.SetEmptyHistogram().SetAggregationTemporality(m.Histogram().AggregationTemporality())
	case pmetric.MetricTypeExponentialHistogram:
		dst.SetEmptyExponentialHistogram().SetAggregationTemporality(m.ExponentialHistogram().AggregationTemporality())
	case pmetric.MetricTypeSummary:
		dst.SetEmptySummary()
	}
}

func appendPoint(m pmetric.Metric, i int, dst pmetric.Metric) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().At(i).CopyTo(dst.Gauge().DataPoints().AppendEmpty())
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().At(i).CopyTo(dst.Sum().DataPoints().AppendEmpty())
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().At(i).CopyTo(dst.Histogram().DataPoints().AppendEmpty())
	case pmetric.MetricTypeExponentialHistogram:
		m.ExponentialHistogram().DataPoints().At(i).CopyTo(dst.ExponentialHistogram().DataPoints().AppendEmpty())
	case pmetric.MetricTypeSummary:
		m.Summary().DataPoints().At(i).CopyTo(dst.Summary().DataPoints().AppendEmpty())
	}
}

// documents returns the OTLP JSON documents of the batch (one per signal present) and resets it.
func (b *otlpBatch) documents() ([][]byte, error) {
	var out [][]byte
	if b.hasSpans {
		d, err := (&ptrace.JSONMarshaler{}).MarshalTraces(b.traces)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if b.hasLogs {
		d, err := (&plog.JSONMarshaler{}).MarshalLogs(b.logs)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if b.hasMetrics {
		d, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(b.metrics)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	*b = *newOTLPBatch()
	return out, nil
}
