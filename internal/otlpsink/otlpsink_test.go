package otlpsink

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func oneSpan() ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("x")
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func TestCountsAndDiscard(t *testing.T) {
	for _, discard := range []bool{false, true} {
		s, err := Start(Options{Discard: discard})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(s.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ptraceotlp.NewGRPCClient(conn).Export(context.Background(), oneSpan()); err != nil {
			t.Fatalf("discard=%v: grpc export: %v", discard, err)
		}
		body, _ := oneSpan().MarshalProto()
		resp, err := http.Post("http://"+s.HTTPAddr+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("discard=%v: http export: %v %v", discard, err, resp)
		}
		resp.Body.Close()
		conn.Close()
		s.Close()
		if discard && (s.Requests.Load() != 2 || s.Spans.Load() != 0) {
			t.Errorf("discard: requests %d spans %d, want 2 and 0", s.Requests.Load(), s.Spans.Load())
		}
		if !discard && s.Spans.Load() != 2 {
			t.Errorf("spans %d, want 2", s.Spans.Load())
		}
	}
}
