package promconv

import (
	"context"
	"errors"
	"math"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// targetInfoName is the family name the translator gives target_info (no namespace is set).
const targetInfoName = "target_info"

// spanMetricName names the gauge that carries the time span of a scope to the translator when it only has
// to make target_info (its own samples are dropped). Any name that is not target_info works.
const spanMetricName = "otlpd.batch.span"

// convState is the state of one convertCached call.
type convState struct {
	c    *Converter
	ctx  context.Context
	capt captureAppender
	pc   *prometheusremotewrite.PrometheusConverter
	err  error // joined translation errors

	ckey      []byte // context key: resource, scope, metric
	scopeKey  int    // len(ckey) after the resource and scope parts
	key       []byte // the key of the current point
	rm        pmetric.ResourceMetrics
	sm        pmetric.ScopeMetrics
	tiny      pmetric.Metrics // one resource and scope (rm, sm) with the metrics to translate; lazily made
	tinyValid bool

	pending  []int               // indexes of the points of the current metric left to the translator
	pendKeys []string            // their cache keys
	slowKeys map[string]struct{} // keys of the current metric whose points must all go to the translator
}

// convertCached is FromMetrics with the series cache: points of cached series are appended by reference
// here; the translator gets the rest, one metric at a time, and target_info once per batch.
func (c *Converter) convertCached(ctx context.Context, md pmetric.Metrics, fa *filterAppender) error {
	s, _ := c.states.Get().(*convState)
	if s == nil {
		s = &convState{}
	}
	s.c, s.ctx, s.err = c, ctx, nil
	s.capt = captureAppender{next: fa, recs: s.capt.recs[:0]}
	s.pc, _ = c.pool.Get().(*prometheusremotewrite.PrometheusConverter)
	if s.pc == nil {
		s.pc = prometheusremotewrite.NewPrometheusConverter(&s.capt)
	} else {
		s.pc.Reset(&s.capt)
	}
	defer func() {
		s.pc.Reset(nil)
		c.pool.Put(s.pc)
		clear(s.capt.recs)
		s.capt = captureAppender{recs: s.capt.recs[:0]}
		s.c, s.ctx, s.pc, s.err = nil, nil, nil, nil
		s.rm, s.sm, s.tiny, s.tinyValid = pmetric.ResourceMetrics{}, pmetric.ScopeMetrics{}, pmetric.Metrics{}, false
		clear(s.pendKeys)
		c.states.Put(s)
	}()

	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		s.rm = rms.At(i)
		s.ckey = appendKeyMap(s.ckey[:0], s.rm.Resource().Attributes())
		resKey := len(s.ckey)
		sms := s.rm.ScopeMetrics()
		for j := range sms.Len() {
			s.sm = sms.At(j)
			s.tinyValid = false
			s.ckey = appendScopeKey(s.ckey[:resKey], s.sm)
			s.scopeKey = len(s.ckey)
			ms := s.sm.Metrics()
			for k := range ms.Len() {
				if err := ctx.Err(); err != nil {
					return err
				}
				s.metric(ms.At(k))
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
	}
	s.targetInfo(md)
	return s.err
}

// cacheable says whether the points of m can be appended from the cache.
func cacheable(m pmetric.Metric) bool {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return true
	case pmetric.MetricTypeSum:
		return m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative
	case pmetric.MetricTypeHistogram:
		return m.Histogram().AggregationTemporality() == pmetric.AggregationTemporalityCumulative
	}
	return false
}

func (s *convState) metric(m pmetric.Metric) {
	var n int
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		n = m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		n = m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		n = m.Histogram().DataPoints().Len()
	}
	if !cacheable(m) || n == 0 {
		s.translateWhole(m)
		return
	}
	s.ckey = appendMetricKey(s.ckey[:s.scopeKey], m)
	cc := s.c.cache.context(s.ckey, newestTime(m))
	if cc == nil { // full
		s.translateWhole(m)
		return
	}
	s.pending, s.pendKeys = s.pending[:0], s.pendKeys[:0]
	clear(s.slowKeys)
	for i := range n {
		s.key = appendUint64(s.key[:0], cc.id)
		var simple bool
		var e *cacheEntry
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			p := m.Gauge().DataPoints().At(i)
			s.key = appendKeyMap(s.key, p.Attributes())
			simple = !p.Flags().NoRecordedValue() // the translator drops exemplars of gauges
			if e = s.c.cache.get(s.key); e != nil && simple && s.fast(e) {
				if err := s.appendNumber(e, p); err != nil {
					s.fail(err)
					s.flush(m)
					return
				}
				continue
			}
		case pmetric.MetricTypeSum:
			p := m.Sum().DataPoints().At(i)
			s.key = appendKeyMap(s.key, p.Attributes())
			simple = !p.Flags().NoRecordedValue() && p.Exemplars().Len() == 0
			if e = s.c.cache.get(s.key); e != nil && simple && s.fast(e) {
				if err := s.appendNumber(e, p); err != nil {
					s.fail(err)
					s.flush(m)
					return
				}
				continue
			}
		case pmetric.MetricTypeHistogram:
			p := m.Histogram().DataPoints().At(i)
			s.key = appendKeyMap(s.key, p.Attributes())
			if p.HasSum() {
				s.key = append(s.key, 1)
			} else {
				s.key = append(s.key, 0)
			}
			simple = !p.Flags().NoRecordedValue() && p.Exemplars().Len() == 0
			if e = s.c.cache.get(s.key); e != nil && simple && s.fast(e) && e.fits(p) {
				if err := s.appendHistogram(e, p); err != nil {
					s.fail(err)
					s.flush(m)
					return
				}
				continue
			}
		}
		key := string(s.key)
		if e != nil {
			// Later points of this series in the batch must follow this one.
			if s.slowKeys == nil {
				s.slowKeys = map[string]struct{}{}
			}
			s.slowKeys[key] = struct{}{}
		}
		s.pending = append(s.pending, i)
		s.pendKeys = append(s.pendKeys, key)
	}
	s.flush(m)
}

