package storagetest

import (
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata/entity"
)

// Every mutation of one field must make the comparison fail and name the field.

func TestDiffTracesSeesEveryField(t *testing.T) {
	root := func(td ptrace.Traces) ptrace.Span { return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0) }
	res := func(td ptrace.Traces) pcommon.Resource { return td.ResourceSpans().At(0).Resource() }
	scope := func(td ptrace.Traces) pcommon.InstrumentationScope {
		return td.ResourceSpans().At(0).ScopeSpans().At(0).Scope()
	}
	attr := func(m pcommon.Map, k string) pcommon.Value { v, _ := m.Get(k); return v }
	cases := []struct {
		name, path string
		mutate     func(td ptrace.Traces)
	}{
		{"resource schema", "resource.schema_url", func(td ptrace.Traces) { td.ResourceSpans().At(0).SetSchemaUrl("x") }},
		{"resource dropped", "resource.dropped_attributes_count", func(td ptrace.Traces) { res(td).SetDroppedAttributesCount(0) }},
		{"resource attr", `resource.attributes{"res.str"}`, func(td ptrace.Traces) { res(td).Attributes().PutStr("res.str", "y") }},
		{"resource attr removed", `resource.attributes{"res.int"}`, func(td ptrace.Traces) { res(td).Attributes().Remove("res.int") }},
		{"nested map", `{"sub"}{"d"}`, func(td ptrace.Traces) {
			attr(attr(res(td).Attributes(), "res.map").Map(), "sub").Map().PutDouble("d", 2.51)
		}},
		{"nested array", `{"res.array"}[6][1][0]`, func(td ptrace.Traces) {
			attr(res(td).Attributes(), "res.array").Slice().At(6).Slice().At(1).Slice().At(0).SetInt(4)
		}},
		{"empty string vs empty value", `{"res.str.empty"}`, func(td ptrace.Traces) { res(td).Attributes().PutEmpty("res.str.empty") }},
		{"empty bytes vs empty string", `{"res.bytes.empty"}`, func(td ptrace.Traces) { res(td).Attributes().PutStr("res.bytes.empty", "") }},
		{"int vs double", `{"res.int"}`, func(td ptrace.Traces) { res(td).Attributes().PutDouble("res.int", 42) }},
		{"negative zero", `{"res.double.negzero"}`, func(td ptrace.Traces) { res(td).Attributes().PutDouble("res.double.negzero", 0) }},
		{"nan", `{"res.double.nan"}`, func(td ptrace.Traces) { res(td).Attributes().PutDouble("res.double.nan", math.Inf(-1)) }},
		{"bytes", `{"res.bytes"}`, func(td ptrace.Traces) { attr(res(td).Attributes(), "res.bytes").Bytes().SetAt(0, 9) }},
		{"entity ref type", "resource.entity_refs[0].type", func(td ptrace.Traces) { entity.ResourceEntityRefs(res(td)).At(0).SetType("svc") }},
		{"entity ref keys", "resource.entity_refs[1].id_keys", func(td ptrace.Traces) { entity.ResourceEntityRefs(res(td)).At(1).IdKeys().Append("k") }},
		{"entity ref schema", "resource.entity_refs[0].schema_url", func(td ptrace.Traces) { entity.ResourceEntityRefs(res(td)).At(0).SetSchemaUrl("") }},
		{"entity ref desc", "resource.entity_refs[0].description_keys", func(td ptrace.Traces) {
			entity.ResourceEntityRefs(res(td)).At(0).DescriptionKeys().FromRaw(nil)
		}},
		{"scope schema", "scope.schema_url", func(td ptrace.Traces) { td.ResourceSpans().At(0).ScopeSpans().At(0).SetSchemaUrl("") }},
		{"scope name", "scope.name", func(td ptrace.Traces) { scope(td).SetName("n") }},
		{"scope version", "scope.version", func(td ptrace.Traces) { scope(td).SetVersion("") }},
		{"scope dropped", "scope.dropped_attributes_count", func(td ptrace.Traces) { scope(td).SetDroppedAttributesCount(1) }},
		{"scope attr", `scope.attributes{"scope.bool.true"}`, func(td ptrace.Traces) { scope(td).Attributes().PutBool("scope.bool.true", false) }},
		{"trace id", "span.trace_id", func(td ptrace.Traces) { root(td).SetTraceID(TraceID(77)) }},
		{"span id", "span.span_id", func(td ptrace.Traces) { root(td).SetSpanID(SpanID(77)) }},
		{"parent", "span.parent_span_id", func(td ptrace.Traces) { root(td).SetParentSpanID(SpanID(77)) }},
		{"trace state", "span.trace_state", func(td ptrace.Traces) { root(td).TraceState().FromRaw("vendor1=value1") }},
		{"is remote flag", "span.flags", func(td ptrace.Traces) { root(td).SetFlags(0x101) }},
		{"name", "span.name", func(td ptrace.Traces) { root(td).SetName("x") }},
		{"kind", "span.kind", func(td ptrace.Traces) { root(td).SetKind(ptrace.SpanKindClient) }},
		{"start", "span.start_time_unix_nano", func(td ptrace.Traces) { root(td).SetStartTimestamp(root(td).StartTimestamp() + 1) }},
		{"end", "span.end_time_unix_nano", func(td ptrace.Traces) { root(td).SetEndTimestamp(root(td).EndTimestamp() - 1) }},
		{"span attr", `span.attributes{"span.map"}`, func(td ptrace.Traces) { attr(root(td).Attributes(), "span.map").Map().PutStr("s", "w") }},
		{"span dropped", "span.dropped_attributes_count", func(td ptrace.Traces) { root(td).SetDroppedAttributesCount(0) }},
		{"event time", "span.events[0].time_unix_nano", func(td ptrace.Traces) { root(td).Events().At(0).SetTimestamp(1) }},
		{"event name", "span.events[2].name", func(td ptrace.Traces) { root(td).Events().At(2).SetName("x") }},
		{"event attr", `span.events[0].attributes{"exception.type"}`, func(td ptrace.Traces) { root(td).Events().At(0).Attributes().PutStr("exception.type", "x") }},
		{"event dropped", "span.events[0].dropped_attributes_count", func(td ptrace.Traces) { root(td).Events().At(0).SetDroppedAttributesCount(0) }},
		{"event order", "span.events[1]", func(td ptrace.Traces) {
			evs := root(td).Events()
			tmp := ptrace.NewSpanEvent()
			evs.At(1).CopyTo(tmp)
			evs.At(2).CopyTo(evs.At(1))
			tmp.CopyTo(evs.At(2))
		}},
		{"event removed", "span.events", func(td ptrace.Traces) {
			n := 0
			root(td).Events().RemoveIf(func(ptrace.SpanEvent) bool { n++; return n == 2 })
		}},
		{"dropped events", "span.dropped_events_count", func(td ptrace.Traces) { root(td).SetDroppedEventsCount(0) }},
		{"link trace", "span.links[0].trace_id", func(td ptrace.Traces) { root(td).Links().At(0).SetTraceID(TraceID(3)) }},
		{"link span", "span.links[1].span_id", func(td ptrace.Traces) { root(td).Links().At(1).SetSpanID(SpanID(3)) }},
		{"link state", "span.links[0].trace_state", func(td ptrace.Traces) { root(td).Links().At(0).TraceState().FromRaw("") }},
		{"link flags", "span.links[0].flags", func(td ptrace.Traces) { root(td).Links().At(0).SetFlags(0x301) }},
		{"link attr", `span.links[0].attributes{"link.int"}`, func(td ptrace.Traces) { root(td).Links().At(0).Attributes().PutInt("link.int", 43) }},
		{"link dropped", "span.links[0].dropped_attributes_count", func(td ptrace.Traces) { root(td).Links().At(0).SetDroppedAttributesCount(1) }},
		{"dropped links", "span.dropped_links_count", func(td ptrace.Traces) { root(td).SetDroppedLinksCount(0) }},
		{"status code", "span.status.code", func(td ptrace.Traces) { root(td).Status().SetCode(ptrace.StatusCodeOk) }},
		{"status message", "span.status.message", func(td ptrace.Traces) { root(td).Status().SetMessage("") }},
		{"span missing", "missing span", func(td ptrace.Traces) {
			td.ResourceSpans().At(1).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { return s.SpanID() == SpanID(6) })
		}},
		{"span duplicated", "unexpected span", func(td ptrace.Traces) {
			root(td).CopyTo(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty())
		}},
	}
	for _, c := range cases {
		td := AllFieldsTraces()
		c.mutate(td)
		d := DiffTraces(AllFieldsTraces(), td)
		if d == "" {
			t.Errorf("%s: mutation not seen", c.name)
			continue
		}
		if !strings.Contains(d, c.path) {
			t.Errorf("%s: diff does not name %s:\n%s", c.name, c.path, d)
		}
	}
}

