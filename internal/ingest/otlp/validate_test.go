package otlp

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	logs "go.opentelemetry.io/proto/otlp/logs/v1"
	metrics "go.opentelemetry.io/proto/otlp/metrics/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// The requests here are built with the generated OTLP protobuf types, which (unlike pdata) can hold IDs of
// any length, so that every malformation a client can send is covered.

var (
	goodTrace = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	goodSpan  = []byte{1, 2, 3, 4, 5, 6, 7, 8}
)

func strAttr(k, v string) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
}

func goodSpanMsg(name string) *trace.Span {
	return &trace.Span{TraceId: goodTrace, SpanId: goodSpan, Name: name, StartTimeUnixNano: 1, EndTimeUnixNano: 2}
}

func traceReq(res []*common.KeyValue, spans ...*trace.Span) []byte {
	return must(proto.Marshal(&coltrace.ExportTraceServiceRequest{ResourceSpans: []*trace.ResourceSpans{{
		Resource:   &resource.Resource{Attributes: res},
		ScopeSpans: []*trace.ScopeSpans{{Spans: spans}},
	}}}))
}

// outcome is what one export did.
type outcome struct {
	err      error
	stored   int
	rejected int64
	msg      string
}

func exportOnce(t *testing.T, signal string, body []byte, f format, maxAttr int) outcome {
	t.Helper()
	c := &fakeConsumer{}
	r := New(c, Options{MaxAttributeValueBytes: maxAttr}, nil)
	ctx := context.Background()
	var o outcome
	switch signal {
	case "traces":
		resp, _, err := r.exportTraces(ctx, body, f)
		o.err, o.rejected, o.msg = err, resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage()
		for _, td := range c.traces {
			o.stored += td.SpanCount()
		}
	case "logs":
		resp, _, err := r.exportLogs(ctx, body, f)
		o.err, o.rejected, o.msg = err, resp.PartialSuccess().RejectedLogRecords(), resp.PartialSuccess().ErrorMessage()
		for _, ld := range c.logs {
			o.stored += ld.LogRecordCount()
		}
	case "metrics":
		resp, _, err := r.exportMetrics(ctx, body, f)
		o.err, o.rejected, o.msg = err, resp.PartialSuccess().RejectedDataPoints(), resp.PartialSuccess().ErrorMessage()
		for _, md := range c.metrics {
			o.stored += md.DataPointCount()
		}
	}
	return o
}

