package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
	"github.com/otlpd/otlpd/internal/workload"
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
			gen := workload.New(1, workload.Options{})
			var batches []ptrace.Traces
			for range 64 {
				batches = append(batches, gen.NextTraces(512))
			}
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
	gen := workload.New(1, workload.Options{})
	var batches []plog.Logs
	for range 64 {
		batches = append(batches, gen.NextLogs(512))
	}
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

// BenchmarkBytesPerItem writes OTLPD_BENCH_ITEMS (default 200,000) spans or log records, flushes and compacts
// them, and reports the bytes of parts on disk per item. The timing is of the whole write, flush and compaction.
func BenchmarkBytesPerItem(b *testing.B) {
	n := 200_000
	if s := os.Getenv("OTLPD_BENCH_ITEMS"); s != "" {
		fmt.Sscan(s, &n)
	}
	ctx := context.Background()
	for _, kind := range []string{"spans", "logs"} {
		b.Run(kind, func(b *testing.B) {
			var tds []ptrace.Traces
			var lds []plog.Logs
			gen := workload.New(7, workload.Options{})
			for range n / 512 {
				if kind == "spans" {
					tds = append(tds, gen.NextTraces(512))
				} else {
					lds = append(lds, gen.NextLogs(512))
				}
			}
			for range b.N {
				dir := b.TempDir()
				e := openTest(b, dir, benchOpts(SyncNone))
				written := 0
				for _, td := range tds {
					e.WriteSpans(ctx, td)
					written += td.SpanCount()
				}
				for _, ld := range lds {
					e.WriteLogs(ctx, ld)
					written += ld.LogRecordCount()
				}
				if err := e.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(e.DiskBytes())/float64(written), "flushed-B/item")
				if err := e.Compact(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(e.DiskBytes())/float64(written), "disk-B/item")
				var cols [part.NumCols]uint64
				var traceBloom, tokenBloom, blocks int
				e.mu.RLock()
				for _, p := range e.parts {
					for _, bm := range p.meta.Blocks {
						for c, ref := range bm.Cols {
							cols[c] += ref.Len
						}
						traceBloom += 8 * len(bm.TraceBloom)
						tokenBloom += 8 * len(bm.TokenBloom)
						blocks++
					}
				}
				e.mu.RUnlock()
				b.ReportMetric(float64(traceBloom)/float64(written), "trace-bloom-B/item")
				b.ReportMetric(float64(tokenBloom)/float64(written), "token-bloom-B/item")
				b.ReportMetric(float64(written)/float64(blocks), "rows/block")
				for c, n := range cols {
					b.ReportMetric(float64(n)/float64(written), fmt.Sprintf("col%d-B/item", c))
				}
				e.Close()
			}
		})
	}
}

// BenchmarkLarge stores OTLPD_BENCH_SPANS spans and as many log records (default 1,000,000 each), spread
// over 24 hours, flushed and compacted, then measures trace by ID (no time range) and searches over a 1-hour
// window and over the whole range.
func BenchmarkLarge(b *testing.B) {
	total := 1_000_000
	if s := os.Getenv("OTLPD_BENCH_SPANS"); s != "" {
		fmt.Sscan(s, &total)
	}
	ctx := context.Background()
	dir := b.TempDir()
	o := benchOpts(SyncNone)
	e := openTest(b, dir, o)
	defer e.Close()
	t0 := workload.DefaultStart.UnixNano()
	gen := workload.New(3, workload.Options{Rate: float64(total) / (24 * 3600)}) // the items span 24 hours
	var ids []storage.TraceID
	built := time.Now()
	for i := range total / 512 {
		td := gen.NextTraces(512)
		if i%20 == 0 {
			ids = append(ids, storage.TraceID(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()))
		}
		if err := e.WriteSpans(ctx, td); err != nil {
			b.Fatal(err)
		}
		if err := e.WriteLogs(ctx, gen.NextLogs(512)); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := e.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("stored %d spans and %d logs in %v: %d bytes of parts, %d parts", total/512*512, total/512*512,
		time.Since(built).Round(time.Second), e.DiskBytes(), e.partCount())
	hour := storage.SpanQuery{Start: time.Unix(0, t0+12*int64(time.Hour)), End: time.Unix(0, t0+13*int64(time.Hour))}

	b.Run("trace-by-id", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := range b.N {
			t := time.Now()
			n := 0
			for td, err := range e.GetTrace(ctx, storage.TraceQuery{TraceID: ids[i%len(ids)]}) {
				if err != nil {
					b.Fatal(err)
				}
				n += td.SpanCount()
			}
			lat = append(lat, time.Since(t))
			if n == 0 {
				b.Fatal("empty trace")
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
	spanSearch := func(b *testing.B, q storage.SpanQuery) {
		for range b.N {
			n := 0
			for td, err := range e.FindSpans(ctx, q) {
				if err != nil {
					b.Fatal(err)
				}
				n += td.SpanCount()
			}
			b.ReportMetric(float64(n), "spans")
		}
	}
	attr := []storage.AttrPredicate{{Key: "user.id", Op: storage.OpEqual, Value: "user-14242"}}
	b.Run("spans-attr-1h", func(b *testing.B) {
		q := hour
		q.Attributes, q.Limit = attr, 100
		spanSearch(b, q)
	})
	b.Run("spans-attr-all", func(b *testing.B) {
		spanSearch(b, storage.SpanQuery{Attributes: attr, Limit: 100})
	})
	b.Run("spans-service-error-all", func(b *testing.B) {
		spanSearch(b, storage.SpanQuery{Service: "order", StatusSet: true, Status: ptrace.StatusCodeError, Limit: 100})
	})
	logSearch := func(b *testing.B, q storage.LogQuery) {
		for range b.N {
			n := 0
			for ld, err := range e.FindLogs(ctx, q) {
				if err != nil {
					b.Fatal(err)
				}
				n += ld.LogRecordCount()
			}
			b.ReportMetric(float64(n), "logs")
		}
	}
	body := "User user-14242 logged"
	b.Run("logs-body-1h", func(b *testing.B) {
		logSearch(b, storage.LogQuery{Start: hour.Start, End: hour.End, BodyContains: body, Limit: 100})
	})
	b.Run("logs-body-all", func(b *testing.B) {
		logSearch(b, storage.LogQuery{BodyContains: body, Limit: 100})
	})
	b.Run("logs-body-all-substring", func(b *testing.B) {
		// No whole word in the needle: no bloom filter can help, every string body is scanned.
		logSearch(b, storage.LogQuery{BodyContains: "er-14242", Limit: 100})
	})
}
