package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/otlptest"
)

// seededIDs generates reproducible IDs and remembers the trace IDs in order.
type seededIDs struct {
	mu     sync.Mutex
	rng    *rand.Rand
	traces []trace.TraceID
}

func (g *seededIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var tid trace.TraceID
	for i := range 2 {
		v := g.rng.Uint64()
		for j := range 8 {
			tid[i*8+j] = byte(v >> (8 * j))
		}
	}
	g.traces = append(g.traces, tid)
	return tid, g.spanID()
}

func (g *seededIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spanID()
}

func (g *seededIDs) spanID() trace.SpanID {
	var sid trace.SpanID
	v := g.rng.Uint64() | 1
	for j := range 8 {
		sid[j] = byte(v >> (8 * j))
	}
	return sid
}

func TestSamplerExample(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	ids := &seededIDs{rng: rand.New(rand.NewPCG(seed, seed))}
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const ops = 1000
	if err := run(ctx, config{endpoint: srv.GRPCAddr(), ops: ops, ratio: 0.01, ids: ids}); err != nil {
		t.Fatal(err)
	}
	if len(ids.traces) != ops {
		t.Fatalf("%d traces generated, want %d", len(ids.traces), ops)
	}
	// The SDK's own ratio sampler says which traces are in the 1%.
	reference := sdktrace.TraceIDRatioBased(0.01)
	wantSampled, wantRescued := 0, 0
	for i, tid := range ids.traces {
		r := reference.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: tid, Name: "op"})
		switch {
		case r.Decision == sdktrace.RecordAndSample:
			wantSampled++
		case i%25 == 0:
			wantRescued++
		}
	}
	want := 2*wantSampled + wantRescued
	// run shut the provider down, which exports synchronously: everything has arrived.
	spans := srv.Spans()
	if len(spans) != want {
		t.Fatalf("exported %d spans, want %d (%d sampled traces of 2 spans, %d rescued errors)", len(spans), want, wantSampled, wantRescued)
	}
	errorsSeen := 0
	for _, s := range spans.Named("op") {
		idx := int(s.Attributes["op.index"].(int64))
		if idx%25 == 0 {
			errorsSeen++
			if s.StatusCode != "Error" {
				t.Errorf("op %d should have failed", idx)
			}
		}
		if s.Attributes["sampling.rescued"] == true && idx%25 != 0 {
			t.Errorf("op %d rescued without an error", idx)
		}
	}
	if errorsSeen != ops/25 {
		t.Errorf("%d of %d failed operations exported: every error must be kept", errorsSeen, ops/25)
	}
	t.Logf("%d traces sampled at 1%%, %d errors rescued, %d spans exported of %d", wantSampled, wantRescued, len(spans), 2*ops)
}

func TestKeepErrorsFollowsParent(t *testing.T) {
	s := NewKeepErrors(0.01)
	parent := func(sampled bool) context.Context {
		flags := trace.TraceFlags(0)
		if sampled {
			flags = trace.FlagsSampled
		}
		return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{0xff}, SpanID: trace.SpanID{1}, TraceFlags: flags, Remote: true}))
	}
	if d := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parent(true)}).Decision; d != sdktrace.RecordAndSample {
		t.Errorf("child of sampled parent: %v", d)
	}
	if d := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parent(false)}).Decision; d != sdktrace.RecordOnly {
		t.Errorf("child of unsampled parent: %v, want RecordOnly so errors can be rescued", d)
	}
	low := trace.TraceID{8: 0, 9: 0, 15: 1}
	if d := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: low}).Decision; d != sdktrace.RecordAndSample {
		t.Errorf("root with a low trace ID: %v", d)
	}
	high := trace.TraceID{8: 0xff}
	if d := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: high}).Decision; d != sdktrace.RecordOnly {
		t.Errorf("root with a high trace ID: %v", d)
	}
}
