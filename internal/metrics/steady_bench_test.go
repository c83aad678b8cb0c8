package metrics_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/workload"
)

// BenchmarkStoreIngestSteady measures the steady state of the reference workload (internal/workload
// NextMetrics): every series the measured batches touch already exists in the TSDB, so each batch is
// repeated points of known series. One operation is one batch of 1,000 OTLP points (one resource);
// batches are generated before the clock starts. The norefcache variant looks every series up by its
// labels in the TSDB (the path without the guard's head references).
func BenchmarkStoreIngestSteady(b *testing.B) {
	for _, c := range []struct {
		name     string
		noSync   bool
		refCache bool
	}{{"nosync/refcache", true, true}, {"nosync/norefcache", true, false}, {"sync/refcache", false, true}} {
		b.Run(c.name, func(b *testing.B) {
			st, err := metrics.Open(metrics.Options{Dir: filepath.Join(b.TempDir(), "metrics"), NoSync: c.noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			metrics.SetRefCache(st, c.refCache)
			ctx := context.Background()
			gen := workload.New(1, workload.Options{})
			// The generator walks all resources of an interval before the next interval: the first full
			// interval creates every series; the measured batches are later intervals of the same series.
			perInterval := workload.Resources
			for range perInterval {
				if err := st.ConsumeMetrics(ctx, gen.NextMetrics(workload.SeriesPerResource)); err != nil {
					b.Fatal(err)
				}
			}
			batches := make([]pmetric.Metrics, 0, b.N)
			for len(batches) < b.N {
				md := gen.NextMetrics(workload.SeriesPerResource)
				batches = append(batches, md)
			}
			payload, _ := pmetricotlp.NewExportRequestFromMetrics(batches[0]).MarshalProto()
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for i := range b.N {
				if err := st.ConsumeMetrics(ctx, batches[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer() // closing writes a head snapshot, not part of ingest
			b.ReportMetric(float64(b.N*workload.SeriesPerResource)/b.Elapsed().Seconds(), "points/s")
			// CPU time of the whole process (the TSDB's goroutines and the garbage collector included) per
			// batch: on a shared machine, where wall time mostly measures the other work, this is the steadier
			// figure.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
