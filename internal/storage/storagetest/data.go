package storagetest

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata/entity"
)

// BaseTime is the time around which the data of this package is set: 2026-01-01T00:00:00Z.
var BaseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ts(offset time.Duration) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(BaseTime.Add(offset))
}

// TraceID returns a deterministic, valid trace ID derived from n.
func TraceID(n byte) pcommon.TraceID {
	return pcommon.TraceID{0x5e, 0xed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, n}
}

// SpanID returns a deterministic, valid span ID derived from n.
func SpanID(n byte) pcommon.SpanID {
	return pcommon.SpanID{0xab, 0xcd, 1, 2, 3, 4, 5, n}
}

// PutAllValueKinds adds to m one attribute of every AnyValue kind, with the edge cases: the empty value,
// empty and non-empty strings and bytes, extreme ints, special doubles, and arrays and maps nested in each other
// (including empty ones). Keys start with prefix.
func PutAllValueKinds(m pcommon.Map, prefix string) {
	m.PutStr(prefix+"str", "hello, wörld \x00 \"quoted\"")
	m.PutStr(prefix+"str.empty", "")
	m.PutBool(prefix+"bool.true", true)
	m.PutBool(prefix+"bool.false", false)
	m.PutInt(prefix+"int", 42)
	m.PutInt(prefix+"int.zero", 0)
	m.PutInt(prefix+"int.min", math.MinInt64)
	m.PutInt(prefix+"int.max", math.MaxInt64)
	m.PutDouble(prefix+"double", 3.25)
	m.PutDouble(prefix+"double.negzero", math.Copysign(0, -1))
	m.PutDouble(prefix+"double.tiny", 5e-324)
	m.PutDouble(prefix+"double.inf", math.Inf(1))
	m.PutDouble(prefix+"double.nan", math.NaN())
	m.PutEmptyBytes(prefix + "bytes").FromRaw([]byte{0, 1, 2, 0xfe, 0xff})
	m.PutEmptyBytes(prefix + "bytes.empty")
	m.PutEmpty(prefix + "empty")
	m.PutEmptySlice(prefix + "array.empty")
	m.PutEmptyMap(prefix + "map.empty")

	arr := m.PutEmptySlice(prefix + "array")
	arr.AppendEmpty().SetStr("a")
	arr.AppendEmpty().SetInt(-7)
	arr.AppendEmpty().SetDouble(0.5)
	arr.AppendEmpty().SetBool(true)
	arr.AppendEmpty().SetEmptyBytes().FromRaw([]byte("raw"))
	arr.AppendEmpty() // empty value inside an array
	inner := arr.AppendEmpty().SetEmptySlice()
	inner.AppendEmpty().SetStr("nested")
	inner.AppendEmpty().SetEmptySlice().AppendEmpty().SetInt(3)
	arr.AppendEmpty().SetEmptyMap().PutStr("in", "array")

	mp := m.PutEmptyMap(prefix + "map")
	mp.PutStr("s", "v")
	mp.PutInt("i", 1)
	mp.PutEmpty("e")
	sub := mp.PutEmptyMap("sub")
	sub.PutDouble("d", 2.5)
	sub.PutEmptySlice("list").AppendEmpty().SetEmptyMap().PutBool("deep", true)
}

func fillResource(r pcommon.Resource, service string, dropped uint32) {
	r.Attributes().PutStr("service.name", service)
	r.Attributes().PutStr("service.version", "1.2.3")
	PutAllValueKinds(r.Attributes(), "res.")
	r.SetDroppedAttributesCount(dropped)
	refs := entity.ResourceEntityRefs(r)
	svc := refs.AppendEmpty()
	svc.SetType("service")
	svc.SetSchemaUrl("https://opentelemetry.io/schemas/1.30.0")
	svc.IdKeys().FromRaw([]string{"service.name"})
	svc.DescriptionKeys().FromRaw([]string{"service.version"})
	host := refs.AppendEmpty() // no schema URL and no description keys
	host.SetType("host")
	host.IdKeys().FromRaw([]string{"res.str", "res.int"})
}

func fillScope(s pcommon.InstrumentationScope, name string, dropped uint32) {
	s.SetName(name)
	s.SetVersion("v0.9.1")
	PutAllValueKinds(s.Attributes(), "scope.")
	s.SetDroppedAttributesCount(dropped)
}