// fast says whether the current key may take the fast path: not when an earlier point of its series in the
// batch went to the translator.
func (s *convState) fast(e *cacheEntry) bool {
	if len(s.slowKeys) == 0 {
		return true
	}
	_, slow := s.slowKeys[string(s.key)]
	return !slow
}

func (s *convState) fail(err error) { s.err = errors.Join(s.err, err) }

// fits says whether histogram point p has the bounds and bucket count the entry's series were made for.
func (e *cacheEntry) fits(p pmetric.HistogramDataPoint) bool {
	b := p.ExplicitBounds()
	if p.BucketCounts().Len() != e.counts || b.Len() != len(e.bounds) {
		return false
	}
	for i, x := range e.bounds {
		if y := b.At(i); y != x && !(math.IsNaN(x) && math.IsNaN(y)) {
			return false
		}
	}
	return true
}

func (s *convState) add(cs *cachedSeries, opts storage.AppendV2Options, st, t int64, v float64) error {
	old := storage.SeriesRef(cs.ref.Load())
	r, err := s.capt.next.Append(old, cs.ls, st, t, v, nil, nil, opts)
	if err != nil {
		return err
	}
	if r != 0 && r != old {
		cs.ref.Store(uint64(r))
	}
	return nil
}

func (s *convState) appendNumber(e *cacheEntry, p pmetric.NumberDataPoint) error {
	var v float64
	switch p.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		v = float64(p.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		v = p.DoubleValue()
	}
	t := msTime(p.Timestamp())
	e.seen(t)
	return s.add(&e.series[0], e.opts, msTime(p.StartTimestamp()), t, v)
}

// appendHistogram appends the series of a classic histogram point in the translator's order and values.
func (s *convState) appendHistogram(e *cacheEntry, p pmetric.HistogramDataPoint) error {
	t, st := msTime(p.Timestamp()), msTime(p.StartTimestamp())
	e.seen(t)
	j := 0
	if p.HasSum() {
		if err := s.add(&e.series[j], e.opts, st, t, p.Sum()); err != nil {
			return err
		}
		j++
	}
	count := float64(p.Count())
	if err := s.add(&e.series[j], e.opts, st, t, count); err != nil {
		return err
	}
	j++
	bounds, counts := p.ExplicitBounds(), p.BucketCounts()
	var cum uint64
	for i := range min(bounds.Len(), counts.Len()) {
		cum += counts.At(i)
		if math.IsInf(bounds.At(i), 1) {
			continue
		}
		if err := s.add(&e.series[j], e.opts, st, t, float64(cum)); err != nil {
			return err
		}
		j++
	}
	return s.add(&e.series[j], e.opts, st, t, count)
}

