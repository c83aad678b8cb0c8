package workload

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The benchmarks report the encoded size of one batch as bytes, so MB/s is the wire volume generated.

func BenchmarkNextTraces512(b *testing.B) {
	g := New(1, Options{})
	enc, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(g.NextTraces(512))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		g.NextTraces(512)
	}
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
}

func BenchmarkNextLogs512(b *testing.B) {
	g := New(1, Options{})
	enc, _ := (&plog.ProtoMarshaler{}).MarshalLogs(g.NextLogs(512))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		g.NextLogs(512)
	}
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "logs/s")
}

func BenchmarkNextMetrics1000(b *testing.B) {
	g := New(1, Options{})
	enc, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(g.NextMetrics(1000))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		g.NextMetrics(1000)
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
}
