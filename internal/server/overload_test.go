package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/pipeline"
)

// blockingConsumer holds every batch until released, so that the pipeline's in-flight budget fills up.
type blockingConsumer struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (c *blockingConsumer) block(ctx context.Context) error {
	c.once.Do(func() { close(c.entered) })
	select {
	case <-c.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *blockingConsumer) ConsumeTraces(ctx context.Context, _ ptrace.Traces) error {
	return c.block(ctx)
}
func (c *blockingConsumer) ConsumeLogs(ctx context.Context, _ plog.Logs) error { return c.block(ctx) }
func (c *blockingConsumer) ConsumeMetrics(ctx context.Context, _ pmetric.Metrics) error {
	return c.block(ctx)
}

// TestOverload fills the in-flight budget with a batch stuck in a slow consumer and checks that further
// exports are refused with the retryable codes (HTTP 503 + Retry-After, gRPC UNAVAILABLE + RetryInfo), then
// accepted again once the consumer catches up.
func TestOverload(t *testing.T) {
	bc := &blockingConsumer{entered: make(chan struct{}), release: make(chan struct{})}
	r := start(t, Options{Consumers: []pipeline.Consumer{{Name: "slow", Traces: bc, Logs: bc, Metrics: bc}}},
		func(c *config.Config) { c.Ingest.MaxInFlightBytes = 64 })
	body := mustBytes(ptraceotlp.NewExportRequestFromTraces(spans(0x09, 2, 0)).MarshalProto())
	jsonBody := mustBytes(ptraceotlp.NewExportRequestFromTraces(spans(0x0a, 2, 0)).MarshalJSON())

	first := make(chan int, 1)
	go func() {
		resp, _ := r.postOTLP(t, "/v1/traces", "application/x-protobuf", "", body)
		first <- resp.StatusCode
	}()
	select {
	case <-bc.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("first export never reached the consumer")
	}

	resp, out := r.postOTLP(t, "/v1/traces", "application/json", "", jsonBody)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("HTTP overload: %d Retry-After %q, want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The body is a google.rpc.Status in the request's encoding (JSON), with a RetryInfo detail.
	st := &spb.Status{}
	if err := protojson.Unmarshal(out, st); err != nil || st.Code != int32(codes.Unavailable) || !strings.Contains(st.Message, "overloaded") ||
		len(st.Details) != 1 || !strings.HasSuffix(st.Details[0].TypeUrl, "google.rpc.RetryInfo") {
		t.Errorf("HTTP overload body %s (%v)", out, err)
	}

	conn, err := grpc.NewClient(r.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(spans(0x0b, 2, 0)))
	gst, _ := status.FromError(err)
	if gst.Code() != codes.Unavailable {
		t.Errorf("gRPC overload: %v, want UNAVAILABLE", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range gst.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() != time.Second {
		t.Errorf("gRPC overload details %v, want RetryInfo of 1s", gst.Details())
	}

	// While the first batch is held: its bytes are in flight, and both refusals are counted.
	fams := r.scrape(t)
	wantMetric(t, fams, "otlpd_pipeline_in_flight_bytes", nil, float64(len(body)))
	wantMetric(t, fams, "otlpd_pipeline_overload_refusals_total", nil, 2)
	wantMetric(t, fams, "otlpd_ingest_requests_total", map[string]string{"signal": "traces", "transport": "http", "status": "503"}, 1)
	wantMetric(t, fams, "otlpd_ingest_requests_total", map[string]string{"signal": "traces", "transport": "grpc", "status": "Unavailable"}, 1)

	close(bc.release)
	if code := <-first; code != 200 {
		t.Errorf("first export: %d", code)
	}
	if resp, out := r.postOTLP(t, "/v1/traces", "application/json", "", jsonBody); resp.StatusCode != 200 {
		t.Errorf("export after the consumer caught up: %d %s", resp.StatusCode, out)
	}
}