// appendsFor is how many samples the translator appends for a point of a cacheable metric.
func appendsFor(m pmetric.Metric, i int) int {
	if m.Type() != pmetric.MetricTypeHistogram {
		return 1
	}
	p := m.Histogram().DataPoints().At(i)
	n := 2 // _count, +Inf
	if p.HasSum() {
		n++
	}
	b := p.ExplicitBounds()
	for k := range min(b.Len(), p.BucketCounts().Len()) {
		if !math.IsInf(b.At(k), 1) {
			n++
		}
	}
	return n
}

// flush hands the pending points of m to the translator and caches the series it makes of them.
func (s *convState) flush(m pmetric.Metric) {
	if len(s.pending) == 0 {
		return
	}
	tm := s.tinyMetric()
	copyHeader(tm, m)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		src, dst := m.Gauge().DataPoints(), tm.Gauge().DataPoints()
		dst.EnsureCapacity(len(s.pending))
		for _, i := range s.pending {
			src.At(i).CopyTo(dst.AppendEmpty())
		}
	case pmetric.MetricTypeSum:
		src, dst := m.Sum().DataPoints(), tm.Sum().DataPoints()
		dst.EnsureCapacity(len(s.pending))
		for _, i := range s.pending {
			src.At(i).CopyTo(dst.AppendEmpty())
		}
	case pmetric.MetricTypeHistogram:
		src, dst := m.Histogram().DataPoints(), tm.Histogram().DataPoints()
		dst.EnsureCapacity(len(s.pending))
		for _, i := range s.pending {
			src.At(i).CopyTo(dst.AppendEmpty())
		}
	}
	s.capt.mode = captureAll
	s.capt.recs = s.capt.recs[:0]
	_, err := s.pc.FromMetrics(s.ctx, s.tiny, s.c.noTarget)
	s.capt.mode = captureOff
	if err != nil {
		s.fail(err)
		return
	}
	want := 0
	for _, i := range s.pending {
		want += appendsFor(m, i)
	}
	if want != len(s.capt.recs) {
		return // not what the translator is known to do: cache nothing
	}
	recs := s.capt.recs
	for x, i := range s.pending {
		n := appendsFor(m, i)
		e := &cacheEntry{opts: recs[0].opts, series: make([]cachedSeries, n)}
		for k := range n {
			e.series[k].ls = recs[k].ls
			e.series[k].ref.Store(uint64(recs[k].ref))
		}
		var t int64
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			t = msTime(m.Gauge().DataPoints().At(i).Timestamp())
		case pmetric.MetricTypeSum:
			t = msTime(m.Sum().DataPoints().At(i).Timestamp())
		case pmetric.MetricTypeHistogram:
			p := m.Histogram().DataPoints().At(i)
			t = msTime(p.Timestamp())
			e.bounds = p.ExplicitBounds().AsRaw()
			e.counts = p.BucketCounts().Len()
		}
		e.lastT.Store(t)
		s.c.cache.put(s.pendKeys[x], e)
		recs = recs[n:]
	}
}

// translateWhole hands metric m to the translator as it is.
func (s *convState) translateWhole(m pmetric.Metric) {
	m.CopyTo(s.tinyMetric())
	s.capt.mode = captureOff
	if _, err := s.pc.FromMetrics(s.ctx, s.tiny, s.c.noTarget); err != nil {
		s.fail(err)
	}
}

// tinyMetric returns the one metric of s.tiny, emptied, under the current resource and scope.
func (s *convState) tinyMetric() pmetric.Metric {
	if !s.tinyValid {
		s.tiny = pmetric.NewMetrics()
		trm := s.tiny.ResourceMetrics().AppendEmpty()
		s.rm.Resource().CopyTo(trm.Resource())
		trm.SetSchemaUrl(s.rm.SchemaUrl())
		tsm := trm.ScopeMetrics().AppendEmpty()
		s.sm.Scope().CopyTo(tsm.Scope())
		tsm.SetSchemaUrl(s.sm.SchemaUrl())
		tsm.Metrics().AppendEmpty()
		s.tinyValid = true
	}
	ms := s.tiny.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	m := ms.At(0)
	pmetric.NewMetric().MoveTo(m) // empty it
	return m
}

func copyHeader(dst, src pmetric.Metric) {
	dst.SetName(src.Name())
	dst.SetUnit(src.Unit())
	dst.SetDescription(src.Description())
	switch src.Type() {
	case pmetric.MetricTypeGauge:
		dst.SetEmptyGauge()
	case pmetric.MetricTypeSum:
		sum := dst.SetEmptySum()
		sum.SetIsMonotonic(src.Sum().IsMonotonic())
		sum.SetAggregationTemporality(src.Sum().AggregationTemporality())
	case pmetric.MetricTypeHistogram:
		dst.SetEmptyHistogram().SetAggregationTemporality(src.Histogram().AggregationTemporality())
	}
}

