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
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/storage"
)

// rawConsumer is an encodedConsumer that also takes raw batches: it decodes each into the fakeConsumer's
// lists (so that what it holds can be compared with what was sent) and records the raw calls.
type rawConsumer struct {
	encodedConsumer
	rawErr   error
	rawMu    sync.Mutex
	rawCalls []rawCall
}

type rawCall struct {
	signal string
	raw    []byte
	items  int
	size   int64
}

var _ RawConsumer = (*rawConsumer)(nil)

func (c *rawConsumer) record(signal string, raw []byte, items int, size int64) {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	c.rawCalls = append(c.rawCalls, rawCall{signal, bytes.Clone(raw), items, size})
}

func (c *rawConsumer) TracesRaw(_ context.Context, raw []byte, idx *otlpwire.Index, size int64) error {
	c.record("traces", raw, len(idx.Items), size)
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.traces = append(c.traces, td)
	c.mu.Unlock()
	return c.rawErr
}

func (c *rawConsumer) LogsRaw(_ context.Context, raw []byte, idx *otlpwire.Index, size int64) error {
	c.record("logs", raw, len(idx.Items), size)
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.logs = append(c.logs, ld)
	c.mu.Unlock()
	return c.rawErr
}

// countObserver records the last export's counts.
type countObserver struct {
	mu                 sync.Mutex
	accepted, rejected int64
	status             string
}

func (o *countObserver) Exported(_, _ string, accepted, rejected int64, status string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.accepted, o.rejected, o.status = accepted, rejected, status
}

// TestRawBatches checks that whole protobuf traces and logs requests go to a RawConsumer as they are, over
// HTTP (decompressed) and gRPC, and that everything else takes the decoding path.
func TestRawBatches(t *testing.T) {
	for _, rq := range testRequests() {
		for _, enc := range []string{"", "gzip", "zstd"} {
			t.Run("http/"+rq.signal+"/"+enc, func(t *testing.T) {
				c := &rawConsumer{}
				srv := newHTTP(t, c, Options{})
				if resp, out := post(t, srv.URL+rq.path, contentTypeProto, enc, compress(t, enc, rq.proto)); resp.StatusCode != http.StatusOK || len(out) != 0 {
					t.Fatalf("status %d: %s", resp.StatusCode, out)
				}
				if resp, out := post(t, srv.URL+rq.path, contentTypeJSON, enc, compress(t, enc, rq.json)); resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, out)
				}
				if rq.signal == "metrics" {
					if len(c.rawCalls) != 0 || len(c.raws) != 2 {
						t.Fatalf("metrics: %d raw calls, %d decoded; want 0 and 2", len(c.rawCalls), len(c.raws))
					}
					return
				}
				if len(c.rawCalls) != 1 || !bytes.Equal(c.rawCalls[0].raw, rq.proto) || c.rawCalls[0].items != 20 ||
					c.rawCalls[0].size != int64(len(rq.proto)) {
					t.Fatalf("raw calls %d; want one with the request's %d bytes and 20 items", len(c.rawCalls), len(rq.proto))
				}
				if len(c.raws) != 1 || c.raws[0] != nil {
					t.Fatalf("decoded batches: %d; want the JSON one alone", len(c.raws))
				}
				// Both requests reached the consumer whole.
				var got [][]byte
				for _, td := range c.traces {
					got = append(got, must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()))
				}
				for _, ld := range c.logs {
					got = append(got, must(plogotlp.NewExportRequestFromLogs(ld).MarshalProto()))
				}
				if len(got) != 2 || !bytes.Equal(got[0], rq.proto) || !bytes.Equal(got[1], rq.proto) {
					t.Fatalf("consumer holds %d batches; want the request twice", len(got))
				}
			})
		}
	}

	t.Run("grpc", func(t *testing.T) {
		c := &rawConsumer{}
		conn := startGRPC(t, c, Options{})
		td, ld := genTraces(4, 30), genLogs(5, 30)
		if _, err := ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td), grpc.UseCompressor("gzip")); err != nil {
			t.Fatal(err)
		}
		if _, err := plogotlp.NewGRPCClient(conn).Export(context.Background(), plogotlp.NewExportRequestFromLogs(ld)); err != nil {
			t.Fatal(err)
		}
		wantT := must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto())
		wantL := must(plogotlp.NewExportRequestFromLogs(ld).MarshalProto())
		if len(c.rawCalls) != 2 || !bytes.Equal(c.rawCalls[0].raw, wantT) || !bytes.Equal(c.rawCalls[1].raw, wantL) ||
			c.rawCalls[0].items != 30 || c.rawCalls[1].items != 30 {
			t.Fatalf("raw calls %d; want the two requests as sent", len(c.rawCalls))
		}
	})

	t.Run("invalid items take the decoding path", func(t *testing.T) {
		td := genTraces(1, 20)
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(pcommon.TraceID{})
		ld := genLogs(2, 20)
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("big", string(make([]byte, 100<<10)))
		c := &rawConsumer{}
		srv := newHTTP(t, c, Options{})
		for _, body := range [][]byte{
			must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()),
			must(plogotlp.NewExportRequestFromLogs(ld).MarshalProto()),
		} {
			path := TracesPath
			if len(c.raws) == 1 {
				path = LogsPath
			}
			resp, out := post(t, srv.URL+path, contentTypeProto, "", body)
			if resp.StatusCode != http.StatusOK || len(out) == 0 {
				t.Fatalf("%s: status %d body %q; want 200 with a partial success", path, resp.StatusCode, out)
			}
		}
		if len(c.rawCalls) != 0 || len(c.raws) != 2 {
			t.Fatalf("%d raw calls, %d decoded; want 0 and 2", len(c.rawCalls), len(c.raws))
		}
		if got := c.traces[0].SpanCount(); got != 19 {
			t.Errorf("stored %d spans, want 19", got)
		}
	})
}