func TestValidateTraces(t *testing.T) {
	big := strings.Repeat("x", 100)
	f := func(name string, body []byte, wantStored int, wantRejected int64, wantMsg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			o := exportOnce(t, "traces", body, formatProto, 64)
			if o.err != nil {
				t.Fatalf("export: %v", o.err)
			}
			if o.stored != wantStored || o.rejected != wantRejected {
				t.Errorf("stored %d rejected %d, want %d and %d (message %q)", o.stored, o.rejected, wantStored, wantRejected, o.msg)
			}
			for _, w := range wantMsg {
				if !strings.Contains(o.msg, w) {
					t.Errorf("message %q does not contain %q", o.msg, w)
				}
			}
			if wantRejected == 0 && o.msg != "" {
				t.Errorf("full success with message %q", o.msg)
			}
		})
	}
	bad := func(mut func(*trace.Span)) *trace.Span {
		s := goodSpanMsg("bad")
		mut(s)
		return s
	}
	f("all valid", traceReq(nil, goodSpanMsg("a"), goodSpanMsg("b")), 2, 0)
	f("empty request", traceReq(nil), 0, 0)
	f("zero trace_id", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) { s.TraceId = make([]byte, 16) })), 1, 1,
		"rejected 1 of 2 spans", "resource_spans[0].scope_spans[0].spans[1]: trace_id must be 16 bytes and not all zeros")
	f("missing trace_id", traceReq(nil, bad(func(s *trace.Span) { s.TraceId = nil }), goodSpanMsg("a")), 1, 1,
		"spans[0]: trace_id must be 16 bytes")
	f("short trace_id", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) { s.TraceId = []byte{1, 2, 3} })), 1, 1,
		"spans[1]: trace_id is 3 bytes, want 16")
	f("long span_id", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) { s.SpanId = make([]byte, 9) })), 1, 1,
		"span_id is 9 bytes, want 8")
	f("zero span_id", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) { s.SpanId = make([]byte, 8) })), 1, 1,
		"span_id must be 8 bytes and not all zeros")
	f("parent_span_id of 5 bytes", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) { s.ParentSpanId = []byte{1, 2, 3, 4, 5} })), 1, 1,
		"parent_span_id is 5 bytes, want 8")
	f("link with short trace_id", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) {
		s.Links = []*trace.Span_Link{{TraceId: []byte{1}, SpanId: goodSpan}}
	})), 1, 1, "links[0] trace_id is 1 bytes, want 16")
	f("link with zero IDs", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) {
		s.Links = []*trace.Span_Link{{TraceId: make([]byte, 16), SpanId: goodSpan}}
	})), 1, 1, "links[0] must have a non-zero")
	f("oversized attribute", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) { s.Attributes = []*common.KeyValue{strAttr("k", big)} })), 1, 1,
		`span attribute "k" value 100 bytes exceeds limit 64`)
	f("attribute at the limit", traceReq(nil, bad(func(s *trace.Span) { s.Attributes = []*common.KeyValue{strAttr("k", big[:64])} })), 1, 0)
	f("oversized nested attribute", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) {
		s.Attributes = []*common.KeyValue{{Key: "m", Value: &common.AnyValue{Value: &common.AnyValue_KvlistValue{KvlistValue: &common.KeyValueList{
			Values: []*common.KeyValue{{Key: "arr", Value: &common.AnyValue{Value: &common.AnyValue_ArrayValue{ArrayValue: &common.ArrayValue{
				Values: []*common.AnyValue{{Value: &common.AnyValue_BytesValue{BytesValue: make([]byte, 65)}}},
			}}}}},
		}}}}}
	})), 1, 1, `attribute "m" value 65 bytes exceeds limit 64`)
	f("oversized event attribute", traceReq(nil, goodSpanMsg("a"), bad(func(s *trace.Span) {
		s.Events = []*trace.Span_Event{{Name: "e", Attributes: []*common.KeyValue{strAttr("k", big)}}}
	})), 1, 1, "events[0] attribute")
	f("oversized resource attribute rejects its spans", traceReq([]*common.KeyValue{strAttr("host.name", big)}, goodSpanMsg("a"), goodSpanMsg("b")), 0, 2,
		"resource_spans[0]: resource attribute \"host.name\"")
	many := []*trace.Span{goodSpanMsg("ok")}
	for range 5 {
		many = append(many, bad(func(s *trace.Span) { s.TraceId = nil }))
	}
	f("message is bounded", traceReq(nil, many...), 1, 5, "rejected 5 of 6 spans", "(and 2 more problems)")
}

func TestValidateLogs(t *testing.T) {
	rec := func(mut func(*logs.LogRecord)) *logs.LogRecord {
		r := &logs.LogRecord{TimeUnixNano: 1, SeverityNumber: logs.SeverityNumber_SEVERITY_NUMBER_INFO,
			Body: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: "hello"}}}
		if mut != nil {
			mut(r)
		}
		return r
	}
	req := func(recs ...*logs.LogRecord) []byte {
		return must(proto.Marshal(&collogs.ExportLogsServiceRequest{ResourceLogs: []*logs.ResourceLogs{{
			ScopeLogs: []*logs.ScopeLogs{{LogRecords: recs}},
		}}}))
	}
	f := func(name string, body []byte, wantStored int, wantRejected int64, wantMsg string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			o := exportOnce(t, "logs", body, formatProto, 64)
			if o.err != nil {
				t.Fatalf("export: %v", o.err)
			}
			if o.stored != wantStored || o.rejected != wantRejected || !strings.Contains(o.msg, wantMsg) {
				t.Errorf("stored %d rejected %d message %q; want %d, %d, %q", o.stored, o.rejected, o.msg, wantStored, wantRejected, wantMsg)
			}
		})
	}
	f("no IDs", req(rec(nil)), 1, 0, "")
	f("valid IDs", req(rec(func(r *logs.LogRecord) { r.TraceId, r.SpanId = goodTrace, goodSpan })), 1, 0, "")
	f("all-zero IDs mean no trace", req(rec(func(r *logs.LogRecord) { r.TraceId, r.SpanId = make([]byte, 16), make([]byte, 8) })), 1, 0, "")
	f("short trace_id", req(rec(nil), rec(func(r *logs.LogRecord) { r.TraceId = goodTrace[:15] })), 1, 1,
		"resource_logs[0].scope_logs[0].log_records[1]: trace_id is 15 bytes, want 16")
	f("long span_id", req(rec(func(r *logs.LogRecord) { r.SpanId = make([]byte, 12) }), rec(nil)), 1, 1, "span_id is 12 bytes, want 8")
	f("oversized body", req(rec(nil), rec(func(r *logs.LogRecord) {
		r.Body = &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: strings.Repeat("b", 65)}}
	})), 1, 1, "body 65 bytes exceeds limit 64")
	f("oversized attribute", req(rec(nil), rec(func(r *logs.LogRecord) {
		r.Attributes = []*common.KeyValue{strAttr("k", strings.Repeat("b", 65))}
	})), 1, 1, `attribute "k" value 65 bytes exceeds limit 64`)
}

