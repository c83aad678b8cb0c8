package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func mustBytes(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// spans builds a traces request of n valid spans of trace tid, with an attribute of attrBytes bytes.
func spans(tid byte, n, attrBytes int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bad-input")
	ss := rs.ScopeSpans().AppendEmpty()
	for i := range n {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{tid, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
		s.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i), 1, 1, 1, 1, 1, 1})
		s.SetName(fmt.Sprintf("span-%d", i))
		if attrBytes > 0 {
			s.Attributes().PutStr("payload", strings.Repeat("p", attrBytes))
		}
	}
	return td
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func zstded(b []byte) []byte {
	w, _ := zstd.NewWriter(nil)
	defer w.Close()
	return w.EncodeAll(b, nil)
}

// decodeStatus reads a google.rpc.Status error body in the encoding of contentType.
func decodeStatus(t *testing.T, contentType string, body []byte) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	if strings.HasPrefix(contentType, "application/json") {
		var js struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &js); err != nil {
			t.Fatalf("error body is not JSON: %q", body)
		}
		st.Code, st.Message = js.Code, js.Message
		return st
	}
	if err := proto.Unmarshal(body, st); err != nil {
		t.Fatalf("error body is not a protobuf Status: %q", body)
	}
	return st
}

// TestBadInput sends each kind of bad request and checks the status and message; after each, the server
// must still accept a valid export and answer its health check.
func TestBadInput(t *testing.T) {
	r := start(t, Options{}, nil)
	const limit = 20 << 20 // config default for OTLP/HTTP bodies
	valid := mustBytes(ptraceotlp.NewExportRequestFromTraces(spans(0x01, 3, 0)).MarshalProto())
	validJSON := mustBytes(ptraceotlp.NewExportRequestFromTraces(spans(0x02, 3, 0)).MarshalJSON())

	// Two spans with bad IDs between valid ones, in protobuf and JSON.
	mixed := spans(0x03, 4, 0)
	mixed.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).SetTraceID(pcommon.TraceID{})
	mixed.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(2).SetSpanID(pcommon.SpanID{})
	mixedJSON := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bad-input"}}]},"scopeSpans":[{"spans":[
	  {"traceId":"04000000000000000000000000000001","spanId":"0000000000000001","name":"ok"},
	  {"traceId":"0400","spanId":"0000000000000002","name":"short trace id"},
	  {"traceId":"04000000000000000000000000000001","spanId":"00000000000000000003","name":"long span id"}]}]}]}`
	oversized := spans(0x05, 2, 0)
	oversized.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().PutStr("blob", strings.Repeat("b", 70000))

	type check struct {
		name        string
		method      string
		path        string
		contentType string
		encoding    string
		body        []byte
		wantStatus  int
		wantMessage string // in the google.rpc.Status body, or in partial_success for 200
		wantStored  string // hex trace ID that must then be readable
		wantMissing string // hex trace ID that must not be stored
	}
	cases := []check{
		{name: "wrong content type", path: "/v1/traces", contentType: "text/plain", body: valid,
			wantStatus: 415, wantMessage: `unsupported Content-Type "text/plain" (want application/x-protobuf or application/json)`},
		{name: "truncated protobuf", path: "/v1/traces", contentType: "application/x-protobuf", body: valid[:len(valid)-7],
			wantStatus: 400, wantMessage: "decode traces protobuf request"},
		{name: "malformed JSON", path: "/v1/logs", contentType: "application/json", body: []byte(`{"resourceLogs":[{"scopeLogs":[`),
			wantStatus: 400, wantMessage: "decode logs JSON request"},
		{name: "JSON with a string for an array", path: "/v1/metrics", contentType: "application/json", body: []byte(`{"resourceMetrics":"nope"}`),
			wantStatus: 400, wantMessage: "decode metrics JSON request"},
		{name: "gzip bomb", path: "/v1/traces", contentType: "application/x-protobuf", encoding: "gzip", body: gzipped(make([]byte, limit+1)),
			wantStatus: 413, wantMessage: "request body exceeds limit of 20971520 bytes after decompression"},
		{name: "zstd bomb", path: "/v1/logs", contentType: "application/json", encoding: "zstd", body: zstded(make([]byte, 64<<20)),
			wantStatus: 413, wantMessage: "request body exceeds limit of 20971520 bytes after decompression"},
		{name: "corrupt gzip", path: "/v1/traces", contentType: "application/x-protobuf", encoding: "gzip", body: []byte("not gzip at all"),
			wantStatus: 400, wantMessage: "gzip body"},
		{name: "unsupported encoding", path: "/v1/traces", contentType: "application/x-protobuf", encoding: "br", body: valid,
			wantStatus: 400, wantMessage: "unsupported Content-Encoding (want gzip, zstd or none)"},
		{name: "wrong method", method: http.MethodGet, path: "/v1/traces", contentType: "application/json",
			wantStatus: 405, wantMessage: "method GET not allowed"},
		{name: "empty protobuf request", path: "/v1/traces", contentType: "application/x-protobuf", body: nil,
			wantStatus: 200},
		{name: "empty JSON request", path: "/v1/metrics", contentType: "application/json", body: []byte("{}"),
			wantStatus: 200},
		{name: "invalid IDs mixed with valid spans", path: "/v1/traces", contentType: "application/x-protobuf",
			body:       mustBytes(ptraceotlp.NewExportRequestFromTraces(mixed).MarshalProto()),
			wantStatus: 200, wantMessage: "rejected 2 of 4 spans: resource_spans[0].scope_spans[0].spans[1]: trace_id must be 16 bytes and not all zeros; resource_spans[0].scope_spans[0].spans[2]: span_id must be 8 bytes and not all zeros",
			wantStored: "030102030405060708090a0b0c0d0e0f"},
		{name: "malformed JSON IDs mixed with a valid span", path: "/v1/traces", contentType: "application/json", body: []byte(mixedJSON),
			wantStatus: 200, wantMessage: "rejected 2 of 3 spans: resource_spans[0].scope_spans[0].spans[1]: trace_id has 4 hex digits, want 32; resource_spans[0].scope_spans[0].spans[2]: span_id has 20 hex digits, want 16",
			wantStored: "04000000000000000000000000000001"},
		{name: "oversized attribute value", path: "/v1/traces", contentType: "application/x-protobuf",
			body:       mustBytes(ptraceotlp.NewExportRequestFromTraces(oversized).MarshalProto()),
			wantStatus: 200, wantMessage: `rejected 1 of 2 spans: resource_spans[0].scope_spans[0].spans[1]: span attribute "blob" value 70000 bytes exceeds limit 65536`,
			wantStored: "050102030405060708090a0b0c0d0e0f"},
		{name: "oversized resource attribute rejects the resource", path: "/v1/traces", contentType: "application/json",
			body:       []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"stringValue":"` + strings.Repeat("r", 65537) + `"}}]},"scopeSpans":[{"spans":[{"traceId":"06000000000000000000000000000001","spanId":"0000000000000001"}]}]}]}`),
			wantStatus: 200, wantMessage: `rejected 1 of 1 spans: resource_spans[0]: resource attribute "k" value 65537 bytes exceeds limit 65536`,
			wantMissing: "06000000000000000000000000000001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, r.otlp(tc.path), bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			resp, err := r.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, _ = out.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.wantStatus, truncateBody(out.Bytes()))
			}
			gotCT := resp.Header.Get("Content-Type")
			if tc.wantStatus == 200 {
				msg := ""
				if out.Len() > 0 {
					res := ptraceotlp.NewExportResponse()
					if strings.HasPrefix(tc.contentType, "application/json") {
						err = res.UnmarshalJSON(out.Bytes())
					} else {
						err = res.UnmarshalProto(out.Bytes())
					}
					if err != nil {
						t.Fatalf("response %q: %v", out.Bytes(), err)
					}
					msg = res.PartialSuccess().ErrorMessage()
				}
				if msg != tc.wantMessage {
					t.Errorf("partial success message\n got %q\nwant %q", msg, tc.wantMessage)
				}
			} else {
				wantCT := tc.contentType
				if resp.StatusCode == 415 {
					wantCT = "application/json"
				}
				if gotCT != wantCT {
					t.Errorf("error Content-Type %q, want %q", gotCT, wantCT)
				}
				st := decodeStatus(t, gotCT, out.Bytes())
				if !strings.Contains(st.Message, tc.wantMessage) {
					t.Errorf("status message %q does not contain %q", st.Message, tc.wantMessage)
				}
				if resp.StatusCode == 405 && resp.Header.Get("Allow") != "POST, OPTIONS" {
					t.Errorf("Allow %q", resp.Header.Get("Allow"))
				}
			}
			if tc.wantStored != "" {
				if code, body := r.get(t, "/api/otlpd/traces/"+tc.wantStored); code != 200 {
					t.Errorf("valid spans not stored: %d %s", code, body)
				}
			}
			if tc.wantMissing != "" {
				if code, _ := r.get(t, "/api/otlpd/traces/"+tc.wantMissing); code != 404 {
					t.Errorf("rejected spans stored: %d", code)
				}
			}
			stillServes(t, r, valid, validJSON)
		})
	}

	t.Run("gRPC", func(t *testing.T) {
		conn, err := grpc.NewClient(r.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		client := ptraceotlp.NewGRPCClient(conn)
		ctx := context.Background()

		big := spans(0x07, 80, 64<<10) // 80 spans of 64 KiB: over 5 MiB
		_, err = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(big))
		if s, _ := status.FromError(err); s.Code() != codes.ResourceExhausted || !strings.Contains(s.Message(), "larger than max") {
			t.Errorf("5 MiB message: %v, want RESOURCE_EXHAUSTED", err)
		}

		var raw rawCodecClient
		_, err = raw.invoke(ctx, conn, []byte{0x0a, 0x05, 0x01}) // resource_spans claims 5 bytes, has 1
		if s, _ := status.FromError(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "decode traces protobuf request") {
			t.Errorf("truncated message: %v, want INVALID_ARGUMENT", err)
		}

		resp, err := client.Export(ctx, ptraceotlp.NewExportRequest())
		if err != nil || resp.PartialSuccess().ErrorMessage() != "" {
			t.Errorf("empty request: %v %q", err, resp.PartialSuccess().ErrorMessage())
		}

		mixed := spans(0x08, 3, 0)
		mixed.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(pcommon.TraceID{})
		resp, err = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(mixed))
		if err != nil || resp.PartialSuccess().RejectedSpans() != 1 ||
			resp.PartialSuccess().ErrorMessage() != "rejected 1 of 3 spans: resource_spans[0].scope_spans[0].spans[0]: trace_id must be 16 bytes and not all zeros" {
			t.Errorf("mixed: %v %d %q", err, resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage())
		}
		if code, _ := r.get(t, "/api/otlpd/traces/080102030405060708090a0b0c0d0e0f"); code != 200 {
			t.Errorf("valid spans of the mixed request not stored: %d", code)
		}
		stillServes(t, r, valid, validJSON)
	})
}