func TestDiffTracesIgnoresGroupingAndOrder(t *testing.T) {
	want := AllFieldsTraces()
	// One resource and scope per span, in reverse order, attributes inserted in reverse order.
	got := ptrace.NewTraces()
	type triple struct {
		rs ptrace.ResourceSpans
		ss ptrace.ScopeSpans
		sp ptrace.Span
	}
	var all []triple
	for _, rs := range want.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				all = append(all, triple{rs, ss, sp})
			}
		}
	}
	for i := len(all) - 1; i >= 0; i-- {
		rs := got.ResourceSpans().AppendEmpty()
		rs.SetSchemaUrl(all[i].rs.SchemaUrl())
		all[i].rs.Resource().CopyTo(rs.Resource())
		reverse(rs.Resource().Attributes())
		ss := rs.ScopeSpans().AppendEmpty()
		ss.SetSchemaUrl(all[i].ss.SchemaUrl())
		all[i].ss.Scope().CopyTo(ss.Scope())
		all[i].sp.CopyTo(ss.Spans().AppendEmpty())
		reverse(ss.Spans().At(0).Attributes())
	}
	if d := DiffTraces(want, got); d != "" {
		t.Errorf("regrouped spans differ:\n%s", d)
	}
	if d := DiffTraces(want, AllFieldsTraces()); d != "" {
		t.Errorf("AllFieldsTraces is not deterministic:\n%s", d)
	}
}

