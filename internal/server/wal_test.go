package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // the client compresses with gzip

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/storage/engine/wal"
	"github.com/otlpd/otlpd/internal/workload"
)

// walRecords returns the payloads of the records in the engine's write-ahead log under dataDir, read from a
// copy (the live segment is still open).
func walRecords(t *testing.T, dataDir string) [][]byte {
	t.Helper()
	src := filepath.Join(dataDir, "wal")
	segs, err := wal.Segments(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	var out [][]byte
	for _, seq := range segs {
		data, err := os.ReadFile(wal.SegmentPath(src, seq))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(wal.SegmentPath(dst, seq), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := wal.Replay(dst, seq, discardLogger(), func(_ byte, p []byte) error {
			out = append(out, bytes.Clone(p))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestWALHoldsRequestBytes checks that a protobuf export accepted whole is logged by the engine as the request's
// own bytes (after decompression; over gRPC and HTTP), and that one with a rejected item is logged as exactly
// the accepted items.
func TestWALHoldsRequestBytes(t *testing.T) {
	var dataDir string
	r := start(t, Options{}, func(c *config.Config) {
		c.Storage = "engine"
		dataDir = c.DataDir
	})
	gen := workload.New(7, workload.Options{})
	td, ld, bad := gen.NextTraces(50), gen.NextLogs(50), gen.NextTraces(50)
	bad.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(pcommon.TraceID{})
	// Each request ends with a field otlpd does not know (99, varint 1): decoding ignores it, so encoding the
	// decoded batch again would not give the request's bytes.
	unknown := []byte{0x98, 0x06, 0x01}
	spanReq := append(must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()), unknown...)
	logReq := append(must(plogotlp.NewExportRequestFromLogs(ld).MarshalProto()), unknown...)
	badReq := must(ptraceotlp.NewExportRequestFromTraces(bad).MarshalProto())

	conn, err := grpc.NewClient(r.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in, resp0 := rawBytes(spanReq), rawBytes(nil)
	if err := conn.Invoke(context.Background(), "/opentelemetry.proto.collector.trace.v1.TraceService/Export", &in, &resp0,
		grpc.ForceCodec(bytesCodec{}), grpc.UseCompressor("gzip")); err != nil {
		t.Fatalf("export spans over gRPC: %v", err)
	}
	if resp, out := r.postOTLP(t, "/v1/logs", "application/x-protobuf", "gzip", gzipped(logReq)); resp.StatusCode != http.StatusOK {
		t.Fatalf("export logs over HTTP: %d %s", resp.StatusCode, out)
	}
	resp, out := r.postOTLP(t, "/v1/traces", "application/x-protobuf", "", badReq)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export with a bad span: %d %s", resp.StatusCode, out)
	}
	partial := ptraceotlp.NewExportResponse()
	if err := partial.UnmarshalProto(out); err != nil || partial.PartialSuccess().RejectedSpans() != 1 {
		t.Fatalf("export with a bad span: response %q (%v); want 1 rejected span", out, err)
	}

	recs := walRecords(t, dataDir)
	if len(recs) != 3 {
		t.Fatalf("write-ahead log holds %d records, want 3", len(recs))
	}
	if !bytes.Equal(recs[0], spanReq) {
		t.Errorf("spans record: %d bytes, not the request's %d bytes", len(recs[0]), len(spanReq))
	}
	if !bytes.Equal(recs[1], logReq) {
		t.Errorf("logs record: %d bytes, not the request's %d bytes", len(recs[1]), len(logReq))
	}
	got, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(recs[2])
	if err != nil {
		t.Fatalf("decode the record of the partly rejected export: %v", err)
	}
	if got.SpanCount() != 49 {
		t.Errorf("record of the partly rejected export holds %d spans, want the 49 accepted", got.SpanCount())
	}
	bad.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { return s.TraceID().IsEmpty() })
	if want := must((&ptrace.ProtoMarshaler{}).MarshalTraces(bad)); !bytes.Equal(recs[2], want) {
		t.Errorf("record of the partly rejected export differs from the accepted spans encoded")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
