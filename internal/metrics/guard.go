package metrics

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/index"
)

// guard counts active series, in total and per metric family, and refuses new series past the limits.
//
// It remembers each admitted series by its label hash with the time of its newest sample and the TSDB head
// reference of the series (32 bytes plus map overhead, about 70 bytes a series). Samples appended with a
// known head reference (from the translator's series cache) do not come through the guard, so that time is
// the newest sample seen by the guard, not the series' newest. Series whose newest sample is older than the
// TSDB head and which the head no longer holds are gone, so a sweep forgets them and their names' counts go
// down; the memory is thus bounded by MaxSeries entries (about 70 MB at the default 1,000,000), and the
// reference cache adds no entry of its own. A hash collision between two series makes them count as one,
// which errs on the side of admitting.
//
// The head reference is the ingest fast path for known series: the appender passes it to the TSDB, which
// then finds the series by reference instead of hashing its labels and looking them up again. A reference
// goes stale when the head garbage-collects its series (after a head truncation); the TSDB then finds no
// series for it and looks the labels up (creating the series again), and the appender stores the new
// reference. Head references are never reused, so a stale one cannot point at another series. Two label
// sets with the same 64-bit hash would share one entry and so one reference (the second one's samples
// would go to the first one's series); with 1,000,000 series the chance of any such pair is about 3e-8.
type guard struct {
	limits Limits

	mu        sync.Mutex
	series    map[uint64]seriesEntry
	perMetric map[string]int
	logged    map[string]struct{}
	headMin   func() int64 // start of the TSDB head, ms
	// inHead returns a test of whether the head holds the series of a reference, and its release; nil:
	// sweeps go by lastSeen alone.
	inHead    func() (has func(storage.SeriesRef) bool, done func())
	now       func() time.Time
	lastSweep time.Time
}

type seriesEntry struct {
	name     string
	lastSeen int64             // ms
	ref      storage.SeriesRef // TSDB head reference from the newest append; 0: not known
}

// maxLogged bounds the names remembered for log-once.
const maxLogged = 10_000

// sweepEvery rate-limits the sweeps a refusal triggers.
const sweepEvery = 10 * time.Second

func newGuard(l Limits, headMin func() int64) *guard {
	return &guard{limits: l, series: map[uint64]seriesEntry{}, perMetric: map[string]int{}, logged: map[string]struct{}{},
		headMin: headMin, now: time.Now}
}

// admit says whether a sample of the series (name, hash) at time t may be stored. When not, reason is the
// metric label of the refusal and msg the text for the client. When it may, ref is the series' TSDB head
// reference remembered by setRef (0: none).
func (g *guard) admit(name string, hash uint64, t int64) (ref storage.SeriesRef, reason, msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.series[hash]; ok {
		if t > e.lastSeen {
			e.lastSeen = t
			g.series[hash] = e
		}
		return e.ref, "", ""
	}
	if (len(g.series) >= g.limits.MaxSeries || g.perMetric[name] >= g.limits.MaxSeriesPerMetric) && g.now().Sub(g.lastSweep) > sweepEvery {
		// Before refusing, forget the series the head no longer holds.
		g.lastSweep = g.now()
		g.sweepLocked(g.headMin())
	}
	if len(g.series) >= g.limits.MaxSeries {
		return 0, "series_limit", fmt.Sprintf("metric %s: new series refused: the store holds %d active series, the limit", name, g.limits.MaxSeries)
	}
	if g.perMetric[name] >= g.limits.MaxSeriesPerMetric {
		return 0, "metric_series_limit", fmt.Sprintf("metric %s: new series refused: the metric has %d active series, the limit", name, g.limits.MaxSeriesPerMetric)
	}
	g.series[hash] = seriesEntry{name: name, lastSeen: t}
	g.perMetric[name]++
	return 0, "", ""
}