func reverse(m pcommon.Map) {
	var keys []string
	for k := range m.All() {
		keys = append(keys, k)
	}
	tmp := pcommon.NewMap()
	m.CopyTo(tmp)
	m.Clear()
	for i := len(keys) - 1; i >= 0; i-- {
		v, _ := tmp.Get(keys[i])
		v.CopyTo(m.PutEmpty(keys[i]))
	}
}

func TestDiffLogsSeesEveryField(t *testing.T) {
	rec := func(ld plog.Logs, i int) plog.LogRecord {
		return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(i)
	}
	cases := []struct {
		name, path string
		mutate     func(ld plog.Logs)
	}{
		{"time", "log.time_unix_nano", func(ld plog.Logs) { rec(ld, 0).SetTimestamp(rec(ld, 0).Timestamp() + 1) }},
		{"observed", "log.observed_time_unix_nano", func(ld plog.Logs) { rec(ld, 0).SetObservedTimestamp(0) }},
		{"severity", "log.severity_number", func(ld plog.Logs) { rec(ld, 0).SetSeverityNumber(plog.SeverityNumberError) }},
		{"severity text", "log.severity_text", func(ld plog.Logs) { rec(ld, 0).SetSeverityText("error3") }},
		{"body str", "log.body", func(ld plog.Logs) { rec(ld, 0).Body().SetStr("x") }},
		{"body int", "log.body", func(ld plog.Logs) { rec(ld, 1).Body().SetDouble(-12345) }},
		{"body bytes", "log.body", func(ld plog.Logs) { rec(ld, 4).Body().SetStr("\xde\xad\xbe\xef") }},
		{"body nested", "log.body[1][0]", func(ld plog.Logs) { rec(ld, 5).Body().Slice().At(1).Slice().At(0).SetInt(2) }},
		{"body map", `log.body{"body.map"}`, func(ld plog.Logs) {
			v, _ := rec(ld, 6).Body().Map().Get("body.map")
			v.Map().Remove("e")
		}},
		{"empty string body vs none", "log.body", func(ld plog.Logs) { rec(ld, 7).Body().SetStr(" ") }},
		{"no body vs empty string", "log.body", func(ld plog.Logs) { rec(ld, 8).Body().SetStr("") }},
		{"attr", `log.attributes{"log.bool.false"}`, func(ld plog.Logs) { rec(ld, 0).Attributes().PutBool("log.bool.false", true) }},
		{"dropped", "log.dropped_attributes_count", func(ld plog.Logs) { rec(ld, 0).SetDroppedAttributesCount(0) }},
		{"flags", "log.flags", func(ld plog.Logs) { rec(ld, 9).SetFlags(0x7f) }},
		{"trace id", "log.trace_id", func(ld plog.Logs) { rec(ld, 0).SetTraceID(TraceID(5)) }},
		{"span id", "log.span_id", func(ld plog.Logs) { rec(ld, 0).SetSpanID(SpanID(5)) }},
		{"event name", "log.event_name", func(ld plog.Logs) { rec(ld, 0).SetEventName("") }},
		{"resource", "resource.dropped_attributes_count", func(ld plog.Logs) { ld.ResourceLogs().At(0).Resource().SetDroppedAttributesCount(7) }},
		{"scope", "scope.schema_url", func(ld plog.Logs) { ld.ResourceLogs().At(0).ScopeLogs().At(0).SetSchemaUrl("") }},
		{"record missing", "missing log", func(ld plog.Logs) {
			ld.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().RemoveIf(func(plog.LogRecord) bool { return true })
		}},
	}
	for _, c := range cases {
		ld := AllFieldsLogs()
		c.mutate(ld)
		d := DiffLogs(AllFieldsLogs(), ld)
		if d == "" {
			t.Errorf("%s: mutation not seen", c.name)
			continue
		}
		if !strings.Contains(d, c.path) {
			t.Errorf("%s: diff does not name %s:\n%s", c.name, c.path, d)
		}
	}
	if d := DiffLogs(AllFieldsLogs(), AllFieldsLogs()); d != "" {
		t.Errorf("AllFieldsLogs is not deterministic:\n%s", d)
	}
}

