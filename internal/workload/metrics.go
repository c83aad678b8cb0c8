package workload

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// DefaultHistogramBounds are the OpenTelemetry SDK's default explicit bucket boundaries.
var DefaultHistogramBounds = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}

type metricKind uint8

const (
	kindCounter metricKind = iota
	kindGauge
	kindHistogram
	kindExpHistogram
)

// family is one metric name and its series' attribute combinations.
type family struct {
	name, unit, desc string
	kind             metricKind
	n                int // series
	attrs            func(i int) [][2]string
}

const (
	expScale   = 3
	expBuckets = 40
	expOffset  = 8 // bucket index of the first positive bucket at expScale: 2^(8/8)=2 ms
)

var statusCodeStrs = [...]string{"200", "201", "400", "404", "500"}

var cpuStates = [...]string{"user", "system", "idle", "iowait", "steal"}

// families define the 1,000 series of a resource.
func families(voc *vocabulary) []family {
	return []family{
		{"http.server.request.count", "{request}", "Number of HTTP requests served.", kindCounter, 400,
			func(i int) [][2]string {
				return [][2]string{{"http.route", voc.routes[i%40]}, {"http.response.status_code", statusCodeStrs[(i/40)%5]},
					{"http.request.method", httpMethods[i/200]}}
			}},
		{"http.server.request.duration", "ms", "Duration of HTTP requests.", kindHistogram, 200,
			func(i int) [][2]string {
				return [][2]string{{"http.route", voc.routes[i%40]}, {"http.response.status_code", statusCodeStrs[i/40]},
					{"http.request.method", "GET"}}
			}},
		{"rpc.server.duration", "ms", "Duration of RPCs served.", kindExpHistogram, 100,
			func(i int) [][2]string {
				return [][2]string{{"rpc.method", rpcMethods[i%20]}, {"rpc.grpc.status_code", strconv.Itoa(i / 20)}}
			}},
		{"http.server.active_requests", "{request}", "Requests in flight.", kindGauge, 200,
			func(i int) [][2]string {
				return [][2]string{{"http.route", voc.routes[i%40]}, {"http.request.method", httpMethods[i/40]}}
			}},
		{"system.cpu.utilization", "1", "CPU time fraction by state.", kindGauge, 100,
			func(i int) [][2]string {
				return [][2]string{{"cpu", strconv.Itoa(i % 20)}, {"cpu.mode", cpuStates[i/20]}}
			}},
	}
}

type seriesRef struct {
	fam, idx int
	attrs    pcommon.Map
}

type metricStream struct {
	voc      *vocabulary
	rng      *rand.Rand
	fams     []family
	series   []seriesRef // SeriesPerResource entries
	start    int64
	cursor   int64 // points emitted so far
	counters map[int64]float64
	hists    map[int64][]uint64
	histSums map[int64]float64
}

func newMetricStream(voc *vocabulary, seed int64, start time.Time) *metricStream {
	ms := &metricStream{
		voc:      voc,
		rng:      newRand(seed, 0x6d6574),
		fams:     families(voc),
		start:    start.UnixNano(),
		counters: map[int64]float64{},
		hists:    map[int64][]uint64{},
		histSums: map[int64]float64{},
	}
	for f, fam := range ms.fams {
		for i := range fam.n {
			m := pcommon.NewMap()
			for _, kv := range fam.attrs(i) {
				m.PutStr(kv[0], kv[1])
			}
			ms.series = append(ms.series, seriesRef{fam: f, idx: i, attrs: m})
		}
	}
	if len(ms.series) != SeriesPerResource {
		panic("BUG: metric families do not add up to SeriesPerResource")
	}
	return ms
}

