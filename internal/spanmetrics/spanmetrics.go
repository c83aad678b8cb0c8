package spanmetrics

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// Metric names and attribute keys, as the OpenTelemetry Collector's span metrics connector writes them, so
// that dashboards and Jaeger's service performance monitoring find them under their usual names.
const (
	CallsMetric    = "traces.span.metrics.calls"
	DurationMetric = "traces.span.metrics.duration"

	attrService  = "service.name"
	attrSpanName = "span.name"
	attrSpanKind = "span.kind"
	attrStatus   = "status.code"
	// attrOverflow marks the series that gathers the spans of keys past Options.MaxSeries, as the OpenTelemetry
	// metrics SDK marks its own overflow series.
	attrOverflow = "otel.metric.overflow"
)

// DefaultBuckets are the explicit bounds of the duration histogram, in milliseconds.
var DefaultBuckets = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}

// Options configures a Generator. Zero fields take the defaults given.
type Options struct {
	// Interval is how often the series are written. Default 15 s.
	Interval time.Duration
	// MaxSeries bounds the distinct (service, span name, kind, status) keys; spans of new keys past it are
	// counted in one overflow series per service. Default 10,000.
	MaxSeries int
	// IdleTTL drops a series that saw no span for this long (its points stop; Prometheus marks it stale).
	// Default 10 min.
	IdleTTL time.Duration
	// Classic writes the duration histogram with the explicit bucket bounds Buckets (one Prometheus series per
	// bucket). By default it is an exponential histogram, a single native-histogram series per key.
	Classic bool
	// Buckets are the classic histogram's bounds in milliseconds, ascending. Default DefaultBuckets.
	Buckets []float64
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Writer receives the generated metrics (the metrics store).
type Writer interface {
	ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error
}

// Generator turns the spans it is given into request, error and duration metrics per service and
// operation. Safe for concurrent use.
type Generator struct {
	opts Options
	out  Writer

	mu     sync.Mutex
	series map[key]*series
	// byHash finds the series of a key (not an overflow series) by a 64-bit hash of it (keyHash), without
	// comparing strings: on a busy server the series' strings are seldom in the CPU's cache. A collision
	// (about 2^-64 per pair of keys) would count one key's spans in the other's series.
	byHash   map[uint64]*series
	overflow uint64        // spans counted in an overflow series, since start
	pending  []pendingSpan // ConsumeTracesRaw's batch, read and not yet counted
}

type key struct {
	service, name string
	kind          ptrace.SpanKind
	status        ptrace.StatusCode
	overflow      bool
}

type series struct {
	hash        uint64 // keyHash of its key, when in byHash
	inHash      bool
	overflow    bool      // the overflow series of a service
	start, last time.Time // first span seen (the cumulative start), last span seen
	calls       uint64
	sumMs       float64
	buckets     []uint64 // classic: len(bounds)+1
	exp         expHist  // native
	// exemplar: the slowest span since the last write, so that a latency panel leads to a trace
	exTrace pcommon.TraceID
	exSpan  pcommon.SpanID
	exMs    float64
	exTime  pcommon.Timestamp
	exSet   bool
}

// New returns a generator writing to out.
func New(out Writer, opts Options) *Generator {
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Second
	}
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = 10_000
	}
	if opts.IdleTTL <= 0 {
		opts.IdleTTL = 10 * time.Minute
	}
	if len(opts.Buckets) == 0 {
		opts.Buckets = DefaultBuckets
	}
	opts.Buckets = slices.Clone(opts.Buckets)
	sort.Float64s(opts.Buckets)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Generator{opts: opts, out: out, series: map[key]*series{}, byHash: map[uint64]*series{}}
}

