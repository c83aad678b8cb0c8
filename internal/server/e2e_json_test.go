package server

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
)

// postOTLP posts body to an OTLP/HTTP path and returns the status and response body.
func (r *running) postOTLP(t *testing.T, path, contentType, encoding string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.otlp(path), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// Hand-written OTLP/JSON, as a browser or a curl user would send it: upper- and lower-case hex IDs, 64-bit
// integers as strings and as numbers, integer enums, and fields otlpd does not know (which must be ignored).
const jsonTraces = `{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-shop"}}], "droppedAttributesCount": 1, "fromTheFuture": true},
    "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
    "scopeSpans": [{
      "scope": {"name": "hand", "version": "1", "attributes": [{"key": "s", "value": {"boolValue": true}}]},
      "schemaUrl": "https://example.com/scope",
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "traceState": "congo=t61rcWkgMzE",
        "name": "POST /pay",
        "kind": 3,
        "flags": 769,
        "startTimeUnixNano": "1700000000000000001",
        "endTimeUnixNano": 1700000000500000000,
        "attributes": [
          {"key": "big", "value": {"intValue": "9223372036854775807"}},
          {"key": "small", "value": {"intValue": -5}},
          {"key": "ratio", "value": {"doubleValue": "Infinity"}},
          {"key": "raw", "value": {"bytesValue": "3q2+7w=="}},
          {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"arrayValue": {"values": [{"intValue": "1"}]}}]}}},
          {"key": "obj", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}},
          {"key": "empty", "value": {}}
        ],
        "droppedAttributesCount": 2,
        "events": [{"timeUnixNano": "1700000000100000000", "name": "retry", "attributes": [{"key": "n", "value": {"intValue": 2}}], "droppedAttributesCount": 1, "color": "red"}],
        "droppedEventsCount": 3,
        "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "traceState": "rojo=00f067aa0ba902b7", "flags": 1, "droppedAttributesCount": 4}],
        "droppedLinksCount": 5,
        "status": {"code": 2, "message": "card declined", "reason": "ignored"}
      }, {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "0000000000000001",
        "parentSpanId": "eee19b7ec3c1b174",
        "name": "charge",
        "kind": 4,
        "startTimeUnixNano": 1700000000200000000,
        "endTimeUnixNano": "1700000000300000000",
        "status": {"code": 1}
      }]
    }]
  }]
}`

const jsonLogs = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-shop"}}]},
  "scopeLogs":[{"scope":{"name":"hand-logger"},"logRecords":[
    {"timeUnixNano":"1700000001000000000","observedTimeUnixNano":1700000001000000001,"severityNumber":21,"severityText":"FATAL",
     "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"out of cheese"}},{"key":"code","value":{"intValue":"42"}}]}},
     "attributes":[{"key":"thread.id","value":{"intValue":"7"}}],"droppedAttributesCount":1,"flags":1,
     "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","eventName":"cheese.gone","novel":[1,2]},
    {"timeUnixNano":"0","observedTimeUnixNano":"1700000002000000000","severityNumber":9,"body":{"bytesValue":"AAEC"}}
  ]}]}]}`

const jsonMetrics = `{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-shop"}}]},
  "scopeMetrics":[{"scope":{"name":"hand-meter"},"metrics":[
    {"name":"payments","unit":"1","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[
      {"asInt":"9007199254740993","startTimeUnixNano":"1700000000000000000","timeUnixNano":"1700000010000000000",
       "attributes":[{"key":"method","value":{"stringValue":"card"}}],
       "exemplars":[{"asDouble":1.5,"timeUnixNano":"1700000005000000000","traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","filteredAttributes":[{"key":"user","value":{"stringValue":"u1"}}]}]}]}},
    {"name":"latency","unit":"s","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[
      {"count":"6","sum":3.5,"scale":1,"zeroCount":"1","zeroThreshold":0.001,"positive":{"offset":-1,"bucketCounts":["2","3"]},"negative":{},"min":0,"max":2,"flags":0,"timeUnixNano":"1700000010000000000"}]}},
    {"name":"rpc.summary","summary":{"dataPoints":[{"count":10,"sum":"55","quantileValues":[{"quantile":0.5,"value":4},{"quantile":1,"value":"10"}],"timeUnixNano":"1700000010000000000"}]}},
    {"name":"stale","gauge":{"dataPoints":[{"asDouble":"NaN","flags":1,"timeUnixNano":"1700000010000000000"}]}}
  ]}]}]}`

func TestHandWrittenJSON(t *testing.T) {
	r := start(t, Options{}, func(c *config.Config) { c.Engine.OTLPMetrics = true }) // read back as sent
	for _, c := range []struct{ path, body string }{{"/v1/traces", jsonTraces}, {"/v1/logs", jsonLogs}, {"/v1/metrics", jsonMetrics}} {
		resp, out := r.postOTLP(t, c.path, "application/json", "", []byte(c.body))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(out) != "{}" {
			t.Fatalf("POST %s: %d %q %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), out)
		}
	}

	t.Run("traces", func(t *testing.T) {
		code, body := r.get(t, "/api/otlpd/traces/5b8efff798038103d269b633813fc60c")
		if code != 200 {
			t.Fatalf("GET trace: %d %s", code, body)
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
		if err != nil {
			t.Fatal(err)
		}
		spans := map[string]ptrace.Span{}
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			checkEqual(t, "resource dropped", rs.Resource().DroppedAttributesCount(), uint32(1))
			checkEqual(t, "resource schema", rs.SchemaUrl(), "https://opentelemetry.io/schemas/1.26.0")
			ss := rs.ScopeSpans().At(0)
			checkEqual(t, "scope schema", ss.SchemaUrl(), "https://example.com/scope")
			checkEqual(t, "scope attrs", len(ss.Scope().Attributes().AsRaw()), 1)
			for k := 0; k < ss.Spans().Len(); k++ {
				spans[ss.Spans().At(k).Name()] = ss.Spans().At(k)
			}
		}
		s, child := spans["POST /pay"], spans["charge"]
		checkEqual(t, "span id", s.SpanID(), pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74})
		checkEqual(t, "trace state", s.TraceState().AsRaw(), "congo=t61rcWkgMzE")
		checkEqual(t, "kind", s.Kind(), ptrace.SpanKindClient)
		checkEqual(t, "flags", s.Flags(), uint32(769))
		checkEqual(t, "start", uint64(s.StartTimestamp()), uint64(1700000000000000001))
		checkEqual(t, "end", uint64(s.EndTimestamp()), uint64(1700000000500000000))
		a := s.Attributes()
		if v, _ := a.Get("big"); v.Int() != math.MaxInt64 {
			t.Errorf("big = %d", v.Int())
		}
		if v, _ := a.Get("small"); v.Int() != -5 {
			t.Errorf("small = %d", v.Int())
		}
		if v, _ := a.Get("ratio"); !math.IsInf(v.Double(), 1) {
			t.Errorf("ratio = %v", v.Double())
		}
		if v, _ := a.Get("raw"); !bytes.Equal(v.Bytes().AsRaw(), []byte{0xde, 0xad, 0xbe, 0xef}) {
			t.Errorf("raw = %x", v.Bytes().AsRaw())
		}
		if v, _ := a.Get("list"); v.Slice().Len() != 2 || v.Slice().At(1).Slice().At(0).Int() != 1 {
			t.Errorf("list = %v", v.AsRaw())
		}
		if v, _ := a.Get("obj"); v.Map().AsRaw()["k"] != "v" {
			t.Errorf("obj = %v", v.AsRaw())
		}
		if v, ok := a.Get("empty"); !ok || v.Type() != pcommon.ValueTypeEmpty {
			t.Errorf("empty = %v (present %v)", v.Type(), ok)
		}
		checkEqual(t, "dropped attributes", s.DroppedAttributesCount(), uint32(2))
		checkEqual(t, "dropped events", s.DroppedEventsCount(), uint32(3))
		checkEqual(t, "dropped links", s.DroppedLinksCount(), uint32(5))
		ev := s.Events().At(0)
		checkEqual(t, "event", ev.Name(), "retry")
		checkEqual(t, "event time", uint64(ev.Timestamp()), uint64(1700000000100000000))
		checkEqual(t, "event dropped", ev.DroppedAttributesCount(), uint32(1))
		l := s.Links().At(0)
		checkEqual(t, "link trace", l.TraceID(), pcommon.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c})
		checkEqual(t, "link trace state", l.TraceState().AsRaw(), "rojo=00f067aa0ba902b7")
		checkEqual(t, "link flags", l.Flags(), uint32(1))
		checkEqual(t, "link dropped", l.DroppedAttributesCount(), uint32(4))
		checkEqual(t, "status", s.Status().Code(), ptrace.StatusCodeError)
		checkEqual(t, "status message", s.Status().Message(), "card declined")
		checkEqual(t, "child parent", child.ParentSpanID(), s.SpanID())
		checkEqual(t, "child kind", child.Kind(), ptrace.SpanKindProducer)
		checkEqual(t, "child status", child.Status().Code(), ptrace.StatusCodeOk)
	})

	t.Run("logs", func(t *testing.T) {
		code, body := r.get(t, "/api/otlpd/logs?service=json-shop")
		if code != 200 {
			t.Fatalf("GET logs: %d %s", code, body)
		}
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(body)
		if err != nil || ld.LogRecordCount() != 2 {
			t.Fatalf("logs: %v, %d records: %s", err, ld.LogRecordCount(), body)
		}
		var recs []plog.LogRecord
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			lrs := ld.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				recs = append(recs, lrs.At(k))
			}
		}
		// Newest first: the second record's observed time (its time is 0) is later.
		bytesRec, rec := recs[0], recs[1]
		checkEqual(t, "bytes body", string(bytesRec.Body().Bytes().AsRaw()), "\x00\x01\x02")
		checkEqual(t, "observed", uint64(bytesRec.ObservedTimestamp()), uint64(1700000002000000000))
		checkEqual(t, "severity", rec.SeverityNumber(), plog.SeverityNumberFatal)
		checkEqual(t, "severity text", rec.SeverityText(), "FATAL")
		checkEqual(t, "event name", rec.EventName(), "cheese.gone")
		checkEqual(t, "trace id", rec.TraceID(), pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c})
		checkEqual(t, "span id", rec.SpanID(), pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74})
		checkEqual(t, "flags", uint32(rec.Flags()), uint32(1))
		checkEqual(t, "dropped", rec.DroppedAttributesCount(), uint32(1))
		if v, _ := rec.Body().Map().Get("code"); v.Int() != 42 {
			t.Errorf("body code = %v", v.AsRaw())
		}
		if v, _ := rec.Attributes().Get("thread.id"); v.Int() != 7 {
			t.Errorf("thread.id = %v", v.AsRaw())
		}
	})

	t.Run("metrics", func(t *testing.T) {
		get := func(name string) pmetric.Metric {
			t.Helper()
			code, body := r.get(t, "/api/otlpd/metrics/"+name)
			if code != 200 {
				t.Fatalf("GET %s: %d %s", name, code, body)
			}
			md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(body)
			if err != nil {
				t.Fatal(err)
			}
			return md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
		}
		sum := get("payments").Sum()
		checkEqual(t, "temporality", sum.AggregationTemporality(), pmetric.AggregationTemporalityDelta)
		dp := sum.DataPoints().At(0)
		checkEqual(t, "asInt", dp.IntValue(), int64(9007199254740993))
		ex := dp.Exemplars().At(0)
		checkEqual(t, "exemplar value", ex.DoubleValue(), 1.5)
		checkEqual(t, "exemplar span", ex.SpanID(), pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74})
		checkEqual(t, "exemplar attrs", ex.FilteredAttributes().AsRaw()["user"], any("u1"))

		eh := get("latency").ExponentialHistogram()
		ep := eh.DataPoints().At(0)
		checkEqual(t, "exp count", ep.Count(), uint64(6))
		checkEqual(t, "exp scale", ep.Scale(), int32(1))
		checkEqual(t, "exp zero", ep.ZeroCount(), uint64(1))
		checkEqual(t, "exp zero threshold", ep.ZeroThreshold(), 0.001)
		checkEqual(t, "exp offset", ep.Positive().Offset(), int32(-1))
		checkEqual(t, "exp buckets", ep.Positive().BucketCounts().Len(), 2)
		checkEqual(t, "exp max", ep.Max(), 2.0)

		sp := get("rpc.summary").Summary().DataPoints().At(0)
		checkEqual(t, "summary count", sp.Count(), uint64(10))
		checkEqual(t, "summary sum", sp.Sum(), 55.0)
		checkEqual(t, "summary q1", sp.QuantileValues().At(1).Value(), 10.0)

		gp := get("stale").Gauge().DataPoints().At(0)
		checkEqual(t, "no recorded value", gp.Flags().NoRecordedValue(), true)
		if !math.IsNaN(gp.DoubleValue()) {
			t.Errorf("stale value %v", gp.DoubleValue())
		}
	})
}

// TestHTTP2 exports over cleartext HTTP/2 (prior knowledge), which OTLP/HTTP clients may use.
func TestHTTP2(t *testing.T) {
	r := start(t, Options{}, nil)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	resp, err := client.Post(r.otlp("/v1/logs"), "application/json", bytes.NewReader([]byte(jsonLogs)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("status %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}
}
