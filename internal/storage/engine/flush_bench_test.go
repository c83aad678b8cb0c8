package engine

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/workload"
)

// BenchmarkFlush times the flush alone: a head of 65,536 spans or log records of the reference workload
// (internal/workload) written as a part, on real disk. The writes before it are not timed.
func BenchmarkFlush(b *testing.B) {
	const batches, per = 128, 512
	ctx := context.Background()
	for _, kind := range []string{"spans", "logs"} {
		b.Run(kind, func(b *testing.B) {
			gen := workload.New(3, workload.Options{})
			var tds []ptrace.Traces
			var lds []plog.Logs
			bytes := 0
			for range batches {
				if kind == "spans" {
					td := gen.NextTraces(per)
					bytes += (&ptrace.ProtoMarshaler{}).TracesSize(td)
					tds = append(tds, td)
				} else {
					ld := gen.NextLogs(per)
					bytes += (&plog.ProtoMarshaler{}).LogsSize(ld)
					lds = append(lds, ld)
				}
			}
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			opts := benchOpts(SyncNone)
			opts.HeadMaxItems, opts.HeadMaxBytes = 1<<22, 1<<34
			for range b.N {
				b.StopTimer()
				e := openTest(b, b.TempDir(), opts)
				for _, td := range tds {
					if err := e.WriteSpans(ctx, td); err != nil {
						b.Fatal(err)
					}
				}
				for _, ld := range lds {
					if err := e.WriteLogs(ctx, ld); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := e.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				e.Close()
			}
			b.ReportMetric(float64(b.N*batches*per)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
