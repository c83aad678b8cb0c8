package storagetest

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The test data must be expressible in OTLP: it survives the OTLP protobuf and JSON encodings, so that
// end-to-end tests can send it and backends can encode it with pdata.
func TestDataSurvivesOTLPEncodings(t *testing.T) {
	for name, td := range map[string]ptrace.Traces{"AllFieldsTraces": AllFieldsTraces(), "LargeTraces": LargeTraces()} {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			t.Fatalf("%s: marshal protobuf: %v", name, err)
		}
		got, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(b)
		if err != nil {
			t.Fatalf("%s: unmarshal protobuf: %v", name, err)
		}
		if d := DiffTraces(td, got); d != "" {
			t.Errorf("%s: protobuf round trip:\n%s", name, d)
		}
		j, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		if err != nil {
			t.Fatalf("%s: marshal JSON: %v", name, err)
		}
		got, err = (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(j)
		if err != nil {
			t.Fatalf("%s: unmarshal JSON: %v", name, err)
		}
		if d := DiffTraces(td, got); d != "" {
			t.Errorf("%s: JSON round trip:\n%s", name, d)
		}
	}
	for name, ld := range map[string]plog.Logs{"AllFieldsLogs": AllFieldsLogs(), "LargeLogs": LargeLogs()} {
		b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
		if err != nil {
			t.Fatalf("%s: marshal protobuf: %v", name, err)
		}
		got, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
		if err != nil {
			t.Fatalf("%s: unmarshal protobuf: %v", name, err)
		}
		if d := DiffLogs(ld, got); d != "" {
			t.Errorf("%s: protobuf round trip:\n%s", name, d)
		}
		j, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		if err != nil {
			t.Fatalf("%s: marshal JSON: %v", name, err)
		}
		got, err = (&plog.JSONUnmarshaler{}).UnmarshalLogs(j)
		if err != nil {
			t.Fatalf("%s: unmarshal JSON: %v", name, err)
		}
		if d := DiffLogs(ld, got); d != "" {
			t.Errorf("%s: JSON round trip:\n%s", name, d)
		}
	}
	for name, md := range map[string]pmetric.Metrics{"AllFieldsMetrics": AllFieldsMetrics(), "LargeMetrics": LargeMetrics()} {
		b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
		if err != nil {
			t.Fatalf("%s: marshal protobuf: %v", name, err)
		}
		got, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(b)
		if err != nil {
			t.Fatalf("%s: unmarshal protobuf: %v", name, err)
		}
		if d := DiffMetrics(md, got); d != "" {
			t.Errorf("%s: protobuf round trip:\n%s", name, d)
		}
		j, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
		if err != nil {
			t.Fatalf("%s: marshal JSON: %v", name, err)
		}
		got, err = (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(j)
		if err != nil {
			t.Fatalf("%s: unmarshal JSON: %v", name, err)
		}
		if d := DiffMetrics(md, got); d != "" {
			t.Errorf("%s: JSON round trip:\n%s", name, d)
		}
	}
}