// AllFieldsTraces returns spans that set every field the store must keep (checklist section 3): resources and
// scopes with attributes of every kind, dropped counts, schema URLs and (resources) entity refs; spans of every kind and status, with
// trace_state, flags (including the IS_REMOTE bits), events, links and every dropped count; and spans where
// those fields are empty. Each call returns a new, identical value.
func AllFieldsTraces() ptrace.Traces {
	td := ptrace.NewTraces()

	rs := td.ResourceSpans().AppendEmpty()
	rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	fillResource(rs.Resource(), "all-fields", 3)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.SetSchemaUrl("https://opentelemetry.io/schemas/1.25.0")
	fillScope(ss.Scope(), "otlpd/storagetest", 2)

	root := ss.Spans().AppendEmpty()
	root.SetTraceID(TraceID(1))
	root.SetSpanID(SpanID(1))
	root.TraceState().FromRaw("vendor1=value1,vendor2=value2")
	root.SetFlags(0x301) // sampled, HAS_IS_REMOTE, IS_REMOTE
	root.SetName("GET /api/items/{id}")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(ts(0))
	root.SetEndTimestamp(ts(250 * time.Millisecond))
	PutAllValueKinds(root.Attributes(), "span.")
	root.Attributes().PutInt("http.response.status_code", 503)
	root.SetDroppedAttributesCount(4)
	ev := root.Events().AppendEmpty()
	ev.SetTimestamp(ts(10 * time.Millisecond))
	ev.SetName("exception")
	ev.Attributes().PutStr("exception.type", "io.EOF")
	ev.Attributes().PutStr("exception.message", "unexpected end")
	PutAllValueKinds(ev.Attributes(), "event.")
	ev.SetDroppedAttributesCount(8)
	root.Events().AppendEmpty().SetName("") // an event with nothing set
	ev3 := root.Events().AppendEmpty()
	ev3.SetTimestamp(ts(20 * time.Millisecond))
	ev3.SetName("retry")
	root.SetDroppedEventsCount(5)
	ln := root.Links().AppendEmpty()
	ln.SetTraceID(TraceID(9))
	ln.SetSpanID(SpanID(9))
	ln.TraceState().FromRaw("linked=1")
	ln.SetFlags(0x101)
	PutAllValueKinds(ln.Attributes(), "link.")
	ln.SetDroppedAttributesCount(6)
	ln2 := root.Links().AppendEmpty()
	ln2.SetTraceID(TraceID(8))
	ln2.SetSpanID(SpanID(8))
	root.SetDroppedLinksCount(7)
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("upstream unavailable")

	child := ss.Spans().AppendEmpty()
	child.SetTraceID(TraceID(1))
	child.SetSpanID(SpanID(2))
	child.SetParentSpanID(SpanID(1))
	child.SetFlags(0x101) // sampled, HAS_IS_REMOTE, not remote
	child.SetName("SELECT items")
	child.SetKind(ptrace.SpanKindClient)
	child.SetStartTimestamp(ts(5 * time.Millisecond))
	child.SetEndTimestamp(ts(200 * time.Millisecond))
	child.Attributes().PutStr("db.system.name", "postgresql")
	child.Status().SetCode(ptrace.StatusCodeOk)

	internal := ss.Spans().AppendEmpty()
	internal.SetTraceID(TraceID(1))
	internal.SetSpanID(SpanID(3))
	internal.SetParentSpanID(SpanID(2))
	internal.SetFlags(0xff)
	internal.SetName("decode")
	internal.SetKind(ptrace.SpanKindInternal)
	internal.SetStartTimestamp(ts(6 * time.Millisecond))
	internal.SetEndTimestamp(ts(6 * time.Millisecond)) // zero duration
	internal.Status().SetMessage("message without code")

	// A second scope of the same resource, with nothing but a name.
	ss2 := rs.ScopeSpans().AppendEmpty()
	ss2.Scope().SetName("bare-scope")
	prod := ss2.Spans().AppendEmpty()
	prod.SetTraceID(TraceID(1))
	prod.SetSpanID(SpanID(4))
	prod.SetParentSpanID(SpanID(1))
	prod.SetName("publish")
	prod.SetKind(ptrace.SpanKindProducer)
	prod.SetStartTimestamp(ts(30 * time.Millisecond))
	prod.SetEndTimestamp(ts(31 * time.Millisecond))

	// A second resource with no schema URL, an empty scope and a minimal span of another trace.
	rs2 := td.ResourceSpans().AppendEmpty()
	rs2.Resource().Attributes().PutStr("service.name", "consumer")
	ss3 := rs2.ScopeSpans().AppendEmpty()
	cons := ss3.Spans().AppendEmpty()
	cons.SetTraceID(TraceID(2))
	cons.SetSpanID(SpanID(5))
	cons.SetName("consume")
	cons.SetKind(ptrace.SpanKindConsumer)
	cons.SetStartTimestamp(ts(time.Second))
	cons.SetEndTimestamp(ts(2 * time.Second))
	cons.Links().AppendEmpty().SetTraceID(TraceID(1)) // a link with only a trace ID
	cons.Links().At(0).SetSpanID(SpanID(4))
	unspec := ss3.Spans().AppendEmpty()
	unspec.SetTraceID(TraceID(2))
	unspec.SetSpanID(SpanID(6))
	unspec.SetParentSpanID(SpanID(5))
	unspec.SetStartTimestamp(ts(time.Second + time.Millisecond))
	unspec.SetEndTimestamp(ts(time.Second + 2*time.Millisecond))
	// Kind UNSPECIFIED and an empty name on purpose.

	return td
}