// ConsumeTraces counts the spans of td. It never fails and never blocks on I/O: it is a pipeline observer.
func (g *Generator) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	now := g.opts.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, rs := range td.ResourceSpans().All() {
		svc := "unknown_service"
		if v, ok := rs.Resource().Attributes().Get(attrService); ok && v.Str() != "" {
			svc = v.Str()
		}
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				g.add(now, key{service: svc, name: sp.Name(), kind: sp.Kind(), status: sp.Status().Code()}, spanTimes{
					start: sp.StartTimestamp(), end: sp.EndTimestamp(), traceID: sp.TraceID(), spanID: sp.SpanID(),
				})
			}
		}
	}
	return nil
}

// spanTimes is what a series keeps of a span besides its key.
type spanTimes struct {
	start, end pcommon.Timestamp
	traceID    pcommon.TraceID
	spanID     pcommon.SpanID
}

// add counts one span under k. The strings of k may share a batch's memory: a new series clones them.
func (g *Generator) add(now time.Time, k key, sp spanTimes) {
	g.count(g.lookup(now, k), now, sp)
}

// lookup returns the series spans of key k are counted in: k's, created if need be, or, when there are
// MaxSeries already and k has none, its service's overflow series.
func (g *Generator) lookup(now time.Time, k key) *series {
	s := g.series[k]
	if s == nil {
		if len(g.series) >= g.opts.MaxSeries {
			k = key{service: k.service, overflow: true}
			if s = g.series[k]; s == nil {
				// Overflow series may go past MaxSeries by one per service: the limit bounds the keys spans
				// choose, not the services.
				s = g.newSeries(now)
				s.overflow = true
				k.service = strings.Clone(k.service)
				g.series[k] = s
			}
		} else {
			s = g.newSeries(now)
			k.service, k.name = strings.Clone(k.service), strings.Clone(k.name)
			g.series[k] = s
		}
	}
	return s
}

// count counts one span in s, the series lookup returned for its key.
func (g *Generator) count(s *series, now time.Time, sp spanTimes) {
	if s.overflow {
		g.overflow++
	}
	ms := 0.0
	if sp.end > sp.start {
		ms = float64(sp.end-sp.start) / 1e6
	}
	s.last = now
	s.calls++
	s.sumMs += ms
	if g.opts.Classic {
		s.buckets[bucketOf(g.opts.Buckets, ms)]++
	} else {
		s.exp.add(ms)
	}
	if !s.exSet || ms > s.exMs {
		s.exTrace, s.exSpan, s.exMs, s.exTime, s.exSet = sp.traceID, sp.spanID, ms, sp.end, true
	}
}

func (g *Generator) newSeries(now time.Time) *series {
	if g.opts.Classic {
		return &series{start: now, buckets: make([]uint64, len(g.opts.Buckets)+1)}
	}
	return &series{start: now, exp: newExpHist()}
}

// bucketOf returns the index of the bucket holding v: the first bound >= v (Prometheus "le"), or the last
// (+Inf) bucket.
func bucketOf(bounds []float64, v float64) int {
	return sort.SearchFloat64s(bounds, v)
}

// Series reports how many series the generator holds.
func (g *Generator) Series() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.series)
}

// OverflowSpans reports how many spans were counted in an overflow series since start.
func (g *Generator) OverflowSpans() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.overflow
}

