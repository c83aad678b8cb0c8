package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/metrics/metricstest"
)

// The reference workload's metrics: resource groups of 1,000 series (400 counters, 300 gauges, 250 explicit
// histograms with the 15 default OTel bounds, 50 exponential histograms), one point per series per 10 s
// interval, one batch (1,000 points) per resource group and interval.
const (
	groups          = 20
	pointsPerBatch  = 1000
	exportInterval  = 10 * time.Second
	countersPerGrp  = 400
	gaugesPerGrp    = 300
	histPerGrp      = 250
	expHistPerGroup = 50
)

var defaultBounds = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}

var (
	routes = func() []string {
		var r []string
		for i := range 40 {
			r = append(r, fmt.Sprintf("/api/v1/resource%d/{id}", i))
		}
		return r
	}()
	methods  = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	statuses = []int64{200, 201, 204, 400, 404, 500}
	services = []string{"checkout", "cart", "catalog", "payment", "shipping"}
)

// workloadBatch builds the batch of resource group g for interval i, deterministically.
func workloadBatch(g, i int) pmetric.Metrics {
	return workloadBatchAt(g, i, time.Unix(1_767_000_000, 0))
}

// workloadBatchAt is workloadBatch with series starting at base.
func workloadBatchAt(g, i int, base time.Time) pmetric.Metrics {
	rng := rand.New(rand.NewPCG(uint64(g), uint64(i)))
	start := pcommon.NewTimestampFromTime(base)
	now := pcommon.NewTimestampFromTime(base.Add(time.Duration(i+1) * exportInterval))
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	ra := rm.Resource().Attributes()
	ra.PutStr("service.name", services[g%len(services)])
	ra.PutStr("service.namespace", "shop")
	ra.PutStr("service.version", "1.4.2")
	ra.PutStr("service.instance.id", fmt.Sprintf("instance-%d", g))
	ra.PutStr("host.name", fmt.Sprintf("host-%d", g))
	ra.PutStr("host.arch", "amd64")
	ra.PutStr("os.type", "linux")
	ra.PutInt("process.pid", int64(1000+g))
	ra.PutStr("telemetry.sdk.language", "go")
	ra.PutStr("deployment.environment.name", "production")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("otlpd/workload")
	ms := sm.Metrics()
	attrs := func(m pcommon.Map, k int) {
		m.PutStr("http.route", routes[k%len(routes)])
		m.PutStr("http.request.method", methods[(k/len(routes))%len(methods)])
		m.PutInt("http.response.status_code", statuses[k%len(statuses)])
		m.PutInt("series", int64(k))
	}
	c := ms.AppendEmpty()
	c.SetName("http.server.requests")
	cs := c.SetEmptySum()
	cs.SetIsMonotonic(true)
	cs.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for k := range countersPerGrp {
		p := cs.DataPoints().AppendEmpty()
		p.SetStartTimestamp(start)
		p.SetTimestamp(now)
		p.SetIntValue(int64((i + 1) * (k%7 + 1)))
		attrs(p.Attributes(), k)
	}
	gm := ms.AppendEmpty()
	gm.SetName("http.server.active_requests")
	gg := gm.SetEmptyGauge()
	for k := range gaugesPerGrp {
		p := gg.DataPoints().AppendEmpty()
		p.SetTimestamp(now)
		p.SetDoubleValue(float64(rng.IntN(100)))
		attrs(p.Attributes(), k)
	}
	h := ms.AppendEmpty()
	h.SetName("http.server.request.duration")
	h.SetUnit("ms")
	hh := h.SetEmptyHistogram()
	hh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for k := range histPerGrp {
		p := hh.DataPoints().AppendEmpty()
		p.SetStartTimestamp(start)
		p.SetTimestamp(now)
		p.ExplicitBounds().FromRaw(defaultBounds)
		counts := make([]uint64, len(defaultBounds)+1)
		var n uint64
		for b := range counts {
			counts[b] = uint64((i + 1) * (b%4 + 1))
			n += counts[b]
		}
		p.BucketCounts().FromRaw(counts)
		p.SetCount(n)
		p.SetSum(float64(n) * 42.5)
		attrs(p.Attributes(), k)
	}
	e := ms.AppendEmpty()
	e.SetName("rpc.client.duration")
	e.SetUnit("ms")
	eh := e.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for k := range expHistPerGroup {
		p := eh.DataPoints().AppendEmpty()
		p.SetStartTimestamp(start)
		p.SetTimestamp(now)
		p.SetScale(3)
		p.Positive().SetOffset(20)
		counts := make([]uint64, 40)
		var n uint64
		for b := range counts {
			counts[b] = uint64((i + 1) * (b%3 + 1))
			n += counts[b]
		}
		p.Positive().BucketCounts().FromRaw(counts)
		p.SetCount(n)
		p.SetSum(float64(n) * 12)
		attrs(p.Attributes(), k)
	}
	return md
}

