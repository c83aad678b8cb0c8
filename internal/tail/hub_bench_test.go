package tail

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/workload"
)

// BenchmarkHubTraces measures what the observer adds to ingestion of a 512-span batch.
func BenchmarkHubTraces(b *testing.B) {
	td := workload.New(1, workload.Options{}).NextTraces(512)
	enc, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	run := func(b *testing.B, h *Hub) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			_ = h.ConsumeTraces(context.Background(), td)
		}
		b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
	}
	b.Run("no-subscriber", func(b *testing.B) { run(b, NewHub(Options{})) })
	b.Run("one-service-filter", func(b *testing.B) {
		h := NewHub(Options{})
		s, _ := h.Subscribe(Filter{Signals: Spans, Service: "cart"})
		go func() {
			for {
				if _, ok := s.Next(context.Background()); !ok {
					return
				}
			}
		}()
		run(b, h)
		h.Close()
	})
	b.Run("one-all-spans", func(b *testing.B) {
		h := NewHub(Options{})
		s, _ := h.Subscribe(Filter{Signals: Spans})
		go func() {
			for {
				if _, ok := s.Next(context.Background()); !ok {
					return
				}
			}
		}()
		run(b, h)
		h.Close()
	})
}