// Collect drops the series idle past IdleTTL and returns the others as cumulative OTLP metrics stamped now:
// one resource per service, a monotonic sum of calls and a histogram of durations per key.
func (g *Generator) Collect() pmetric.Metrics {
	now := g.opts.Now()
	ts := pcommon.NewTimestampFromTime(now)
	g.mu.Lock()
	defer g.mu.Unlock()
	byService := map[string][]key{}
	for k, s := range g.series {
		if now.Sub(s.last) > g.opts.IdleTTL {
			delete(g.series, k)
			if s.inHash {
				delete(g.byHash, s.hash)
			}
			continue
		}
		byService[k.service] = append(byService[k.service], k)
	}
	md := pmetric.NewMetrics()
	services := make([]string, 0, len(byService))
	for svc := range byService {
		services = append(services, svc)
	}
	slices.Sort(services)
	for _, svc := range services {
		keys := byService[svc]
		slices.SortFunc(keys, compareKeys)
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr(attrService, svc)
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("otlpd/spanmetrics")
		calls := sm.Metrics().AppendEmpty()
		calls.SetName(CallsMetric)
		calls.SetDescription("Spans received, by service, span name, kind and status code.")
		sum := calls.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dur := sm.Metrics().AppendEmpty()
		dur.SetName(DurationMetric)
		dur.SetUnit("ms")
		dur.SetDescription("Span durations, by service, span name, kind and status code.")
		var hist pmetric.HistogramDataPointSlice
		var ehist pmetric.ExponentialHistogramDataPointSlice
		if g.opts.Classic {
			h := dur.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			hist = h.DataPoints()
		} else {
			h := dur.SetEmptyExponentialHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			ehist = h.DataPoints()
		}
		for _, k := range keys {
			s := g.series[k]
			start := pcommon.NewTimestampFromTime(s.start)
			p := sum.DataPoints().AppendEmpty()
			p.SetStartTimestamp(start)
			p.SetTimestamp(ts)
			p.SetIntValue(int64(s.calls))
			putKey(p.Attributes(), k)

			var exemplars pmetric.ExemplarSlice
			if g.opts.Classic {
				h := hist.AppendEmpty()
				h.SetStartTimestamp(start)
				h.SetTimestamp(ts)
				h.SetCount(s.calls)
				h.SetSum(s.sumMs)
				h.ExplicitBounds().FromRaw(g.opts.Buckets)
				h.BucketCounts().FromRaw(s.buckets)
				putKey(h.Attributes(), k)
				exemplars = h.Exemplars()
			} else {
				h := ehist.AppendEmpty()
				h.SetStartTimestamp(start)
				h.SetTimestamp(ts)
				h.SetCount(s.calls)
				h.SetSum(s.sumMs)
				h.SetScale(s.exp.scale)
				h.SetZeroCount(s.exp.zero)
				h.Positive().SetOffset(s.exp.offset)
				h.Positive().BucketCounts().FromRaw(s.exp.counts)
				putKey(h.Attributes(), k)
				exemplars = h.Exemplars()
			}
			if s.exSet {
				ex := exemplars.AppendEmpty()
				ex.SetTimestamp(s.exTime)
				ex.SetDoubleValue(s.exMs)
				ex.SetTraceID(s.exTrace)
				ex.SetSpanID(s.exSpan)
				s.exSet = false
			}
		}
	}
	return md
}

func putKey(m pcommon.Map, k key) {
	m.PutStr(attrService, k.service)
	if k.overflow {
		m.PutBool(attrOverflow, true)
		return
	}
	m.PutStr(attrSpanName, k.name)
	m.PutStr(attrSpanKind, storage.SpanKindName(k.kind))
	m.PutStr(attrStatus, storage.StatusCodeName(k.status))
}

func compareKeys(a, b key) int {
	switch {
	case a.overflow != b.overflow:
		if a.overflow {
			return 1
		}
		return -1
	case a.name != b.name:
		if a.name < b.name {
			return -1
		}
		return 1
	case a.kind != b.kind:
		return int(a.kind) - int(b.kind)
	}
	return int(a.status) - int(b.status)
}

// Run writes the series every Interval until ctx ends, then once more, so that the last counts are kept.
func (g *Generator) Run(ctx context.Context) {
	t := time.NewTicker(g.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.write(context.WithoutCancel(ctx))
			return
		case <-t.C:
			g.write(ctx)
		}
	}
}

func (g *Generator) write(ctx context.Context) {
	md := g.Collect()
	if md.DataPointCount() == 0 {
		return
	}
	if err := g.out.ConsumeMetrics(ctx, md); err != nil {
		g.opts.Logger.Warn("span metrics: cannot store", "points", md.DataPointCount(), "err", err)
	}
}