// rawCodecClient sends arbitrary bytes as a TraceService Export request.
type rawCodecClient struct{}

type rawBytes []byte

type bytesCodec struct{}

func (bytesCodec) Marshal(v any) ([]byte, error) { return *(v.(*rawBytes)), nil }
func (bytesCodec) Unmarshal(data []byte, v any) error {
	*(v.(*rawBytes)) = append([]byte(nil), data...)
	return nil
}
func (bytesCodec) Name() string { return "proto" }

func (rawCodecClient) invoke(ctx context.Context, conn *grpc.ClientConn, body []byte) ([]byte, error) {
	in, out := rawBytes(body), rawBytes(nil)
	err := conn.Invoke(ctx, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", &in, &out, grpc.ForceCodec(bytesCodec{}))
	return out, err
}

func truncateBody(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

// stillServes checks that the server answers its health check and accepts valid exports.
func stillServes(t *testing.T, r *running, validProto, validJSON []byte) {
	t.Helper()
	if code, _ := r.get(t, "/healthz"); code != 200 {
		t.Fatalf("healthz after bad input: %d", code)
	}
	for _, c := range []struct {
		ct   string
		body []byte
	}{{"application/x-protobuf", validProto}, {"application/json", validJSON}} {
		if resp, out := r.postOTLP(t, "/v1/traces", c.ct, "", c.body); resp.StatusCode != 200 {
			t.Fatalf("valid %s export after bad input: %d %s", c.ct, resp.StatusCode, out)
		}
	}
}
