package pipeline

import (
	"bytes"
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// plainTraces takes batches without their encoding.
type plainTraces struct{ calls int }

func (p *plainTraces) ConsumeTraces(context.Context, ptrace.Traces) error {
	p.calls++
	return nil
}

// encodedTraces also takes the encoding, and records what it got.
type encodedTraces struct {
	plainTraces
	raws [][]byte
}

func (e *encodedTraces) ConsumeTracesEncoded(_ context.Context, _ ptrace.Traces, raw []byte) error {
	e.raws = append(e.raws, bytes.Clone(raw))
	return nil
}

// TestTracesEncoded checks that the encoding reaches the consumers that take it, and that the others (and
// every consumer, when there is no encoding) get the batch as before.
func TestTracesEncoded(t *testing.T) {
	plain, enc, obs := &plainTraces{}, &encodedTraces{}, &encodedTraces{}
	p := New(Options{}, Consumer{Name: "a", Traces: plain}, Consumer{Name: "b", Traces: enc},
		Consumer{Name: "c", Traces: obs, Observer: true})
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	raw := []byte{1, 2, 3}
	if err := p.TracesEncoded(context.Background(), td, 3, raw); err != nil {
		t.Fatal(err)
	}
	if err := p.Traces(context.Background(), td, 3); err != nil {
		t.Fatal(err)
	}
	if plain.calls != 2 {
		t.Errorf("plain consumer called %d times, want 2", plain.calls)
	}
	if len(enc.raws) != 1 || !bytes.Equal(enc.raws[0], raw) || enc.calls != 1 {
		t.Errorf("encoded consumer got encodings %v and %d plain calls; want [%v] and 1", enc.raws, enc.calls, raw)
	}
	if len(obs.raws) != 1 || obs.calls != 1 {
		t.Errorf("observer got %d encodings and %d plain calls; want 1 and 1", len(obs.raws), obs.calls)
	}
	if n := p.InFlightBytes(); n != 0 {
		t.Errorf("%d bytes still in flight", n)
	}
}