// readmit counts a series the head made again for a known reference (it had garbage-collected the series):
// the sample is stored already, so no limit applies.
func (g *guard) readmit(name string, hash uint64, t int64, ref storage.SeriesRef) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.series[hash]
	if !ok {
		e = seriesEntry{name: name}
		g.perMetric[name]++
	}
	e.lastSeen, e.ref = max(e.lastSeen, t), ref
	g.series[hash] = e
}

// setRef remembers ref as the TSDB head reference of the series hash, if the guard still counts it.
func (g *guard) setRef(hash uint64, ref storage.SeriesRef) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.series[hash]; ok {
		e.ref = ref
		g.series[hash] = e
	}
}

// firstRefusal reports whether this is the first refusal for name (so it is logged once).
func (g *guard) firstRefusal(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.logged[name]; ok {
		return false
	}
	if len(g.logged) >= maxLogged {
		return false
	}
	g.logged[name] = struct{}{}
	return true
}

// sweep forgets series whose newest sample is before minTime (the head's start) and that the head no longer
// holds: the TSDB has dropped them from memory.
func (g *guard) sweep(minTime int64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sweepLocked(minTime)
}

func (g *guard) sweepLocked(minTime int64) int {
	var has func(storage.SeriesRef) bool
	if g.inHead != nil {
		var done func()
		has, done = g.inHead()
		defer done()
	}
	n := 0
	for h, e := range g.series {
		// Samples appended by reference do not update lastSeen: the head says whether such a series is
		// still there.
		if e.lastSeen < minTime && (e.ref == 0 || has == nil || !has(e.ref)) {
			delete(g.series, h)
			if g.perMetric[e.name]--; g.perMetric[e.name] <= 0 {
				delete(g.perMetric, e.name)
			}
			n++
		}
	}
	return n
}

// len returns the number of active series counted.
func (g *guard) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.series)
}

// seed counts the series already in the head (after a restart).
func (g *guard) seed(h *tsdb.Head) error {
	ir, err := h.Index()
	if err != nil {
		return err
	}
	defer ir.Close()
	ctx := context.Background()
	name, value := index.AllPostingsKey()
	p, err := ir.Postings(ctx, name, value)
	if err != nil {
		return err
	}
	var b labels.ScratchBuilder
	maxt := h.MaxTime()
	g.mu.Lock()
	defer g.mu.Unlock()
	for p.Next() {
		if err := ir.Series(p.At(), &b, nil); err != nil {
			continue
		}
		ls := b.Labels()
		hash := ls.Hash()
		if _, ok := g.series[hash]; ok {
			continue
		}
		n := familyOf(ls)
		g.series[hash] = seriesEntry{name: n, lastSeen: maxt, ref: storage.SeriesRef(p.At())}
		g.perMetric[n]++
	}
	return p.Err()
}

// familyOf guesses the metric family of a series whose family is not given (a remote write, a series read
// back from the head after a restart): a histogram's _bucket (with le), _count and _sum series, and a
// summary's _count, _sum and _created, belong to the name without the suffix. A gauge that happens to end in _count or
// _sum is counted with a family of the shorter name, which only moves it between per-metric counts.
func familyOf(ls labels.Labels) string {
	name := ls.Get(labels.MetricName)
	if ls.Has(labels.BucketLabel) {
		if f, ok := strings.CutSuffix(name, "_bucket"); ok {
			return f
		}
	}
	for _, suffix := range []string{"_count", "_sum", "_created"} {
		if f, ok := strings.CutSuffix(name, suffix); ok && f != "" {
			return f
		}
	}
	return name
}

// headHas returns a test of whether h holds the series of a reference, and its release.
func headHas(h *tsdb.Head) (func(storage.SeriesRef) bool, func()) {
	ir, err := h.Index()
	if err != nil {
		return func(storage.SeriesRef) bool { return false }, func() {}
	}
	var b labels.ScratchBuilder
	return func(ref storage.SeriesRef) bool { return ir.Series(ref, &b, nil) == nil }, func() { _ = ir.Close() }
}