// AllFieldsTraceIDs returns the trace IDs of AllFieldsTraces.
func AllFieldsTraceIDs() []pcommon.TraceID { return []pcommon.TraceID{TraceID(1), TraceID(2)} }

// AllFieldsLogs returns log records that set every field the store must keep: bodies of every AnyValue kind
// (and none), event_name, time and observed time (and a record with only the observed time), severity number
// and text, flags, trace and span IDs, attributes of every kind and the dropped count, under resources and
// scopes with attributes, dropped counts and schema URLs. Each call returns a new, identical value.
func AllFieldsLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	fillResource(rl.Resource(), "all-fields", 1)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.SetSchemaUrl("https://opentelemetry.io/schemas/1.24.0")
	fillScope(sl.Scope(), "otlpd/storagetest/logs", 9)

	n := 0
	add := func() plog.LogRecord {
		n++
		r := sl.LogRecords().AppendEmpty()
		r.SetTimestamp(ts(time.Duration(n) * time.Second))
		r.SetObservedTimestamp(ts(time.Duration(n)*time.Second + time.Millisecond))
		return r
	}

	full := add()
	full.SetSeverityNumber(plog.SeverityNumberError3)
	full.SetSeverityText("ERROR3")
	full.Body().SetStr("payment failed for order 42")
	PutAllValueKinds(full.Attributes(), "log.")
	full.SetDroppedAttributesCount(11)
	full.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
	full.SetTraceID(TraceID(1))
	full.SetSpanID(SpanID(1))
	full.SetEventName("payment.failed")

	add().Body().SetInt(-12345)
	add().Body().SetDouble(2.75)
	add().Body().SetBool(true)
	add().Body().SetEmptyBytes().FromRaw([]byte{0xde, 0xad, 0xbe, 0xef})
	arr := add().Body().SetEmptySlice()
	arr.AppendEmpty().SetStr("x")
	arr.AppendEmpty().SetEmptySlice().AppendEmpty().SetInt(1)
	arr.AppendEmpty().SetEmptyMap().PutStr("k", "v")
	m := add()
	m.SetSeverityNumber(plog.SeverityNumberInfo)
	m.SetSeverityText("information")
	PutAllValueKinds(m.Body().SetEmptyMap(), "body.")
	add().Body().SetStr("") // an empty string body
	add()                   // no body at all (empty value)

	obs := add()
	obs.SetTimestamp(0) // time unknown: only the observed time
	obs.SetSeverityNumber(plog.SeverityNumberFatal4)
	obs.SetSeverityText("PANIC")
	obs.Body().SetStr("observed only")
	obs.SetFlags(plog.LogRecordFlags(0xff))

	for sev := plog.SeverityNumberTrace; sev <= plog.SeverityNumberFatal4; sev += 5 {
		r := add()
		r.SetSeverityNumber(sev)
		r.SetSeverityText(sev.String())
		r.Body().SetStr("severity " + sev.String())
	}

	// A second resource without service.name and an empty scope.
	rl2 := ld.ResourceLogs().AppendEmpty()
	r := rl2.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetTimestamp(ts(100 * time.Second))
	r.Body().SetStr("from a resource with no attributes")
	r.SetSpanID(SpanID(3)) // a span ID without a trace ID
	return ld
}

