package otlp

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otlpd/otlpd/internal/otlpwire"
)

// The wire check against what it saves: a bare pdata unmarshal of the same request (512 workload spans or
// log records), and the whole decoding path (decode + validate).
//
//	go test ./internal/ingest/otlp -run NONE -bench WireCheck -benchtime 1s -count 3

// benchWire runs the check on body as pdata encodes it (fields in reverse order) and as protobuf-go (the
// SDKs) encodes it (sdkOrder: fields in order), and the slow path on body.
func benchWire(b *testing.B, body, sdkOrder []byte, items int, check func([]byte, int, *otlpwire.Index) (int, bool), unmarshal func([]byte) error, slow func([]byte) int) {
	for _, in := range []struct {
		name string
		body []byte
	}{{"check", body}, {"check-sdk-order", sdkOrder}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.body)))
			idx := &otlpwire.Index{} // indexing as the receiver does, into a reused index
			measure(b, items, func() {
				if n, ok := check(in.body, 64<<10, idx); !ok || n != items {
					b.Fatalf("check: %d, %v", n, ok)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
		})
	}
	b.Run("pdata", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		measure(b, items, func() {
			if err := unmarshal(body); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
	})
	b.Run("decode+validate", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		measure(b, items, func() {
			if n := slow(body); n != items {
				b.Fatalf("slow path kept %d items", n)
			}
		})
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
	})
}

func BenchmarkWireCheckTraces(b *testing.B) {
	body := must(ptraceotlp.NewExportRequestFromTraces(genTraces(1, benchSpans)).MarshalProto())
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		b.Fatal(err)
	}
	benchWire(b, body, must(proto.MarshalOptions{Deterministic: true}.Marshal(&req)), benchSpans, CheckTraces,
		func(body []byte) error { return ptraceotlp.NewExportRequest().UnmarshalProto(body) },
		func(body []byte) int {
			td, _, err := decodeTraces(body, formatProto)
			if err != nil {
				b.Fatal(err)
			}
			validateTraces(td, 64<<10)
			return td.SpanCount()
		})
}

func BenchmarkWireCheckLogs(b *testing.B) {
	body := must(plogotlp.NewExportRequestFromLogs(genLogs(1, benchLogs)).MarshalProto())
	var req collogs.ExportLogsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		b.Fatal(err)
	}
	benchWire(b, body, must(proto.MarshalOptions{Deterministic: true}.Marshal(&req)), benchLogs, CheckLogs,
		func(body []byte) error { return plogotlp.NewExportRequest().UnmarshalProto(body) },
		func(body []byte) int {
			ld, _, err := decodeLogs(body, formatProto)
			if err != nil {
				b.Fatal(err)
			}
			validateLogs(ld, 64<<10)
			return ld.LogRecordCount()
		})
}

// nopConsumer takes batches and drops them; nopRawConsumer also takes raw ones.
type nopConsumer struct{}

func (nopConsumer) Traces(context.Context, ptrace.Traces, int64) error    { return nil }
func (nopConsumer) Logs(context.Context, plog.Logs, int64) error          { return nil }
func (nopConsumer) Metrics(context.Context, pmetric.Metrics, int64) error { return nil }

type nopRawConsumer struct{ nopConsumer }

func (nopRawConsumer) TracesRaw(context.Context, []byte, *otlpwire.Index, int64) error { return nil }
func (nopRawConsumer) LogsRaw(context.Context, []byte, *otlpwire.Index, int64) error   { return nil }

// BenchmarkExportTraces is the receiver's whole handling of a protobuf request (not the transport) for a
// consumer that takes raw batches and for one that does not.
func BenchmarkExportTraces(b *testing.B) {
	body := must(ptraceotlp.NewExportRequestFromTraces(genTraces(1, benchSpans)).MarshalProto())
	for _, c := range []struct {
		name string
		next Consumer
	}{{"raw", nopRawConsumer{}}, {"decoded", nopConsumer{}}} {
		b.Run(c.name, func(b *testing.B) {
			r := New(c.next, Options{}, nil)
			b.SetBytes(int64(len(body)))
			measure(b, benchSpans, func() {
				if _, n, err := r.exportTraces(context.Background(), body, formatProto); err != nil || n.accepted != benchSpans {
					b.Fatal(n, err)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSpans), "ns/item")
		})
	}
}
