package otlp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"compress/gzip"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(closingM{m})
}

// closingM closes the engine of the wire check tests (engineFor) once the tests have run, before the check
// for leaked goroutines.
type closingM struct{ m *testing.M }

func (c closingM) Run() int {
	code := c.m.Run()
	closeCheckEngine()
	return code
}

// fakeConsumer records what it is given and answers with err (when set).
type fakeConsumer struct {
	mu      sync.Mutex
	traces  []ptrace.Traces
	logs    []plog.Logs
	metrics []pmetric.Metrics
	sizes   []int64
	err     error
}

func (c *fakeConsumer) Traces(_ context.Context, td ptrace.Traces, size int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traces = append(c.traces, td)
	c.sizes = append(c.sizes, size)
	return c.err
}

func (c *fakeConsumer) Logs(_ context.Context, ld plog.Logs, size int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, ld)
	c.sizes = append(c.sizes, size)
	return c.err
}

func (c *fakeConsumer) Metrics(_ context.Context, md pmetric.Metrics, size int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.metrics = append(c.metrics, md)
	c.sizes = append(c.sizes, size)
	return c.err
}

// request is one signal's export request in both encodings, and how to compare what the consumer got.
type request struct {
	signal, path string
	proto, json  []byte
	// received returns the protobuf encoding of everything the consumer holds for the signal.
	received func(c *fakeConsumer) []byte
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func testRequests() []request {
	td := genTraces(1, 20)
	ld := genLogs(2, 20)
	md := genMetrics(3, 60)
	tr := ptraceotlp.NewExportRequestFromTraces(td)
	lr := plogotlp.NewExportRequestFromLogs(ld)
	mr := pmetricotlp.NewExportRequestFromMetrics(md)
	return []request{
		{
			signal: "traces", path: TracesPath, proto: must(tr.MarshalProto()), json: must(tr.MarshalJSON()),
			received: func(c *fakeConsumer) []byte {
				c.mu.Lock()
				defer c.mu.Unlock()
				all := ptrace.NewTraces()
				for _, t := range c.traces {
					t.ResourceSpans().CopyTo(all.ResourceSpans())
				}
				return must(ptraceotlp.NewExportRequestFromTraces(all).MarshalProto())
			},
		},
		{
			signal: "logs", path: LogsPath, proto: must(lr.MarshalProto()), json: must(lr.MarshalJSON()),
			received: func(c *fakeConsumer) []byte {
				c.mu.Lock()
				defer c.mu.Unlock()
				all := plog.NewLogs()
				for _, l := range c.logs {
					l.ResourceLogs().CopyTo(all.ResourceLogs())
				}
				return must(plogotlp.NewExportRequestFromLogs(all).MarshalProto())
			},
		},
		{
			signal: "metrics", path: MetricsPath, proto: must(mr.MarshalProto()), json: must(mr.MarshalJSON()),
			received: func(c *fakeConsumer) []byte {
				c.mu.Lock()
				defer c.mu.Unlock()
				all := pmetric.NewMetrics()
				for _, m := range c.metrics {
					m.ResourceMetrics().CopyTo(all.ResourceMetrics())
				}
				return must(pmetricotlp.NewExportRequestFromMetrics(all).MarshalProto())
			},
		},
	}
}

func compress(t testing.TB, encoding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch encoding {
	case "":
		return b
	case "gzip":
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(b)
		_ = w.Close()
	case "zstd":
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(b)
		_ = w.Close()
	default:
		t.Fatalf("unknown encoding %q", encoding)
	}
	return buf.Bytes()
}

func newHTTP(t *testing.T, c Consumer, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(c, opts, nil).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, contentType, encoding string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// TestHTTPRoundTrip posts each signal in each encoding and compression and checks that the consumer got
// exactly what was sent.
func TestHTTPRoundTrip(t *testing.T) {
	for _, rq := range testRequests() {
		for _, ct := range []string{"application/x-protobuf", "application/json", "application/json; charset=utf-8"} {
			for _, enc := range []string{"", "gzip", "zstd"} {
				t.Run(rq.signal+"/"+ct+"/"+enc, func(t *testing.T) {
					c := &fakeConsumer{}
					srv := newHTTP(t, c, Options{})
					body := rq.proto
					if ct != "application/x-protobuf" {
						body = rq.json
					}
					resp, out := post(t, srv.URL+rq.path, ct, enc, compress(t, enc, body))
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("status %d: %s", resp.StatusCode, out)
					}
					wantCT := "application/x-protobuf"
					if ct != wantCT {
						wantCT = "application/json"
					}
					if got := resp.Header.Get("Content-Type"); got != wantCT {
						t.Errorf("response Content-Type %q, want %q", got, wantCT)
					}
					if got := rq.received(c); !bytes.Equal(got, rq.proto) {
						t.Errorf("consumer got %d bytes of protobuf, sent %d; contents differ", len(got), len(rq.proto))
					}
					if len(c.sizes) != 1 || c.sizes[0] != int64(len(body)) {
						t.Errorf("sizes %v, want [%d]", c.sizes, len(body))
					}
					// A full success leaves partial_success unset: the empty message.
					if wantEmpty := map[string]string{"application/json": "{}", "application/x-protobuf": ""}[wantCT]; string(out) != wantEmpty {
						t.Errorf("full success response %q, want %q", out, wantEmpty)
					}
				})
			}
		}
	}
}

func startGRPC(t *testing.T, c Consumer, opts Options) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(c, opts, nil).NewGRPCServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		s.Stop()
		<-done
	})
	return conn
}