// NextMetrics returns the next n points of the metric stream: the series of resource 0 for the first
// interval, then resource 1, and so on; then the next interval. Points of one resource and metric share a
// ResourceMetrics and a Metric.
func (g *Generator) NextMetrics(n int) pmetric.Metrics {
	ms := g.metrics
	md := pmetric.NewMetrics()
	var sm pmetric.ScopeMetrics
	var m pmetric.Metric
	lastRes, lastFam := -1, -1
	perInterval := int64(numResources * SeriesPerResource)
	for range n {
		interval := ms.cursor / perInterval
		res := int((ms.cursor % perInterval) / SeriesPerResource)
		s := int(ms.cursor % SeriesPerResource)
		key := int64(res)*SeriesPerResource + int64(s)
		ms.cursor++
		if res != lastRes {
			rm := md.ResourceMetrics().AppendEmpty()
			g.voc.resources[res].attrs.CopyTo(rm.Resource().Attributes())
			sm = rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName(scopeName)
			sm.Scope().SetVersion(scopeVersion)
			lastRes, lastFam = res, -1
		}
		ref := &ms.series[s]
		fam := &ms.fams[ref.fam]
		if ref.fam != lastFam {
			m = sm.Metrics().AppendEmpty()
			m.SetName(fam.name)
			m.SetUnit(fam.unit)
			m.SetDescription(fam.desc)
			switch fam.kind {
			case kindCounter:
				m.SetEmptySum().SetIsMonotonic(true)
				m.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			case kindGauge:
				m.SetEmptyGauge()
			case kindHistogram:
				m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			case kindExpHistogram:
				m.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			}
			lastFam = ref.fam
		}
		start := pcommon.Timestamp(ms.start)
		now := pcommon.Timestamp(ms.start + (interval+1)*int64(MetricInterval))
		rng := ms.rng
		switch fam.kind {
		case kindCounter:
			v := ms.counters[key] + float64(rng.IntN(1000))
			ms.counters[key] = v
			dp := m.Sum().DataPoints().AppendEmpty()
			ref.attrs.CopyTo(dp.Attributes())
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(now)
			dp.SetDoubleValue(v)
		case kindGauge:
			dp := m.Gauge().DataPoints().AppendEmpty()
			ref.attrs.CopyTo(dp.Attributes())
			dp.SetTimestamp(now)
			if ref.fam == 4 {
				dp.SetDoubleValue(math.Round(rng.Float64()*1000) / 1000)
			} else {
				dp.SetIntValue(int64(rng.IntN(200)))
			}
		case kindHistogram:
			counts := ms.histCounts(key, len(DefaultHistogramBounds)+1)
			sum := ms.histSums[key]
			for range 1 + rng.IntN(50) {
				v := logNormal(rng, 40, 1.2)
				sum += v
				b := 0
				for b < len(DefaultHistogramBounds) && v > DefaultHistogramBounds[b] {
					b++
				}
				counts[b]++
			}
			ms.histSums[key] = sum
			dp := m.Histogram().DataPoints().AppendEmpty()
			ref.attrs.CopyTo(dp.Attributes())
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(now)
			dp.ExplicitBounds().FromRaw(DefaultHistogramBounds)
			dp.BucketCounts().FromRaw(counts)
			dp.SetCount(total(counts))
			dp.SetSum(sum)
		case kindExpHistogram:
			counts := ms.histCounts(key, expBuckets)
			sum := ms.histSums[key]
			for range 1 + rng.IntN(50) {
				v := logNormal(rng, 40, 1.2)
				sum += v
				// Bucket index i covers (base^i, base^(i+1)] with base = 2^(2^-scale).
				i := int(math.Ceil(math.Log2(v)*(1<<expScale))) - 1 - expOffset
				counts[max(0, min(expBuckets-1, i))]++
			}
			ms.histSums[key] = sum
			dp := m.ExponentialHistogram().DataPoints().AppendEmpty()
			ref.attrs.CopyTo(dp.Attributes())
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(now)
			dp.SetScale(expScale)
			dp.Positive().SetOffset(expOffset)
			dp.Positive().BucketCounts().FromRaw(counts)
			dp.SetCount(total(counts))
			dp.SetSum(sum)
		}
	}
	return md
}

func (ms *metricStream) histCounts(key int64, n int) []uint64 {
	c, ok := ms.hists[key]
	if !ok {
		c = make([]uint64, n)
		ms.hists[key] = c
	}
	return c
}

func total(c []uint64) uint64 {
	var t uint64
	for _, x := range c {
		t += x
	}
	return t
}
