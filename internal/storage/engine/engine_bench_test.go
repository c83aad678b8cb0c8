package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// benchSource yields batches of the benchmark workload; see bench_workload_test.go.
func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func benchOpts(sync SyncMode) Options {
	o := testOptions()
	o.BlockRows = 0 // default
	o.Sync = sync
	o.FlushInterval = 30 * time.Second
	return o
}

// BenchmarkWriteSpans writes batches of 512 spans from 4 goroutines into an engine on real disk.
func BenchmarkWriteSpans(b *testing.B) {
	for _, mode := range []struct {
		name string
		sync SyncMode
	}{{"sync=batch", SyncBatch}, {"sync=none", SyncNone}} {
		b.Run(mode.name, func(b *testing.B) {
			batches := benchTraces(1, 64, 512)
			var bytes int64
			for _, td := range batches {
				raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
				bytes += int64(len(raw))
			}
			e := openTest(b, b.TempDir(), benchOpts(mode.sync))
			defer e.Close()
			b.SetBytes(bytes / int64(len(batches)))
			b.ReportAllocs()
			var next atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					td := batches[next.Add(1)%int64(len(batches))]
					if err := e.WriteSpans(context.Background(), td); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
		})
	}
}

func BenchmarkWriteLogs(b *testing.B) {
	batches := benchLogs(1, 64, 512)
	e := openTest(b, b.TempDir(), benchOpts(SyncBatch))
	defer e.Close()
	b.ReportAllocs()
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.WriteLogs(context.Background(), batches[next.Add(1)%int64(len(batches))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "logs/s")
}

// TestBytesPerItem reports the bytes on disk per span and per log record after compaction (run with -v; it
// asserts only that the data round-trips in count).
func TestBytesPerItem(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	ctx := context.Background()
	for _, kind := range []string{"spans", "logs"} {
		dir := t.TempDir()
		e := openTest(t, dir, benchOpts(SyncNone))
		written := 0
		if kind == "spans" {
			for _, td := range benchTraces(7, n/512, 512) {
				e.WriteSpans(ctx, td)
				written += td.SpanCount()
			}
		} else {
			for _, ld := range benchLogs(7, n/512, 512) {
				e.WriteLogs(ctx, ld)
				written += ld.LogRecordCount()
			}
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		size := e.DiskBytes()
		e.Close()
		t.Logf("%s: %d items, %d bytes of parts, %.1f bytes/item (%d bytes in the directory)", kind, written, size,
			float64(size)/float64(written), dirBytes(dir))
	}
}

// BenchmarkGetTrace looks traces up by ID, with no time range, in an engine holding spansTotal spans.
func BenchmarkGetTrace(b *testing.B) {
	total := 1_000_000
	if s := os.Getenv("OTLPD_BENCH_SPANS"); s != "" {
		fmt.Sscan(s, &total)
	}
	dir := b.TempDir()
	e := openTest(b, dir, benchOpts(SyncNone))
	defer e.Close()
	ctx := context.Background()
	var ids []storage.TraceID
	for i := 0; i < total/512; i++ {
		td := benchTraces(int64(i), 1, 512)[0]
		if i%50 == 0 {
			ids = append(ids, storage.TraceID(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()))
		}
		e.WriteSpans(ctx, td)
	}
	e.Flush(ctx)
	e.Compact(ctx)
	b.ResetTimer()
	lat := make([]time.Duration, 0, b.N)
	for i := range b.N {
		t0 := time.Now()
		n := 0
		for td, err := range e.GetTrace(ctx, storage.TraceQuery{TraceID: ids[i%len(ids)]}) {
			if err != nil {
				b.Fatal(err)
			}
			n += td.SpanCount()
		}
		lat = append(lat, time.Since(t0))
		if n == 0 {
			b.Fatal("empty trace")
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

var _ = rand.New
var _ = plog.NewLogs
