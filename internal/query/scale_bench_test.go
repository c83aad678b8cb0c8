package query

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine"
	refworkload "github.com/otlpd/otlpd/internal/workload"
)

// The scale benchmarks time the queries the UI makes against the embedded engine holding OTLPD_SCALE_SPANS
// spans (default 10,000,000) of the reference workload (internal/workload, seed 1), spread over one hour. The
// engine lives in OTLPD_SCALE_DIR and is filled on first use, so later runs reuse it; without OTLPD_SCALE_DIR
// the benchmarks are skipped. Example:
//
//	OTLPD_SCALE_DIR=/tmp/scale go test ./internal/query -run '^$' -bench Scale -benchtime 5x -timeout 2h
//
// Measured figures are in docs/performance.md.

var (
	scaleOnce  sync.Once
	scaleQ     *Querier
	scaleIDs   []storage.TraceID
	scaleRoute string
	scaleStart time.Time
	scaleErr   error
)

func scale(b *testing.B) *Querier {
	dir := os.Getenv("OTLPD_SCALE_DIR")
	if dir == "" {
		b.Skip("OTLPD_SCALE_DIR not set")
	}
	scaleOnce.Do(func() { scaleErr = openScale(b, dir) })
	if scaleErr != nil {
		b.Fatal(scaleErr)
	}
	return scaleQ
}

func openScale(b *testing.B, dir string) error {
	n := 10_000_000
	if s := os.Getenv("OTLPD_SCALE_SPANS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(filepath.Join(dir, "scale-complete"))
	filled := statErr == nil
	e, err := engine.Open(dir, engine.Options{Sync: engine.SyncNone})
	if err != nil {
		return err
	}
	scaleStart = refworkload.DefaultStart
	gen := refworkload.New(1, refworkload.Options{Rate: float64(n) / 3600})
	written := 0
	for written < n {
		td := gen.NextTraces(512)
		rss := td.ResourceSpans()
		for i := range rss.Len() {
			sss := rss.At(i).ScopeSpans()
			for j := range sss.Len() {
				spans := sss.At(j).Spans()
				for k := range spans.Len() {
					sp := spans.At(k)
					if sp.ParentSpanID().IsEmpty() && (written+k)%997 == 0 {
						scaleIDs = append(scaleIDs, storage.TraceID(sp.TraceID()))
					}
					if scaleRoute == "" && sp.Kind() == ptrace.SpanKindServer {
						if v, ok := sp.Attributes().Get("http.route"); ok {
							scaleRoute = v.Str()
						}
					}
				}
			}
		}
		if !filled {
			if err := e.WriteSpans(context.Background(), td); err != nil {
				return err
			}
		}
		written += td.SpanCount()
		if !filled && written%1_000_000 < 512 {
			b.Logf("scale: %d spans written", written)
		}
	}
	if !filled {
		// The background work done (every flushed part merged), as a server reaches it seconds after a
		// burst: searches then read merged parts, with no merge running beside them.
		if err := e.Settle(context.Background()); err != nil {
			return err
		}
		if err := e.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "scale-complete"), nil, 0o644); err != nil {
			return err
		}
		if e, err = engine.Open(dir, engine.Options{Sync: engine.SyncNone}); err != nil {
			return err
		}
	}
	b.Logf("scale: %d spans over one hour in %s, %d sampled trace IDs, route %q", written, dir, len(scaleIDs), scaleRoute)
	// OTLPD_SCALE_MAX_SCAN raises the spans one RED or graph computation may read (default DefaultMaxScanSpans,
	// beyond which the answer is marked truncated).
	maxScan, _ := strconv.Atoi(os.Getenv("OTLPD_SCALE_MAX_SCAN"))
	scaleQ = New(e, e, Options{Now: func() time.Time { return scaleStart.Add(time.Hour) }, Timeout: 10 * time.Minute, MaxScanSpans: maxScan})
	return nil
}

func scaleHour() TimeRange { return TimeRange{Start: scaleStart, End: scaleStart.Add(time.Hour)} }

// latencies runs f b.N times and reports the p50 and p99 of its durations, and the CPU time the process
// spent per run (user + system, all threads): on a shared machine the wall time depends on the other load,
// the CPU time much less.
func latencies(b *testing.B, f func(i int)) {
	var ds []time.Duration
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		t0 := time.Now()
		f(i)
		ds = append(ds, time.Since(t0))
		i++
	}
	cpu := cpuTime() - cpu0
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
}

func BenchmarkScaleTraceByID(b *testing.B) {
	q := scale(b)
	latencies(b, func(i int) {
		id := scaleIDs[(i*7919)%len(scaleIDs)]
		n := 0
		if err := q.EachTracePage(context.Background(), id, func(td ptrace.Traces) bool { n += td.SpanCount(); return true }); err != nil || n == 0 {
			b.Fatal(err, n)
		}
	})
}

func BenchmarkScaleSearchAttr(b *testing.B) { benchSearchAttr(b, scaleHour) }

// BenchmarkScaleSearchAttrAll searches the 30 days up to the end of the stored hour.
func BenchmarkScaleSearchAttrAll(b *testing.B) { benchSearchAttr(b, scaleAll) }

func benchSearchAttr(b *testing.B, r func() TimeRange) {
	q := scale(b)
	latencies(b, func(int) {
		res, err := q.SearchTraces(context.Background(), TraceSearch{TimeRange: r(),
			Filter: `http.route = "` + scaleRoute + `" and http.response.status_code >= 500`, Limit: 20})
		if err != nil || len(res.Traces) == 0 {
			b.Fatal(err, len(res.Traces))
		}
	})
}

func BenchmarkScaleRED1h(b *testing.B) {
	q := scale(b)
	latencies(b, func(int) {
		res, err := q.RED(context.Background(), REDQuery{TimeRange: scaleHour(), Step: time.Minute, ByOperation: true})
		if err != nil || len(res.Series) == 0 {
			b.Fatal(err, len(res.Series))
		}
		if res.Truncated {
			b.Logf("RED truncated at the scan cap")
		}
	})
}

func BenchmarkScaleDependencies1h(b *testing.B) {
	q := scale(b)
	latencies(b, func(int) {
		g, err := q.Dependencies(context.Background(), scaleHour())
		if err != nil || len(g.Edges) == 0 {
			b.Fatal(err, len(g.Edges))
		}
		if g.Truncated {
			b.Logf("dependency graph truncated at the scan cap")
		}
	})
}