func TestDiffMetricsSeesEveryField(t *testing.T) {
	metric := func(md pmetric.Metrics, name string) pmetric.Metric {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Name() == name {
						return m
					}
				}
			}
		}
		panic("no metric " + name)
	}
	gauge := func(md pmetric.Metrics, i int) pmetric.NumberDataPoint {
		return metric(md, "system.memory.usage").Gauge().DataPoints().At(i)
	}
	hist := func(md pmetric.Metrics) pmetric.HistogramDataPoint {
		return metric(md, "http.server.request.duration").Histogram().DataPoints().At(0)
	}
	exp := func(md pmetric.Metrics) pmetric.ExponentialHistogramDataPoint {
		return metric(md, "latency.exp").ExponentialHistogram().DataPoints().At(0)
	}
	sum := func(md pmetric.Metrics) pmetric.SummaryDataPoint {
		return metric(md, "gc.pause").Summary().DataPoints().At(0)
	}
	cases := []struct {
		name, path string
		mutate     func(md pmetric.Metrics)
	}{
		{"description", "metric.description", func(md pmetric.Metrics) { metric(md, "system.memory.usage").SetDescription("") }},
		{"unit", "metric.unit", func(md pmetric.Metrics) { metric(md, "gc.pause").SetUnit("ms") }},
		{"metadata", `metric.metadata{"origin"}`, func(md pmetric.Metrics) { metric(md, "system.memory.usage").Metadata().Remove("origin") }},
		{"temporality", "sum.aggregation_temporality", func(md pmetric.Metrics) {
			metric(md, "bytes.sent").Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		}},
		{"monotonic", "sum.is_monotonic", func(md pmetric.Metrics) { metric(md, "connections.open").Sum().SetIsMonotonic(true) }},
		{"histogram temporality", "histogram.aggregation_temporality", func(md pmetric.Metrics) {
			metric(md, "rpc.client.duration.delta").Histogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		}},
		{"int vs double", "point.value", func(md pmetric.Metrics) { gauge(md, 1).SetIntValue(-1) }},
		{"value", "point.value", func(md pmetric.Metrics) { gauge(md, 0).SetIntValue(math.MaxInt64 - 1) }},
		{"no recorded value", "point.flags", func(md pmetric.Metrics) { gauge(md, 2).SetFlags(0) }},
		{"start", "point.start_time_unix_nano", func(md pmetric.Metrics) { gauge(md, 1).SetStartTimestamp(5) }},
		{"point attr", `point.attributes{"pt.str"}`, func(md pmetric.Metrics) { gauge(md, 0).Attributes().PutStr("pt.str", "") }},
		{"exemplar time", "point.exemplars[0].time_unix_nano", func(md pmetric.Metrics) { gauge(md, 0).Exemplars().At(0).SetTimestamp(1) }},
		{"exemplar value", "point.exemplars[1].value", func(md pmetric.Metrics) { gauge(md, 0).Exemplars().At(1).SetDoubleValue(-3) }},
		{"exemplar trace", "point.exemplars[0].trace_id", func(md pmetric.Metrics) { hist(md).Exemplars().At(0).SetTraceID(TraceID(3)) }},
		{"exemplar span", "point.exemplars[1].span_id", func(md pmetric.Metrics) { exp(md).Exemplars().At(1).SetSpanID(SpanID(3)) }},
		{"exemplar attrs", `point.exemplars[0].filtered_attributes{"user.id"}`, func(md pmetric.Metrics) {
			hist(md).Exemplars().At(0).FilteredAttributes().PutStr("user.id", "u-2")
		}},
		{"exemplar empty value", "point.exemplars[2].value", func(md pmetric.Metrics) { hist(md).Exemplars().At(2).SetIntValue(0) }},
		{"count", "point.count", func(md pmetric.Metrics) { hist(md).SetCount(18) }},
		{"sum unset", "point.sum", func(md pmetric.Metrics) { hist(md).RemoveSum() }},
		{"sum zero vs unset", "point.sum", func(md pmetric.Metrics) {
			metric(md, "http.server.request.duration").Histogram().DataPoints().At(1).SetSum(0)
		}},
		{"min", "point.min", func(md pmetric.Metrics) { hist(md).SetMin(0) }},
		{"max", "point.max", func(md pmetric.Metrics) { hist(md).RemoveMax() }},
		{"buckets", "point.bucket_counts", func(md pmetric.Metrics) { hist(md).BucketCounts().SetAt(4, 2) }},
		{"bounds", "point.explicit_bounds", func(md pmetric.Metrics) { hist(md).ExplicitBounds().SetAt(0, 0.0051) }},
		{"scale", "point.scale", func(md pmetric.Metrics) { exp(md).SetScale(3) }},
		{"zero count", "point.zero_count", func(md pmetric.Metrics) { exp(md).SetZeroCount(0) }},
		{"zero threshold", "point.zero_threshold", func(md pmetric.Metrics) { exp(md).SetZeroThreshold(0) }},
		{"positive offset", "point.positive.offset", func(md pmetric.Metrics) { exp(md).Positive().SetOffset(2) }},
		{"positive buckets", "point.positive.bucket_counts", func(md pmetric.Metrics) { exp(md).Positive().BucketCounts().Append(0) }},
		{"negative offset", "point.negative.offset", func(md pmetric.Metrics) { exp(md).Negative().SetOffset(-5) }},
		{"negative buckets", "point.negative.bucket_counts", func(md pmetric.Metrics) { exp(md).Negative().BucketCounts().SetAt(0, 4) }},
		{"exp min", "point.min", func(md pmetric.Metrics) { exp(md).SetMin(40) }},
		{"summary count", "point.count", func(md pmetric.Metrics) { sum(md).SetCount(1) }},
		{"summary sum", "point.sum", func(md pmetric.Metrics) { sum(md).SetSum(1) }},
		{"quantile", "point.quantile_values[2]", func(md pmetric.Metrics) { sum(md).QuantileValues().At(2).SetValue(0.3) }},
		{"point missing", "missing point", func(md pmetric.Metrics) {
			metric(md, "up").Gauge().DataPoints().RemoveIf(func(pmetric.NumberDataPoint) bool { return true })
		}},
		{"metric renamed", `"up"`, func(md pmetric.Metrics) { metric(md, "up").SetName("down") }},
	}
	for _, c := range cases {
		md := AllFieldsMetrics()
		c.mutate(md)
		d := DiffMetrics(AllFieldsMetrics(), md)
		if d == "" {
			t.Errorf("%s: mutation not seen", c.name)
			continue
		}
		if !strings.Contains(d, c.path) {
			t.Errorf("%s: diff does not name %s:\n%s", c.name, c.path, d)
		}
	}
	if d := DiffMetrics(AllFieldsMetrics(), AllFieldsMetrics()); d != "" {
		t.Errorf("AllFieldsMetrics is not deterministic:\n%s", d)
	}
}