// AllFieldsMetrics returns metrics of every kind, setting every field the store must keep: gauges and sums
// with int and double points, sums of both temporalities monotonic or not, histograms with and without
// sum/min/max, exponential histograms with zero threshold, offsets and negative buckets, summaries,
// exemplars with int and double values and trace and span IDs, the NO_RECORDED_VALUE flag, metric metadata,
// description and unit. Each call returns a new, identical value.
func AllFieldsMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	fillResource(rm.Resource(), "all-fields", 2)
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.SetSchemaUrl("https://opentelemetry.io/schemas/1.23.0")
	fillScope(sm.Scope(), "otlpd/storagetest/metrics", 4)
	ms := sm.Metrics()

	exemplars := func(s pmetric.ExemplarSlice) {
		e := s.AppendEmpty()
		e.SetTimestamp(ts(500 * time.Millisecond))
		e.SetDoubleValue(0.125)
		e.SetTraceID(TraceID(1))
		e.SetSpanID(SpanID(1))
		e.FilteredAttributes().PutStr("user.id", "u-1")
		PutAllValueKinds(e.FilteredAttributes(), "ex.")
		e2 := s.AppendEmpty()
		e2.SetTimestamp(ts(600 * time.Millisecond))
		e2.SetIntValue(-3)
		e2.SetTraceID(TraceID(2))
		e2.SetSpanID(SpanID(5))
		s.AppendEmpty().SetTimestamp(ts(700 * time.Millisecond)) // no value, no IDs
	}

	g := ms.AppendEmpty()
	g.SetName("system.memory.usage")
	g.SetDescription("Memory in use.")
	g.SetUnit("By")
	g.Metadata().PutStr("origin", "storagetest")
	PutAllValueKinds(g.Metadata(), "meta.")
	gp := g.SetEmptyGauge().DataPoints()
	p := gp.AppendEmpty()
	p.SetTimestamp(ts(time.Second))
	p.SetIntValue(math.MaxInt64)
	PutAllValueKinds(p.Attributes(), "pt.")
	exemplars(p.Exemplars())
	p = gp.AppendEmpty()
	p.SetStartTimestamp(ts(0))
	p.SetTimestamp(ts(2 * time.Second))
	p.SetDoubleValue(-1.5)
	p = gp.AppendEmpty()
	p.SetTimestamp(ts(3 * time.Second))
	p.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))

	sums := []struct {
		name string
		temp pmetric.AggregationTemporality
		mono bool
	}{
		{"http.server.requests", pmetric.AggregationTemporalityCumulative, true},
		{"queue.depth.changes", pmetric.AggregationTemporalityDelta, false},
		{"bytes.sent", pmetric.AggregationTemporalityDelta, true},
		{"connections.open", pmetric.AggregationTemporalityCumulative, false},
	}
	for i, sd := range sums {
		s := ms.AppendEmpty()
		s.SetName(sd.name)
		s.SetUnit("{request}")
		sum := s.SetEmptySum()
		sum.SetAggregationTemporality(sd.temp)
		sum.SetIsMonotonic(sd.mono)
		p := sum.DataPoints().AppendEmpty()
		p.SetStartTimestamp(ts(0))
		p.SetTimestamp(ts(10 * time.Second))
		p.Attributes().PutStr("http.route", "/items")
		p.Attributes().PutInt("http.response.status_code", 200)
		if i%2 == 0 {
			p.SetIntValue(int64(100 * (i + 1)))
		} else {
			p.SetDoubleValue(float64(i) + 0.5)
		}
		exemplars(p.Exemplars())
		p2 := sum.DataPoints().AppendEmpty()
		p2.SetStartTimestamp(ts(10 * time.Second))
		p2.SetTimestamp(ts(20 * time.Second))
		p2.SetIntValue(0)
		p2.Attributes().PutStr("http.route", "/other")
	}

	h := ms.AppendEmpty()
	h.SetName("http.server.request.duration")
	h.SetDescription("Duration of HTTP server requests.")
	h.SetUnit("s")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetStartTimestamp(ts(0))
	hp.SetTimestamp(ts(10 * time.Second))
	hp.SetCount(17)
	hp.SetSum(4.25)
	hp.SetMin(0.001)
	hp.SetMax(2.5)
	hp.ExplicitBounds().FromRaw([]float64{0.005, 0.01, 0.1, 1})
	hp.BucketCounts().FromRaw([]uint64{1, 2, 10, 3, 1})
	hp.Attributes().PutStr("http.route", "/items")
	exemplars(hp.Exemplars())
	hp2 := hist.DataPoints().AppendEmpty() // no sum, min, max or buckets
	hp2.SetStartTimestamp(ts(0))
	hp2.SetTimestamp(ts(20 * time.Second))
	hp2.SetCount(0)
	hp3 := hist.DataPoints().AppendEmpty()
	hp3.SetTimestamp(ts(30 * time.Second))
	hp3.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))

	hd := ms.AppendEmpty()
	hd.SetName("rpc.client.duration.delta")
	hd.SetUnit("ms")
	hdp := hd.SetEmptyHistogram()
	hdp.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	p4 := hdp.DataPoints().AppendEmpty()
	p4.SetStartTimestamp(ts(10 * time.Second))
	p4.SetTimestamp(ts(20 * time.Second))
	p4.SetCount(3)
	p4.SetSum(-1.5) // a histogram of negative values
	p4.ExplicitBounds().FromRaw([]float64{-1, 0})
	p4.BucketCounts().FromRaw([]uint64{2, 1, 0})

	eh := ms.AppendEmpty()
	eh.SetName("latency.exp")
	eh.SetUnit("ms")
	exp := eh.SetEmptyExponentialHistogram()
	exp.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	ep := exp.DataPoints().AppendEmpty()
	ep.SetStartTimestamp(ts(0))
	ep.SetTimestamp(ts(10 * time.Second))
	ep.SetScale(-3)
	ep.SetZeroCount(2)
	ep.SetZeroThreshold(1e-9)
	ep.Positive().SetOffset(-2)
	ep.Positive().BucketCounts().FromRaw([]uint64{1, 0, 4})
	ep.Negative().SetOffset(5)
	ep.Negative().BucketCounts().FromRaw([]uint64{3})
	ep.SetCount(10)
	ep.SetSum(-12.5)
	ep.SetMin(-40)
	ep.SetMax(9)
	ep.Attributes().PutBool("cache.hit", false)
	exemplars(ep.Exemplars())
	ep2 := exp.DataPoints().AppendEmpty()
	ep2.SetTimestamp(ts(20 * time.Second))
	ep2.SetScale(20)
	ep2.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))

	su := ms.AppendEmpty()
	su.SetName("gc.pause")
	su.SetUnit("s")
	sp := su.SetEmptySummary().DataPoints().AppendEmpty()
	sp.SetStartTimestamp(ts(0))
	sp.SetTimestamp(ts(10 * time.Second))
	sp.SetCount(1000)
	sp.SetSum(12.75)
	for _, qv := range [][2]float64{{0, 0.001}, {0.5, 0.01}, {0.99, 0.2}, {1, 0.9}} {
		q := sp.QuantileValues().AppendEmpty()
		q.SetQuantile(qv[0])
		q.SetValue(qv[1])
	}
	sp.Attributes().PutStr("gc.kind", "major")
	sp2 := su.Summary().DataPoints().AppendEmpty()
	sp2.SetTimestamp(ts(20 * time.Second))
	sp2.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))

	// A second resource with no attributes and an empty scope.
	rm2 := md.ResourceMetrics().AppendEmpty()
	m2 := rm2.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m2.SetName("up")
	m2.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(1)
	m2.Gauge().DataPoints().At(0).SetTimestamp(ts(5 * time.Second))
	return md
}

