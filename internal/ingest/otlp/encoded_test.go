package otlp

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// encodedConsumer is a fakeConsumer that also takes encoded batches and keeps a copy of each encoding it got
// (nil for a batch that came without one).
type encodedConsumer struct {
	fakeConsumer
	rawMu sync.Mutex
	raws  [][]byte
}

var _ EncodedConsumer = (*encodedConsumer)(nil)

func (c *encodedConsumer) keep(raw []byte) {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	c.raws = append(c.raws, bytes.Clone(raw))
}

func (c *encodedConsumer) Traces(ctx context.Context, td ptrace.Traces, size int64) error {
	c.keep(nil)
	return c.fakeConsumer.Traces(ctx, td, size)
}

func (c *encodedConsumer) Logs(ctx context.Context, ld plog.Logs, size int64) error {
	c.keep(nil)
	return c.fakeConsumer.Logs(ctx, ld, size)
}

func (c *encodedConsumer) Metrics(ctx context.Context, md pmetric.Metrics, size int64) error {
	c.keep(nil)
	return c.fakeConsumer.Metrics(ctx, md, size)
}

func (c *encodedConsumer) TracesEncoded(ctx context.Context, td ptrace.Traces, size int64, raw []byte) error {
	c.keep(raw)
	return c.fakeConsumer.Traces(ctx, td, size)
}

func (c *encodedConsumer) LogsEncoded(ctx context.Context, ld plog.Logs, size int64, raw []byte) error {
	c.keep(raw)
	return c.fakeConsumer.Logs(ctx, ld, size)
}

func (c *encodedConsumer) MetricsEncoded(ctx context.Context, md pmetric.Metrics, size int64, raw []byte) error {
	c.keep(raw)
	return c.fakeConsumer.Metrics(ctx, md, size)
}

// TestEncodedBatches checks when the receiver hands the request bytes on as the batch's encoding: for a whole
// protobuf request (HTTP after decompression, or gRPC), never for JSON or a request that lost items.
func TestEncodedBatches(t *testing.T) {
	for _, rq := range testRequests() {
		for _, enc := range []string{"", "gzip", "zstd"} {
			t.Run("http/"+rq.signal+"/"+enc, func(t *testing.T) {
				c := &encodedConsumer{}
				srv := newHTTP(t, c, Options{})
				if resp, out := post(t, srv.URL+rq.path, contentTypeProto, enc, compress(t, enc, rq.proto)); resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, out)
				}
				if resp, out := post(t, srv.URL+rq.path, contentTypeJSON, enc, compress(t, enc, rq.json)); resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, out)
				}
				if len(c.raws) != 2 || !bytes.Equal(c.raws[0], rq.proto) || c.raws[1] != nil {
					t.Errorf("got %d batches, encodings of %d and %d bytes; want the request's %d bytes, then none (JSON)",
						len(c.raws), len(c.raws[0]), len(c.raws[1]), len(rq.proto))
				}
			})
		}
	}

	t.Run("grpc", func(t *testing.T) {
		c := &encodedConsumer{}
		conn := startGRPC(t, c, Options{})
		td := genTraces(1, 20)
		if _, err := ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td), grpc.UseCompressor("gzip")); err != nil {
			t.Fatal(err)
		}
		want := must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto())
		if len(c.raws) != 1 || !bytes.Equal(c.raws[0], want) {
			t.Errorf("got %d batches; want one with the request's %d bytes as its encoding", len(c.raws), len(want))
		}
	})

	t.Run("partial", func(t *testing.T) {
		td := genTraces(1, 20)
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(pcommon.TraceID{})
		ld := genLogs(2, 20)
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("big", string(make([]byte, 100<<10)))
		c := &encodedConsumer{}
		srv := newHTTP(t, c, Options{})
		for _, rq := range []struct {
			path string
			body []byte
		}{
			{TracesPath, must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto())},
			{LogsPath, must(plogotlp.NewExportRequestFromLogs(ld).MarshalProto())},
		} {
			resp, out := post(t, srv.URL+rq.path, contentTypeProto, "", rq.body)
			if resp.StatusCode != http.StatusOK || len(out) == 0 {
				t.Fatalf("%s: status %d body %q; want 200 with a partial success", rq.path, resp.StatusCode, out)
			}
		}
		if len(c.raws) != 2 || c.raws[0] != nil || c.raws[1] != nil {
			var sizes []int
			for _, r := range c.raws {
				sizes = append(sizes, len(r))
			}
			t.Errorf("got batches with encodings of %v bytes; want 2 without encodings", sizes)
		}
		if got := c.traces[0].SpanCount(); got != 19 {
			t.Errorf("stored %d spans, want 19", got)
		}
	})
}
