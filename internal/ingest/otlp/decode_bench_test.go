package otlp

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Decode benchmarks: otlpd's request path (decode + validate, what both transports run per request) against
// a bare pdata unmarshal of the same payload, the practical ceiling. Payloads come from the reference workload
// generator (internal/workload): 512 spans or log records per request, and 1000 metric points.
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

// exportRequest is an OTLP export request (ptraceotlp, plogotlp or pmetricotlp).
type exportRequest interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// benchDecode runs otlpd's request path (otlpd, which returns the items kept) and a bare pdata unmarshal
// (pdata, which returns the items decoded) over req in both encodings; each must see all items.
func benchDecode(b *testing.B, req exportRequest, items int, otlpd, pdata func([]byte, format) (int, error)) {
	for _, f := range []format{formatProto, formatJSON} {
		var body []byte
		if f == formatJSON {
			body = must(req.MarshalJSON())
		} else {
			body = must(req.MarshalProto())
		}
		for _, run := range []struct {
			name string
			op   func([]byte, format) (int, error)
		}{{"otlpd", otlpd}, {"pdata", pdata}} {
			b.Run(run.name+"/"+f.String(), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				measure(b, items, func() {
					n, err := run.op(body, f)
					if err != nil {
						b.Fatal(err)
					}
					if n != items {
						b.Fatalf("%d of %d items", n, items)
					}
				})
			})
		}
	}
}

func BenchmarkDecodeTraces(b *testing.B) {
	req := ptraceotlp.NewExportRequestFromTraces(genTraces(42, benchSpans))
	benchDecode(b, req, benchSpans, func(body []byte, f format) (int, error) {
		td, _, err := decodeTraces(body, f)
		if err != nil {
			return 0, err
		}
		rej := validateTraces(td, 64<<10)
		return td.SpanCount() - int(rej.count), nil
	}, func(body []byte, f format) (int, error) {
		r := ptraceotlp.NewExportRequest()
		err := unmarshal(r, body, f)
		return r.Traces().SpanCount(), err
	})
}

func BenchmarkDecodeLogs(b *testing.B) {
	req := plogotlp.NewExportRequestFromLogs(genLogs(42, benchLogs))
	benchDecode(b, req, benchLogs, func(body []byte, f format) (int, error) {
		ld, _, err := decodeLogs(body, f)
		if err != nil {
			return 0, err
		}
		rej := validateLogs(ld, 64<<10)
		return ld.LogRecordCount() - int(rej.count), nil
	}, func(body []byte, f format) (int, error) {
		r := plogotlp.NewExportRequest()
		err := unmarshal(r, body, f)
		return r.Logs().LogRecordCount(), err
	})
}

func BenchmarkDecodeMetrics(b *testing.B) {
	req := pmetricotlp.NewExportRequestFromMetrics(genMetrics(42, benchPoints))
	benchDecode(b, req, benchPoints, func(body []byte, f format) (int, error) {
		md, _, err := decodeMetrics(body, f)
		if err != nil {
			return 0, err
		}
		rej := validateMetrics(md, 64<<10)
		return md.DataPointCount() - int(rej.count), nil
	}, func(body []byte, f format) (int, error) {
		r := pmetricotlp.NewExportRequest()
		err := unmarshal(r, body, f)
		return r.Metrics().DataPointCount(), err
	})
}

// BenchmarkSalvageJSON rewrites a 2048-span JSON request with one malformed trace ID, the path a JSON body
// with a bad ID takes; B/op against the body's size is the memory salvage costs.
func BenchmarkSalvageJSON(b *testing.B) {
	td := genTraces(5, 2048)
	body := must(ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON())
	first := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID().String()
	body = bytes.Replace(body, []byte(`"traceId":"`+first+`"`), []byte(`"traceId":"abcd"`), 1)
	b.SetBytes(int64(len(body)))
	measure(b, 2048, func() {
		_, rej, err := salvageJSON(body, "traces")
		if err != nil || rej.count != 1 {
			b.Fatalf("%v, %d rejected", err, rej.count)
		}
	})
}