// TestGRPCRoundTrip exports each signal uncompressed, gzipped and with zstd, and checks that the consumer got
// exactly what was sent.
func TestGRPCRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, enc := range []string{"", "gzip", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			c := &fakeConsumer{}
			conn := startGRPC(t, c, Options{})
			var opts []grpc.CallOption
			if enc != "" {
				opts = append(opts, grpc.UseCompressor(enc))
			}
			reqs := testRequests()
			td, ld, md := genTraces(1, 20), genLogs(2, 20), genMetrics(3, 60)
			tr, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td), opts...)
			if err != nil {
				t.Fatalf("traces: %v", err)
			}
			if tr.PartialSuccess().ErrorMessage() != "" || tr.PartialSuccess().RejectedSpans() != 0 {
				t.Errorf("traces: unexpected partial success %q", tr.PartialSuccess().ErrorMessage())
			}
			if _, err := plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld), opts...); err != nil {
				t.Fatalf("logs: %v", err)
			}
			if _, err := pmetricotlp.NewGRPCClient(conn).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(md), opts...); err != nil {
				t.Fatalf("metrics: %v", err)
			}
			for _, rq := range reqs {
				if got := rq.received(c); !bytes.Equal(got, rq.proto) {
					t.Errorf("%s: consumer got %d bytes of protobuf, sent %d; contents differ", rq.signal, len(got), len(rq.proto))
				}
			}
		})
	}
}

func TestConsumerErrors(t *testing.T) {
	rq := testRequests()[0]
	cases := []struct {
		name     string
		err      error
		wantCode int
		want     string
	}{
		{"internal details are not sent", errors.New("disk /secret/path full"), http.StatusInternalServerError, "could not store"},
		{"canceled", context.Canceled, http.StatusServiceUnavailable, "canceled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHTTP(t, &fakeConsumer{err: tc.err}, Options{})
			resp, out := post(t, srv.URL+rq.path, "application/json", "", rq.json)
			if resp.StatusCode != tc.wantCode || !bytes.Contains(out, []byte(tc.want)) || bytes.Contains(out, []byte("secret")) {
				t.Errorf("status %d body %s; want %d containing %q", resp.StatusCode, out, tc.wantCode, tc.want)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	rq := testRequests()[0]
	preflight := func(t *testing.T, url, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, url, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	t.Run("none allowed by default", func(t *testing.T) {
		srv := newHTTP(t, &fakeConsumer{}, Options{})
		resp := preflight(t, srv.URL+rq.path, "https://app.example")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight: status %d, allow-origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("allowed origin", func(t *testing.T) {
		srv := newHTTP(t, &fakeConsumer{}, Options{CORSAllowedOrigins: []string{"https://app.example"}})
		resp := preflight(t, srv.URL+rq.path, "https://app.example")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			resp.Header.Get("Access-Control-Allow-Headers") != "content-type" {
			t.Errorf("preflight: status %d, headers %v", resp.StatusCode, resp.Header)
		}
		if resp := preflight(t, srv.URL+rq.path, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("other origin: status %d", resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+rq.path, bytes.NewReader(rq.json))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://app.example")
		resp2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		if resp2.StatusCode != 200 || resp2.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("POST: status %d allow-origin %q", resp2.StatusCode, resp2.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// rawBytes and bytesCodec let a test send arbitrary bytes as a gRPC request.
type rawBytes []byte

type bytesCodec struct{}

func (bytesCodec) Marshal(v any) ([]byte, error) { return *(v.(*rawBytes)), nil }
func (bytesCodec) Unmarshal(data []byte, v any) error {
	*(v.(*rawBytes)) = append([]byte(nil), data...)
	return nil
}
func (bytesCodec) Name() string { return "proto" }

// TestGRPCDecompressionBomb sends small compressed messages that inflate past the message limit: gRPC must
// refuse them with RESOURCE_EXHAUSTED without holding the inflated message.
func TestGRPCDecompressionBomb(t *testing.T) {
	conn := startGRPC(t, &fakeConsumer{}, Options{MaxGRPCMessageBytes: 1 << 20})
	for _, enc := range []string{"gzip", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			in, out := rawBytes(make([]byte, 32<<20)), rawBytes(nil)
			err := conn.Invoke(context.Background(), "/"+traceService+"/Export", &in, &out,
				grpc.ForceCodec(bytesCodec{}), grpc.UseCompressor(enc))
			if s, _ := status.FromError(err); s.Code() != codes.ResourceExhausted {
				t.Errorf("32 MiB of zeros as %s: %v, want RESOURCE_EXHAUSTED", enc, err)
			}
		})
	}
}
