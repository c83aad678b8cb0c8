package query

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// heapSampler records the peak of live heap objects while it runs, sampling every 200µs (runtime/metrics,
// no stop-the-world).
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func heapNow() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			if v := heapNow(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// BenchmarkTracePage50k serves a 50,000-span trace in pages of 1000 spans (one op = every page) and reports
// the peak heap above the stored data while doing it, against reading the whole trace into one batch.
func BenchmarkTracePage50k(b *testing.B) {
	q, _ := newQuerier(b, bigTrace(50_000, 1))
	ctx := context.Background()
	runtime.GC()
	baseline := heapNow()
	b.ReportAllocs()
	b.ResetTimer()
	sampler := startHeapSampler()
	for b.Loop() {
		var after *SpanKey
		for {
			p, err := q.TracePage(ctx, tid(77), after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if p.Next == nil {
				break
			}
			after = p.Next
		}
	}
	peak := sampler.finish()
	b.ReportMetric(float64(peak-min(baseline, peak))/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(baseline)/(1<<20), "stored-heap-MiB")
}

// BenchmarkTraceFirstPage50k is the cost of the first page alone (what a UI asks first).
func BenchmarkTraceFirstPage50k(b *testing.B) {
	q, _ := newQuerier(b, bigTrace(50_000, 1))
	ctx := context.Background()
	runtime.GC()
	baseline := heapNow()
	b.ReportAllocs()
	b.ResetTimer()
	sampler := startHeapSampler()
	for b.Loop() {
		if _, err := q.TracePage(ctx, tid(77), nil, 1000); err != nil {
			b.Fatal(err)
		}
	}
	peak := sampler.finish()
	b.ReportMetric(float64(peak-min(baseline, peak))/(1<<20), "peak-heap-MiB")
}

// BenchmarkTraceWhole50k reads the whole 50,000-span trace into one batch (what an unpaged API does), for
// comparison with the paged peak heap.
func BenchmarkTraceWhole50k(b *testing.B) {
	q, _ := newQuerier(b, bigTrace(50_000, 1))
	ctx := context.Background()
	runtime.GC()
	baseline := heapNow()
	b.ReportAllocs()
	b.ResetTimer()
	sampler := startHeapSampler()
	for b.Loop() {
		p, err := q.TracePage(ctx, tid(77), nil, 50_000)
		if err != nil || p.Count != 50_000 {
			b.Fatal(err, p.Count)
		}
	}
	peak := sampler.finish()
	b.ReportMetric(float64(peak-min(baseline, peak))/(1<<20), "peak-heap-MiB")
}

func BenchmarkAnalyze50k(b *testing.B) {
	q, _ := newQuerier(b, bigTrace(50_000, 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Analyze(context.Background(), tid(77)); err != nil {
			b.Fatal(err)
		}
	}
}