// TestRawConsumerErrors checks that a raw consumer's errors are answered as the decoding path answers them:
// partial success (with the observer's counts), overload, internal errors without details.
func TestRawConsumerErrors(t *testing.T) {
	body := must(ptraceotlp.NewExportRequestFromTraces(genTraces(1, 20)).MarshalProto())
	logBody := must(plogotlp.NewExportRequestFromLogs(genLogs(1, 20)).MarshalProto())

	t.Run("partial", func(t *testing.T) {
		obs := &countObserver{}
		c := &rawConsumer{rawErr: &storage.RejectedError{Rejected: 3, Reason: "3 spans too old"}}
		srv := newHTTP(t, c, Options{Observer: obs})
		resp, out := post(t, srv.URL+TracesPath, contentTypeProto, "", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		r := ptraceotlp.NewExportResponse()
		if err := r.UnmarshalProto(out); err != nil {
			t.Fatal(err)
		}
		if r.PartialSuccess().RejectedSpans() != 3 || r.PartialSuccess().ErrorMessage() != "rejected 3 of 20 spans: 3 spans too old" {
			t.Fatalf("partial success %d %q", r.PartialSuccess().RejectedSpans(), r.PartialSuccess().ErrorMessage())
		}
		if obs.accepted != 17 || obs.rejected != 3 || obs.status != "200" {
			t.Fatalf("observer: %d accepted, %d rejected, %s", obs.accepted, obs.rejected, obs.status)
		}
		resp, out = post(t, srv.URL+LogsPath, contentTypeProto, "", logBody)
		lr := plogotlp.NewExportResponse()
		if err := lr.UnmarshalProto(out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatal(resp.StatusCode, err)
		}
		if lr.PartialSuccess().RejectedLogRecords() != 3 {
			t.Fatalf("logs: %d rejected", lr.PartialSuccess().RejectedLogRecords())
		}
	})

	t.Run("overloaded", func(t *testing.T) {
		obs := &countObserver{}
		c := &rawConsumer{rawErr: pipeline.ErrOverloaded}
		srv := newHTTP(t, c, Options{Observer: obs})
		resp, _ := post(t, srv.URL+TracesPath, contentTypeProto, "", body)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if obs.accepted != 0 || obs.status != "503" {
			t.Fatalf("observer: %d accepted, %s", obs.accepted, obs.status)
		}
		conn := startGRPC(t, c, Options{})
		_, err := plogotlp.NewGRPCClient(conn).Export(context.Background(), plogotlp.NewExportRequestFromLogs(genLogs(1, 20)))
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("gRPC: %v, want UNAVAILABLE", err)
		}
	})

	t.Run("internal", func(t *testing.T) {
		c := &rawConsumer{rawErr: errInternalDetail}
		srv := newHTTP(t, c, Options{})
		resp, out := post(t, srv.URL+TracesPath, contentTypeProto, "", body)
		if resp.StatusCode != http.StatusInternalServerError || bytes.Contains(out, []byte("secret")) {
			t.Fatalf("status %d body %q", resp.StatusCode, out)
		}
	})
}

var errInternalDetail = storage.ErrNotFound // any error that is neither overload, cancelation nor rejection

// TestRawPipeline runs the receiver over a real pipeline whose storage consumer takes raw batches and whose
// observer wants pdata: both get the request, the raw one without a decode.
func TestRawPipeline(t *testing.T) {
	store := &rawStore{}
	obs := &pdataStore{}
	p := pipeline.New(pipeline.Options{}, pipeline.Consumer{Name: "store", Traces: store},
		pipeline.Consumer{Name: "obs", Traces: obs, Observer: true})
	conn := startGRPC(t, p, Options{})
	td := genTraces(9, 50)
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td)); err != nil {
		t.Fatal(err)
	}
	want := must(ptraceotlp.NewExportRequestFromTraces(td).MarshalProto())
	if len(store.raws) != 1 || !bytes.Equal(store.raws[0], want) || store.spans[0] != 50 {
		t.Fatalf("store got %d raw batches", len(store.raws))
	}
	if len(obs.tds) != 1 || !bytes.Equal(must(ptraceotlp.NewExportRequestFromTraces(obs.tds[0]).MarshalProto()), want) {
		t.Fatalf("observer got %d decoded batches, or another batch", len(obs.tds))
	}
}

type rawStore struct {
	raws  [][]byte
	spans []int
}

func (s *rawStore) ConsumeTraces(context.Context, ptrace.Traces) error {
	panic("BUG: a raw store given pdata")
}

func (s *rawStore) ConsumeTracesRaw(_ context.Context, raw []byte, idx *otlpwire.Index) error {
	s.raws = append(s.raws, bytes.Clone(raw))
	s.spans = append(s.spans, len(idx.Items))
	return nil
}

type pdataStore struct{ tds []ptrace.Traces }

func (s *pdataStore) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	s.tds = append(s.tds, td)
	return nil
}
