package tail

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/workload"
)

// TestRawBatches checks that raw batches cost nothing without subscribers (they are not even decoded: an
// undecodable one goes through) and reach subscribers decoded.
func TestRawBatches(t *testing.T) {
	h := NewHub(Options{})
	defer h.Close()
	// As a durable consumer, so that a decode the hub asked for would fail the batch.
	p := pipeline.New(pipeline.Options{}, pipeline.Consumer{Name: "tail", Traces: h, Logs: h})
	garbage := []byte{0x0a, 0x09, 0x01}
	ctx := context.Background()
	if err := p.TracesRaw(ctx, garbage, nil, 3); err != nil {
		t.Fatalf("traces decoded without subscribers: %v", err)
	}
	if err := p.LogsRaw(ctx, garbage, nil, 3); err != nil {
		t.Fatalf("logs decoded without subscribers: %v", err)
	}

	s, err := h.Subscribe(Filter{Signals: Spans | Logs})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.TracesRaw(ctx, garbage, nil, 3); err == nil {
		t.Fatal("a subscriber did not get the batch decoded")
	}
	w := workload.New(3, workload.Options{})
	td, ld := w.NextTraces(7), w.NextLogs(5)
	traw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	lraw, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err := p.TracesRaw(ctx, traw, nil, int64(len(traw))); err != nil {
		t.Fatal(err)
	}
	if err := p.LogsRaw(ctx, lraw, nil, int64(len(lraw))); err != nil {
		t.Fatal(err)
	}
	items := drain(s)
	if len(items) != 12 {
		t.Fatalf("subscriber got %d items, want 12", len(items))
	}
	// The items do not depend on the batch's bytes.
	for i := range traw {
		traw[i] = 0
	}
	want := spanItem(td.ResourceSpans().At(0).Resource(), td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0))
	if items[0].Name != want.Name || items[0].TraceID != want.TraceID {
		t.Fatalf("first item %+v, want %+v", items[0], want)
	}
}