// LargeTraces returns one trace whose spans carry large values: a 100 KiB string and bytes attribute, 500
// attributes on one span, 300 events and 100 links, nesting 16 levels deep (as deep as OTLP protobuf decoding allows, with room), and 2,000 small spans; each call returns a new,
// identical value.
func LargeTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "large")
	rs.Resource().Attributes().PutStr("res.big", strings.Repeat("r", 64<<10))
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("large")
	sp := ss.Spans().AppendEmpty()
	sp.SetTraceID(TraceID(200))
	sp.SetSpanID(SpanID(200))
	sp.SetName(strings.Repeat("n", 4096))
	sp.SetStartTimestamp(ts(0))
	sp.SetEndTimestamp(ts(time.Hour))
	a := sp.Attributes()
	a.PutStr("big.str", strings.Repeat("abcdefgh", 100<<7))
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	a.PutEmptyBytes("big.bytes").FromRaw(big)
	for i := range 500 {
		a.PutInt(fmt.Sprintf("attr.%03d", i), int64(i)*1_000_003)
	}
	deep := a.PutEmptyMap("deep")
	for i := range 16 {
		if i%2 == 0 {
			deep = deep.PutEmptyMap(fmt.Sprintf("level%d", i))
		} else {
			deep = deep.PutEmptySlice(fmt.Sprintf("level%d", i)).AppendEmpty().SetEmptyMap()
		}
	}
	deep.PutStr("bottom", "reached")
	list := a.PutEmptySlice("long.list")
	for i := range 5000 {
		list.AppendEmpty().SetInt(int64(i))
	}
	for i := range 300 {
		ev := sp.Events().AppendEmpty()
		ev.SetName(fmt.Sprintf("event %d", i))
		ev.SetTimestamp(ts(time.Duration(i) * time.Second))
		ev.Attributes().PutInt("i", int64(i))
	}
	for i := range 100 {
		ln := sp.Links().AppendEmpty()
		ln.SetTraceID(TraceID(byte(i)))
		ln.SetSpanID(SpanID(byte(i)))
		ln.Attributes().PutInt("i", int64(i))
	}
	for i := range 2000 {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(TraceID(200))
		s.SetSpanID(pcommon.SpanID{0xbb, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
		s.SetParentSpanID(SpanID(200))
		s.SetName(fmt.Sprintf("child %d", i%17))
		s.SetKind(ptrace.SpanKind(i % 6))
		s.SetStartTimestamp(ts(time.Duration(i) * time.Millisecond))
		s.SetEndTimestamp(ts(time.Duration(i+i%13) * time.Millisecond))
	}
	return td
}

// LargeLogs returns records with a 1 MiB string body, a large map body and many attributes.
func LargeLogs() plog.Logs {
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	r := recs.AppendEmpty()
	r.SetTimestamp(ts(time.Second))
	r.Body().SetStr(strings.Repeat("log line ", 1<<17))
	r2 := recs.AppendEmpty()
	r2.SetTimestamp(ts(2 * time.Second))
	m := r2.Body().SetEmptyMap()
	for i := range 2000 {
		m.PutStr(fmt.Sprintf("k%04d", i), strings.Repeat("v", i%64))
	}
	for i := range 300 {
		r2.Attributes().PutDouble(fmt.Sprintf("a%03d", i), float64(i)/3)
	}
	return ld
}

// LargeMetrics returns points with 1,000 explicit buckets, 2,000 exponential buckets on each side, and 100
// quantiles.
func LargeMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	h := ms.AppendEmpty()
	h.SetName("large.histogram")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	p := hist.DataPoints().AppendEmpty()
	p.SetTimestamp(ts(time.Second))
	bounds := make([]float64, 1000)
	counts := make([]uint64, 1001)
	for i := range bounds {
		bounds[i] = float64(i) * 0.5
		counts[i] = uint64(i * i)
	}
	counts[1000] = math.MaxUint64
	p.ExplicitBounds().FromRaw(bounds)
	p.BucketCounts().FromRaw(counts)
	e := ms.AppendEmpty()
	e.SetName("large.exp")
	exp := e.SetEmptyExponentialHistogram()
	exp.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	ep := exp.DataPoints().AppendEmpty()
	ep.SetTimestamp(ts(time.Second))
	ep.SetScale(8)
	pos := make([]uint64, 2000)
	for i := range pos {
		pos[i] = uint64(i % 5)
	}
	ep.Positive().SetOffset(-1000)
	ep.Positive().BucketCounts().FromRaw(pos)
	ep.Negative().SetOffset(math.MaxInt32 - 2000)
	ep.Negative().BucketCounts().FromRaw(pos)
	s := ms.AppendEmpty()
	s.SetName("large.summary")
	sp := s.SetEmptySummary().DataPoints().AppendEmpty()
	sp.SetTimestamp(ts(time.Second))
	for i := range 100 {
		q := sp.QuantileValues().AppendEmpty()
		q.SetQuantile(float64(i) / 99)
		q.SetValue(float64(i * i))
	}
	return md
}
