package metrics

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// resets carries cumulative series across resets of unknown start.
//
// In the OTLP data model a cumulative point whose start time equals its time is a reset whose start is not
// known: the increase up to it is unknown and must count as zero. PromQL cannot be told that (rate counts a
// drop as a reset from zero, a rise as an increase), so the store rewrites the series instead: the reset
// point is stored with the series' previous value, and the points that follow with the same start time are
// shifted by the same offset, so that rate sees no increase at the reset and the true increases after it.
// A point with another start time (a reset whose start is known, from which PromQL counts correctly) ends
// the shift.
//
// This applies to float counters: monotonic sums, the _bucket, _count and _sum series of classic histograms
// and the _count and _sum of summaries. Native histograms keep the translator's unknown counter reset hint.
// Only series that had such a reset have an entry (offset, start, newest value; about 100 bytes), at most
// maxResetSeries; the entries live in memory, so after a restart the series continue unshifted (PromQL then
// sees a reset from zero).
type resets struct {
	mu sync.Mutex
	m  map[uint64]resetShift
	n  atomic.Int64 // len(m), read without the lock
}

// relevant says whether a counter sample (st, t) may need adjust: it is an unknown-start reset, or some
// series is shifted.
func (r *resets) relevant(st, t int64) bool { return (st != 0 && st == t) || r.n.Load() > 0 }

type resetShift struct {
	start  int64 // ms
	offset float64
	last   float64 // newest value stored (shifted), at lastT
	lastT  int64
}

const maxResetSeries = 100_000

func newResets() *resets { return &resets{m: map[uint64]resetShift{}} }

// isCounterSeries says whether a float sample of ls with metadata o is cumulative.
func isCounterSeries(ls labels.Labels, o storage.AppendV2Options) bool {
	switch o.Metadata.Type {
	case model.MetricTypeCounter:
		return true
	case model.MetricTypeHistogram:
		return true // classic: _bucket, _count, _sum
	case model.MetricTypeSummary:
		n := ls.Get(labels.MetricName)
		return strings.HasSuffix(n, "_count") || strings.HasSuffix(n, "_sum")
	}
	return false
}

// adjust returns the value to store for a counter sample (ls, st, t, v); h is the hash of ls. last reads the
// series' newest stored sample before t.
func (r *resets) adjust(ls labels.Labels, h uint64, st, t int64, v float64, last func(labels.Labels, int64) (float64, bool)) float64 {
	if value.IsStaleNaN(v) || math.IsNaN(v) {
		return v
	}
	if st != 0 && st == t {
		// An unknown-start reset: continue from the previous value, known when the series is shifted
		// already (a source that resets often), else read back from the TSDB.
		r.mu.Lock()
		s, known := r.m[h]
		r.mu.Unlock()
		p, ok := s.last, known && s.lastT < t
		if !ok {
			p, ok = last(ls, t)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if !ok {
			delete(r.m, h) // nothing before: the point starts the series, and rate starts from it anyway
			r.n.Store(int64(len(r.m)))
			return v
		}
		if known || len(r.m) < maxResetSeries {
			r.m[h] = resetShift{start: st, offset: p - v, last: p, lastT: t}
			r.n.Store(int64(len(r.m)))
		}
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[h]
	if !ok {
		return v
	}
	if st != s.start {
		delete(r.m, h)
		r.n.Store(int64(len(r.m)))
		return v
	}
	v += s.offset
	if t > s.lastT {
		s.last, s.lastT = v, t
		r.m[h] = s
	}
	return v
}

// lastValue returns the newest float sample of ls stored before t, looking back over the head.
func (s *Store) lastValue(ls labels.Labels, t int64) (float64, bool) {
	mint := max(s.db.Head().MinTime(), t-int64(2*60*60*1000))
	q, err := s.db.Querier(mint, t-1)
	if err != nil {
		return 0, false
	}
	defer q.Close()
	ms := make([]*labels.Matcher, 0, ls.Len())
	ls.Range(func(l labels.Label) { ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value)) })
	set := q.Select(context.Background(), false, nil, ms...)
	var (
		v     float64
		found bool
	)
	for set.Next() {
		if !labels.Equal(set.At().Labels(), ls) {
			continue
		}
		it := set.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			_, x := it.At()
			if !value.IsStaleNaN(x) {
				v, found = x, true
			}
		}
	}
	return v, found
}
