package otlp

import (
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestJSONRules checks that the JSON decode path follows the OTLP JSON rules: hex IDs in either case,
// integer enums, 64-bit integers as strings or numbers, unknown fields ignored, lowerCamelCase keys.
func TestJSONRules(t *testing.T) {
	t.Run("traces", func(t *testing.T) {
		body := `{
		  "resourceSpans": [{
		    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}], "futureField": 7},
		    "unknownTopLevel": {"nested": [1, 2, {"x": "y"}]},
		    "scopeSpans": [{
		      "scope": {"name": "lib", "version": "1.0"},
		      "spans": [{
		        "traceId": "5B8EFFF798038103D269B633813FC60C",
		        "spanId": "eee19b7ec3c1b174",
		        "parentSpanId": "EEE19B7EC3C1B173",
		        "name": "GET /",
		        "kind": 2,
		        "startTimeUnixNano": "1544712660000000000",
		        "endTimeUnixNano": 1544712661000000000,
		        "attributes": [
		          {"key": "int_as_string", "value": {"intValue": "9007199254740993"}},
		          {"key": "int_as_number", "value": {"intValue": 42}},
		          {"key": "double", "value": {"doubleValue": 1.5}},
		          {"key": "bytes", "value": {"bytesValue": "AQID"}}
		        ],
		        "status": {"code": 2, "message": "boom"},
		        "someNewField": "ignored"
		      }]
		    }]
		  }]
		}`
		td, rej, err := decodeTraces([]byte(body), formatJSON)
		if err != nil || rej.count != 0 {
			t.Fatalf("decode: %v (rejected %d)", err, rej.count)
		}
		if td.SpanCount() != 1 {
			t.Fatalf("%d spans", td.SpanCount())
		}
		s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		wantTrace := pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
		if s.TraceID() != wantTrace {
			t.Errorf("trace id %v", s.TraceID())
		}
		if s.SpanID() != (pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}) {
			t.Errorf("span id %v", s.SpanID())
		}
		if s.ParentSpanID() != (pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73}) {
			t.Errorf("parent span id %v", s.ParentSpanID())
		}
		if s.Kind() != ptrace.SpanKindServer || s.Status().Code() != ptrace.StatusCodeError || s.Status().Message() != "boom" {
			t.Errorf("kind %v status %v %q", s.Kind(), s.Status().Code(), s.Status().Message())
		}
		if s.StartTimestamp() != 1544712660000000000 || s.EndTimestamp() != 1544712661000000000 {
			t.Errorf("times %d %d", s.StartTimestamp(), s.EndTimestamp())
		}
		a := s.Attributes()
		if v, _ := a.Get("int_as_string"); v.Int() != 9007199254740993 {
			t.Errorf("int_as_string = %d (precision lost?)", v.Int())
		}
		if v, _ := a.Get("int_as_number"); v.Int() != 42 {
			t.Errorf("int_as_number = %d", v.Int())
		}
		if v, _ := a.Get("double"); v.Double() != 1.5 {
			t.Errorf("double = %v", v.Double())
		}
		if v, _ := a.Get("bytes"); string(v.Bytes().AsRaw()) != "\x01\x02\x03" {
			t.Errorf("bytes = %v", v.Bytes().AsRaw())
		}
		if v, ok := td.ResourceSpans().At(0).Resource().Attributes().Get("service.name"); !ok || v.Str() != "shop" {
			t.Errorf("service.name = %v", v)
		}
	})
	t.Run("logs", func(t *testing.T) {
		body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{
		  "timeUnixNano":"1700000000000000001","observedTimeUnixNano":1700000000000000002,
		  "severityNumber":17,"severityText":"ERROR","eventName":"login.failed",
		  "traceId":"5b8efff798038103d269b633813fc60c","spanId":"EEE19B7EC3C1B174","flags":1,
		  "body":{"kvlistValue":{"values":[{"key":"user","value":{"stringValue":"ann"}}]}},
		  "droppedAttributesCount":3,"mystery":{"a":1}}]}]}]}`
		ld, _, err := decodeLogs([]byte(body), formatJSON)
		if err != nil {
			t.Fatal(err)
		}
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		if lr.Timestamp() != 1700000000000000001 || lr.ObservedTimestamp() != 1700000000000000002 {
			t.Errorf("times %d %d", lr.Timestamp(), lr.ObservedTimestamp())
		}
		if lr.SeverityNumber() != plog.SeverityNumberError || lr.SeverityText() != "ERROR" || lr.EventName() != "login.failed" {
			t.Errorf("severity %v %q event %q", lr.SeverityNumber(), lr.SeverityText(), lr.EventName())
		}
		if lr.SpanID() != (pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}) || lr.Flags() != 1 || lr.DroppedAttributesCount() != 3 {
			t.Errorf("span id %v flags %d dropped %d", lr.SpanID(), lr.Flags(), lr.DroppedAttributesCount())
		}
		if v, ok := lr.Body().Map().Get("user"); !ok || v.Str() != "ann" {
			t.Errorf("body %v", lr.Body().AsRaw())
		}
	})
	t.Run("metrics", func(t *testing.T) {
		body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
		  {"name":"requests","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
		    "dataPoints":[{"asInt":"123456789012345678","timeUnixNano":"5","startTimeUnixNano":1}]}},
		  {"name":"latency","histogram":{"aggregationTemporality":1,"dataPoints":[
		    {"count":"3","sum":1.5,"bucketCounts":["1",2],"explicitBounds":[0.5],"timeUnixNano":"5","flags":1}]}},
		  {"name":"temp","gauge":{"dataPoints":[{"asDouble":"NaN","timeUnixNano":"5"}]}}
		]}]}]}`
		md, rej, err := decodeMetrics([]byte(body), formatJSON)
		if err != nil || rej.count != 0 {
			t.Fatalf("decode: %v, %d rejected", err, rej.count)
		}
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		sum := ms.At(0).Sum()
		if sum.AggregationTemporality() != pmetric.AggregationTemporalityCumulative || !sum.IsMonotonic() ||
			sum.DataPoints().At(0).IntValue() != 123456789012345678 {
			t.Errorf("sum %v %v %d", sum.AggregationTemporality(), sum.IsMonotonic(), sum.DataPoints().At(0).IntValue())
		}
		h := ms.At(1).Histogram()
		dp := h.DataPoints().At(0)
		if h.AggregationTemporality() != pmetric.AggregationTemporalityDelta || dp.Count() != 3 ||
			dp.BucketCounts().Len() != 2 || dp.BucketCounts().At(0) != 1 || dp.BucketCounts().At(1) != 2 || dp.Flags() != 1 {
			t.Errorf("histogram %v count %d buckets %v flags %d", h.AggregationTemporality(), dp.Count(), dp.BucketCounts().AsRaw(), dp.Flags())
		}
		if v := ms.At(2).Gauge().DataPoints().At(0).DoubleValue(); !math.IsNaN(v) {
			t.Errorf("gauge %v, want NaN", v)
		}
	})
}