// targetInfo has the translator make the target_info samples of md: a copy of md's resources and scopes,
// each scope with one gauge whose two points are the oldest and newest point times of the scope (what the
// translator takes target_info's time span from), of which only target_info is appended.
func (s *convState) targetInfo(md pmetric.Metrics) {
	span := pmetric.NewMetrics()
	rms := md.ResourceMetrics()
	span.ResourceMetrics().EnsureCapacity(rms.Len())
	for i := range rms.Len() {
		rm := rms.At(i)
		srm := span.ResourceMetrics().AppendEmpty()
		rm.Resource().CopyTo(srm.Resource())
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			sm := sms.At(j)
			ssm := srm.ScopeMetrics().AppendEmpty()
			sm.Scope().CopyTo(ssm.Scope())
			ssm.SetSchemaUrl(sm.SchemaUrl())
			lo, hi := pcommon.Timestamp(math.MaxUint64), pcommon.Timestamp(0)
			ms := sm.Metrics()
			for k := range ms.Len() {
				lo, hi = timeSpan(ms.At(k), lo, hi)
			}
			if lo > hi {
				continue
			}
			g := ssm.Metrics().AppendEmpty()
			g.SetName(spanMetricName)
			dps := g.SetEmptyGauge().DataPoints()
			dps.AppendEmpty().SetTimestamp(lo)
			dps.AppendEmpty().SetTimestamp(hi)
		}
	}
	s.capt.mode = captureTargetInfo
	_, err := s.pc.FromMetrics(s.ctx, span, s.c.settings)
	s.capt.mode = captureOff
	if err != nil {
		s.fail(err)
	}
}

// timeSpan widens [lo, hi] by the point times of m, as the translator does for target_info.
func timeSpan(m pmetric.Metric, lo, hi pcommon.Timestamp) (pcommon.Timestamp, pcommon.Timestamp) {
	f := func(t pcommon.Timestamp) { lo, hi = min(lo, t), max(hi, t) }
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, p := range m.Gauge().DataPoints().All() {
			f(p.Timestamp())
		}
	case pmetric.MetricTypeSum:
		for _, p := range m.Sum().DataPoints().All() {
			f(p.Timestamp())
		}
	case pmetric.MetricTypeHistogram:
		for _, p := range m.Histogram().DataPoints().All() {
			f(p.Timestamp())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, p := range m.ExponentialHistogram().DataPoints().All() {
			f(p.Timestamp())
		}
	case pmetric.MetricTypeSummary:
		for _, p := range m.Summary().DataPoints().All() {
			f(p.Timestamp())
		}
	}
	return lo, hi
}

// newestTime is the newest point time of m in ms.
func newestTime(m pmetric.Metric) int64 {
	_, hi := timeSpan(m, pcommon.Timestamp(math.MaxUint64), 0)
	return msTime(hi)
}

func (e *cacheEntry) seen(t int64) {
	if t > e.lastT.Load() {
		e.lastT.Store(t)
	}
}

// msTime converts as the translator does.
func msTime(t pcommon.Timestamp) int64 { return int64(t) / 1_000_000 }

func appendUint64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

type captureMode uint8

const (
	captureOff        captureMode = iota // pass every sample on
	captureAll                           // pass every sample on and record its series
	captureTargetInfo                    // pass on target_info samples only
)

// captureAppender sits between the translator and the filterAppender.
type captureAppender struct {
	next *filterAppender
	mode captureMode
	recs []captured
}

type captured struct {
	ls   labels.Labels
	ref  storage.SeriesRef
	opts storage.AppendV2Options
}

func (a *captureAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	if a.mode == captureTargetInfo && opts.MetricFamilyName != targetInfoName {
		return 0, nil
	}
	r, err := a.next.Append(ref, ls, st, t, v, h, fh, opts)
	if err == nil && a.mode == captureAll {
		o := opts
		o.Exemplars = nil
		a.recs = append(a.recs, captured{ls: ls, ref: r, opts: o})
	}
	return r, err
}

func (a *captureAppender) Commit() error   { return a.next.Commit() }
func (a *captureAppender) Rollback() error { return a.next.Rollback() }