func TestValidateMetrics(t *testing.T) {
	gauge := func(name string, points ...*metrics.NumberDataPoint) *metrics.Metric {
		return &metrics.Metric{Name: name, Data: &metrics.Metric_Gauge{Gauge: &metrics.Gauge{DataPoints: points}}}
	}
	intPoint := func(v int64) *metrics.NumberDataPoint {
		return &metrics.NumberDataPoint{TimeUnixNano: 1, Value: &metrics.NumberDataPoint_AsInt{AsInt: v}}
	}
	hist := func(counts []uint64, bounds []float64) *metrics.Metric {
		return &metrics.Metric{Name: "h", Data: &metrics.Metric_Histogram{Histogram: &metrics.Histogram{
			AggregationTemporality: metrics.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE,
			DataPoints:             []*metrics.HistogramDataPoint{{TimeUnixNano: 1, BucketCounts: counts, ExplicitBounds: bounds}},
		}}}
	}
	req := func(res []*common.KeyValue, ms ...*metrics.Metric) []byte {
		return must(proto.Marshal(&colmetrics.ExportMetricsServiceRequest{ResourceMetrics: []*metrics.ResourceMetrics{{
			Resource:     &resource.Resource{Attributes: res},
			ScopeMetrics: []*metrics.ScopeMetrics{{Metrics: ms}},
		}}}))
	}
	f := func(name string, body []byte, wantStored int, wantRejected int64, wantMsg string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			o := exportOnce(t, "metrics", body, formatProto, 64)
			if o.err != nil {
				t.Fatalf("export: %v", o.err)
			}
			if o.stored != wantStored || o.rejected != wantRejected || !strings.Contains(o.msg, wantMsg) {
				t.Errorf("stored %d rejected %d message %q; want %d, %d, %q", o.stored, o.rejected, o.msg, wantStored, wantRejected, wantMsg)
			}
		})
	}
	f("valid", req(nil, gauge("g", intPoint(1), intPoint(2)), hist([]uint64{1, 2, 3}, []float64{1, 2})), 3, 0, "")
	f("point without value", req(nil, gauge("g", intPoint(1), &metrics.NumberDataPoint{TimeUnixNano: 1})), 1, 1,
		`metrics[0] ("g").data_points[1]: point has no value`)
	f("bucket count mismatch", req(nil, gauge("g", intPoint(1)), hist([]uint64{1, 2}, []float64{1, 2})), 1, 1,
		"histogram has 2 bucket_counts for 2 explicit_bounds, want 3")
	f("non-increasing bounds", req(nil, gauge("g", intPoint(1)), hist([]uint64{1, 2, 3}, []float64{2, 2})), 1, 1,
		"explicit_bounds must increase strictly")
	f("empty histogram buckets are valid", req(nil, hist(nil, nil)), 1, 0, "")
	f("metric without type", req(nil, gauge("g", intPoint(1)), &metrics.Metric{Name: "nothing"}), 1, 1,
		`metrics[1] ("nothing"): metric has no data`)
	f("sum with temporality 0", req(nil, gauge("g", intPoint(1)), &metrics.Metric{Name: "s", Data: &metrics.Metric_Sum{Sum: &metrics.Sum{
		DataPoints: []*metrics.NumberDataPoint{intPoint(1), intPoint(2)},
	}}}), 1, 2, "aggregation_temporality must be DELTA (1) or CUMULATIVE (2), not 0")
	f("exemplar with short trace_id", req(nil, gauge("g", intPoint(1), &metrics.NumberDataPoint{TimeUnixNano: 1,
		Value:     &metrics.NumberDataPoint_AsDouble{AsDouble: 1},
		Exemplars: []*metrics.Exemplar{{TraceId: []byte{1, 2}, SpanId: goodSpan, Value: &metrics.Exemplar_AsInt{AsInt: 1}}},
	})), 1, 1, `metrics[0].data_points[1]: exemplars[0] trace_id is 2 bytes, want 16`)
	f("oversized resource attribute", req([]*common.KeyValue{strAttr("r", strings.Repeat("r", 65))}, gauge("g", intPoint(1), intPoint(2))), 0, 2,
		`resource_metrics[0]: resource attribute "r" value 65 bytes`)
}

