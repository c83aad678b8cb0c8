package otlp

import (
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Decode benchmarks: otlpd's request path (decode + validate, what both transports run per request) against
// a bare pdata unmarshal of the same payload, the practical ceiling. Payloads follow the reference workload:
// 512 spans or log records with ~10 attributes each, and 1000 metric points.
//
//	go test ./internal/ingest/otlp -run NONE -bench . -benchtime 1s -count 5

const (
	benchSpans  = 512
	benchLogs   = 512
	benchPoints = 1000
)

// The machine these run on is often shared, so wall-clock ns/op swings with other load. Each benchmark also
// reports the process CPU time it used per operation (user+system, including GC workers), which contention
// inflates much less: items/cpu-s is the figure to compare between otlpd and pdata.

// cpuNow returns the CPU time the process has used.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op in a b.Loop and reports items/s (wall) and items/cpu-s.
func measure(b *testing.B, items int, op func()) {
	b.ReportAllocs()
	cpu0 := cpuNow()
	for b.Loop() {
		op()
	}
	cpu := cpuNow() - cpu0
	b.ReportMetric(float64(items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
	if cpu > 0 {
		b.ReportMetric(float64(items)*float64(b.N)/cpu.Seconds(), "items/cpu-s")
	}
}

func BenchmarkDecodeTraces(b *testing.B) {
	td := genTraces(42, benchSpans)
	req := ptraceotlp.NewExportRequestFromTraces(td)
	for _, f := range []format{formatProto, formatJSON} {
		var body []byte
		if f == formatJSON {
			body = must(req.MarshalJSON())
		} else {
			body = must(req.MarshalProto())
		}
		b.Run("otlpd/"+f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measure(b, benchSpans, func() {
				td, _, err := decodeTraces(body, f)
				if err != nil {
					b.Fatal(err)
				}
				if rej := validateTraces(td, 64<<10); rej.count != 0 || td.SpanCount() != benchSpans {
					b.Fatalf("%d rejected, %d spans", rej.count, td.SpanCount())
				}
			})
		})
		b.Run("pdata/"+f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measure(b, benchSpans, func() {
				r := ptraceotlp.NewExportRequest()
				if err := unmarshal(r, body, f); err != nil {
					b.Fatal(err)
				}
				if r.Traces().SpanCount() != benchSpans {
					b.Fatal("span count")
				}
			})
		})
	}
}

func BenchmarkDecodeLogs(b *testing.B) {
	ld := genLogs(42, benchLogs)
	req := plogotlp.NewExportRequestFromLogs(ld)
	for _, f := range []format{formatProto, formatJSON} {
		var body []byte
		if f == formatJSON {
			body = must(req.MarshalJSON())
		} else {
			body = must(req.MarshalProto())
		}
		b.Run("otlpd/"+f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measure(b, benchLogs, func() {
				ld, _, err := decodeLogs(body, f)
				if err != nil {
					b.Fatal(err)
				}
				if rej := validateLogs(ld, 64<<10); rej.count != 0 || ld.LogRecordCount() != benchLogs {
					b.Fatalf("%d rejected, %d logs", rej.count, ld.LogRecordCount())
				}
			})
		})
		b.Run("pdata/"+f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measure(b, benchLogs, func() {
				r := plogotlp.NewExportRequest()
				if err := unmarshal(r, body, f); err != nil {
					b.Fatal(err)
				}
				if r.Logs().LogRecordCount() != benchLogs {
					b.Fatal("log count")
				}
			})
		})
	}
}

func BenchmarkDecodeMetrics(b *testing.B) {
	md := genMetrics(42, benchPoints)
	req := pmetricotlp.NewExportRequestFromMetrics(md)
	for _, f := range []format{formatProto, formatJSON} {
		var body []byte
		if f == formatJSON {
			body = must(req.MarshalJSON())
		} else {
			body = must(req.MarshalProto())
		}
		b.Run("otlpd/"+f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measure(b, benchPoints, func() {
				md, _, err := decodeMetrics(body, f)
				if err != nil {
					b.Fatal(err)
				}
				if rej := validateMetrics(md, 64<<10); rej.count != 0 || md.DataPointCount() != benchPoints {
					b.Fatalf("%d rejected, %d points", rej.count, md.DataPointCount())
				}
			})
		})
		b.Run("pdata/"+f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measure(b, benchPoints, func() {
				r := pmetricotlp.NewExportRequest()
				if err := unmarshal(r, body, f); err != nil {
					b.Fatal(err)
				}
				if r.Metrics().DataPointCount() != benchPoints {
					b.Fatal("point count")
				}
			})
		})
	}
}