func openBench(b *testing.B) *metrics.Store {
	b.Helper()
	st, err := metrics.Open(metrics.Options{Dir: filepath.Join(b.TempDir(), "metrics")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// BenchmarkDecodeBaseline is the practical ceiling: only decoding the same OTLP payloads with pdata.
func BenchmarkDecodeBaseline(b *testing.B) {
	payload, _ := pmetricotlp.NewExportRequestFromMetrics(workloadBatch(0, 0)).MarshalProto()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*pointsPerBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkStoreIngest measures translating and appending reference-workload batches to the TSDB.
func BenchmarkStoreIngest(b *testing.B) {
	st := openBench(b)
	payload, _ := pmetricotlp.NewExportRequestFromMetrics(workloadBatch(0, 0)).MarshalProto()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	ctx := context.Background()
	// Steady state: every series exists before the clock starts.
	for g := range groups {
		if err := st.ConsumeMetrics(ctx, workloadBatch(g, 0)); err != nil {
			b.Fatal(err)
		}
	}
	i := groups
	for b.Loop() {
		b.StopTimer()
		md := workloadBatch(i%groups, i/groups)
		b.StartTimer()
		if err := st.ConsumeMetrics(ctx, md); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N*pointsPerBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkServerIngestHTTP measures reference-workload batches POSTed as OTLP/HTTP protobuf to a running
// otlpd (receiver, pipeline, memory backend and metrics TSDB), from two concurrent clients.
func BenchmarkServerIngestHTTP(b *testing.B) {
	h := metricstest.Start(b)
	url := "http://" + h.HTTPAddr + "/v1/metrics"
	payload, _ := pmetricotlp.NewExportRequestFromMetrics(workloadBatch(0, 0)).MarshalProto()
	// Steady state: every series exists before the clock starts.
	for g := range groups {
		if err := h.Store.ConsumeMetrics(context.Background(), workloadBatch(g, 0)); err != nil {
			b.Fatal(err)
		}
	}
	// Payloads are prepared before the clock starts: interval i of group g.
	n := b.N
	bodies := make([][]byte, 0, n)
	for i := groups; i < groups+n; i++ {
		p, _ := pmetricotlp.NewExportRequestFromMetrics(workloadBatch(i%groups, i/groups)).MarshalProto()
		bodies = append(bodies, p)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	next := make(chan []byte, len(bodies))
	for _, p := range bodies {
		next <- p
	}
	close(next)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			for p := range next {
				resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(p))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*pointsPerBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkDiskBytesPerSample writes 2 h of the workload for 2 resource groups (2,000 series, 720 intervals
// of 10 s), compacts the head into a block and reports the block's size per sample.
func BenchmarkDiskBytesPerSample(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		st := openBench(b)
		ctx := context.Background()
		for i := range 720 {
			for g := range 2 {
				if err := st.ConsumeMetrics(ctx, workloadBatch(g, i)); err != nil {
					b.Fatal(err)
				}
			}
		}
		db := st.DB()
		head := db.Head()
		if err := db.CompactHead(tsdb.NewRangeHead(head, head.MinTime(), head.MaxTime())); err != nil {
			b.Fatal(err)
		}
		var size int64
		var nSamples uint64
		for _, blk := range db.Blocks() {
			nSamples += blk.Meta().Stats.NumSamples
			_ = filepath.WalkDir(blk.Dir(), func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if fi, err := d.Info(); err == nil {
						size += fi.Size()
					}
				}
				return nil
			})
		}
		if nSamples == 0 {
			b.Fatal("no sample in the compacted block")
		}
		b.ReportMetric(float64(size)/float64(nSamples), "bytes/sample")
		b.ReportMetric(float64(nSamples), "samples")
		b.StartTimer()
	}
}

// BenchmarkRangeQueryRate runs rate(...[5m]) range queries over a day of data at a 15 s step. The series
// count is 10,000 unless OTLPD_BENCH_SERIES says otherwise (the data is written straight to the TSDB: one
// counter sample per series every 15 s for 24 h).
func BenchmarkRangeQueryRate(b *testing.B) {
	series := 10_000
	if s := os.Getenv("OTLPD_BENCH_SERIES"); s != "" {
		fmt.Sscan(s, &series)
	}
	const step = 15 * time.Second
	day := 24 * time.Hour
	st := openBench(b)
	db := st.DB()
	start := time.Unix(1_767_000_000, 0).Truncate(time.Hour)
	lsets := make([]labels.Labels, series)
	for s := range series {
		lsets[s] = labels.FromStrings("__name__", "bench_requests_total", "route", routes[s%len(routes)],
			"method", methods[s%len(methods)], "instance", fmt.Sprintf("i%d", s%100), "series", fmt.Sprint(s))
	}
	refs := make([]storage.SeriesRef, series)
	vals := make([]float64, series)
	built := time.Now()
	for t := start; t.Before(start.Add(day)); t = t.Add(step) {
		app := db.AppenderV2(context.Background())
		ms := t.UnixMilli()
		for s := range series {
			vals[s] += float64(s%13 + 1)
			r, err := app.Append(refs[s], lsets[s], 0, ms, vals[s], nil, nil, storage.AppendV2Options{})
			if err != nil {
				b.Fatal(err)
			}
			refs[s] = r
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("fixture: %d series x %d samples written in %v", series, int(day/step), time.Since(built).Round(time.Second))
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 200_000_000, Timeout: 10 * time.Minute, LookbackDelta: 5 * time.Minute})
	for _, q := range []string{
		`sum(rate(bench_requests_total[5m]))`,
		`sum by (route) (rate(bench_requests_total[5m]))`,
	} {
		b.Run(strings.NewReplacer(" ", "", "(", "_", ")", "_").Replace(q), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				qry, err := eng.NewRangeQuery(context.Background(), st.Queryable(), nil, q, start, start.Add(day), step)
				if err != nil {
					b.Fatal(err)
				}
				res := qry.Exec(context.Background())
				if res.Err != nil {
					b.Fatal(res.Err)
				}
				m, _ := res.Matrix()
				if len(m) == 0 || len(m[0].Floats) == 0 {
					b.Fatal("empty result")
				}
				qry.Close()
			}
			b.ReportMetric(float64(series)*float64(day/step)/(b.Elapsed().Seconds()/float64(b.N)), "samples/s")
		})
	}
}