// TestSalvageJSON checks that JSON items with malformed IDs are rejected one by one, the rest kept.
func TestSalvageJSON(t *testing.T) {
	f := func(name, signal, body string, wantStored int, wantRejected int64, wantMsg string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			o := exportOnce(t, signal, []byte(body), formatJSON, 64)
			if o.err != nil {
				t.Fatalf("export: %v", o.err)
			}
			if o.stored != wantStored || o.rejected != wantRejected || !strings.Contains(o.msg, wantMsg) {
				t.Errorf("stored %d rejected %d message %q; want %d, %d, %q", o.stored, o.rejected, o.msg, wantStored, wantRejected, wantMsg)
			}
		})
	}
	const good = `{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"ok"}`
	f("short trace id", "traces", `{"resourceSpans":[{"scopeSpans":[{"spans":[`+good+`,{"traceId":"abcd","spanId":"0102030405060708"}]}]}]}`,
		1, 1, "spans[1]: trace_id has 4 hex digits, want 32")
	f("not hex", "traces", `{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"zz02030405060708090a0b0c0d0e0f10","spanId":"0102030405060708"},`+good+`]}]}]}`,
		1, 1, "spans[0]: trace_id is not hex")
	f("bad link", "traces", `{"resourceSpans":[{"scopeSpans":[{"spans":[`+good+`,{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","links":[{"traceId":"01","spanId":"0102030405060708"}]}]}]}]}`,
		1, 1, "links[0] trace_id has 2 hex digits")
	f("log span id", "logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a"}},{"spanId":"0102"}]}]}]}`,
		1, 1, "log_records[1]: span_id has 4 hex digits, want 16")
	f("exemplar", "metrics", `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asInt":"1"},{"asInt":"2","exemplars":[{"asInt":"1","traceId":"12"}]}]}}]}]}]}`,
		1, 1, "data_points[1]: exemplars[0] trace_id has 2 hex digits")
}

// TestSalvageLargeJSON checks that a JSON body far over a few MiB with one malformed ID still loses only
// that item.
func TestSalvageLargeJSON(t *testing.T) {
	td := genTraces(5, 12000)
	body := must(ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON())
	// Corrupt the trace ID of one span in the middle: 32 hex digits become 4.
	first := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID().String()
	i := bytes.LastIndex(body, []byte(`"traceId":"`+first+`"`))
	if i < 0 {
		t.Fatal("trace ID not found in the JSON body")
	}
	bad := append(append(append([]byte{}, body[:i]...), []byte(`"traceId":"abcd"`)...), body[i+len(`"traceId":"`+first+`"`):]...)
	if len(bad) < 8<<20 {
		t.Fatalf("body is %d bytes; the test wants one over 8 MiB", len(bad))
	}
	o := exportOnce(t, "traces", bad, formatJSON, 64<<10)
	if o.err != nil {
		t.Fatalf("export: %v", o.err)
	}
	if o.stored != 11999 || o.rejected != 1 || !strings.Contains(o.msg, "trace_id has 4 hex digits, want 32") {
		t.Errorf("stored %d rejected %d message %q; want 11999 stored, 1 rejected", o.stored, o.rejected, o.msg)
	}
}