func TestDiffIsReadable(t *testing.T) {
	td := AllFieldsTraces()
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).SetName("renamed")
	d := DiffTraces(AllFieldsTraces(), td)
	for _, want := range []string{`- span.name = "SELECT items"`, `+ span.name = "renamed"`, SpanID(2).String()} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	t.Logf("sample diff:\n%s", d)
}

func TestDiffLargeValues(t *testing.T) {
	span := func(td ptrace.Traces) ptrace.Span { return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0) }
	td := LargeTraces()
	v, _ := span(td).Attributes().Get("big.str")
	s := []byte(v.Str())
	s[len(s)/2] ^= 1 // one bit in the middle
	span(td).Attributes().PutStr("big.str", string(s))
	b, _ := span(td).Attributes().Get("big.bytes")
	b.Bytes().SetAt(b.Bytes().Len()-1, b.Bytes().At(b.Bytes().Len()-1)^1)
	d := DiffTraces(LargeTraces(), td)
	for _, want := range []string{`{"big.str"}`, `{"big.bytes"}`} {
		if !strings.Contains(d, want) {
			t.Errorf("diff does not name %s:\n%s", want, d)
		}
	}
	if DiffTraces(LargeTraces(), LargeTraces()) != "" || DiffLogs(LargeLogs(), LargeLogs()) != "" || DiffMetrics(LargeMetrics(), LargeMetrics()) != "" {
		t.Error("large data is not deterministic")
	}
}
