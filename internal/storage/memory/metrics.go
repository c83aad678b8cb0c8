package memory

import (
	"context"
	"fmt"
	"iter"
	"sort"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/storage"
)

type metricResource struct {
	rm pmetric.ResourceMetrics
}

type metricScope struct {
	res *metricResource
	sm  pmetric.ScopeMetrics
}

// metricGroup is one written Metric; its points are stored as separate entries.
type metricGroup struct {
	scope *metricScope
	m     pmetric.Metric
}

type pointEntry struct {
	metric *metricGroup
	idx    int // index of the point in the metric's data points
	seq    uint64
	t      int64 // point time (unix ns)
}

// WriteMetrics stores every data point of md, keeping references to it. It rejects nothing; metrics without
// data points store nothing and are not listed by MetricNames.
func (s *Store) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	if err := ctxErr(ctx); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	// Index the batch before taking the lock: one allocation, and readers wait only for the insertion.
	entries := make([]pointEntry, md.DataPointCount())
	next := 0
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		res := &metricResource{rm: rm}
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			sm := sms.At(j)
			scope := &metricScope{res: res, sm: sm}
			ms := sm.Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				n := storage.PointCount(m)
				if n == 0 {
					continue
				}
				g := &metricGroup{scope: scope, m: m}
				for p := range n {
					entries[next] = pointEntry{metric: g, idx: p, t: pointTime(m, p)}
					next++
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	for i := range entries[:next] {
		e := &entries[i]
		s.seq++
		e.seq = s.seq
		s.points.push(e)
		s.metrics.add(e.metric.m.Name(), e)
	}
	for s.points.len() > s.opts.MaxPoints {
		s.noteEviction(sigPoints, s.opts.MaxPoints)
		e := s.points.pop()
		s.metrics.evict(e.metric.m.Name(), e)
	}
	return nil
}

// MetricNames returns the sorted names of the metrics with stored points.
func (s *Store) MetricNames(ctx context.Context) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, fmt.Errorf("metric names: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	out := make([]string, 0, len(s.metrics))
	for name := range s.metrics {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// FindMetrics yields the points matching q, oldest first by point time (ties: by arrival).
func (s *Store) FindMetrics(ctx context.Context, q storage.MetricQuery) iter.Seq2[pmetric.Metrics, error] {
	return func(yield func(pmetric.Metrics, error) bool) {
		top := newTopK(orDefault(q.Limit, DefaultPointLimit), func(a, b *pointEntry) bool { // oldest first
			return a.t < b.t || (a.t == b.t && a.seq < b.seq)
		})
		if err := s.matchPoints(ctx, &q, top.offer); err != nil {
			yield(pmetric.NewMetrics(), fmt.Errorf("find metrics: %w", err))
			return
		}
		yieldPages(ctx, top.sorted(), DefaultPageSize, buildMetrics, pmetric.NewMetrics, yield)
	}
}

// matchPoints calls match with each stored point matching q, in arrival order, under the read lock.
func (s *Store) matchPoints(ctx context.Context, q *storage.MetricQuery, match func(*pointEntry)) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	start, end := unixNano(q.Start), unixNano(q.End)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	from := &s.points
	if q.Name != "" {
		// Only the points of the metric.
		if from = s.metrics[q.Name]; from == nil {
			return nil
		}
	}
	return from.scan(ctx, func(e *pointEntry) bool { return inRange(e.t, start, end) }, match)
}

func pointTime(m pmetric.Metric, i int) int64 {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return int64(m.Gauge().DataPoints().At(i).Timestamp())
	case pmetric.MetricTypeSum:
		return int64(m.Sum().DataPoints().At(i).Timestamp())
	case pmetric.MetricTypeHistogram:
		return int64(m.Histogram().DataPoints().At(i).Timestamp())
	case pmetric.MetricTypeExponentialHistogram:
		return int64(m.ExponentialHistogram().DataPoints().At(i).Timestamp())
	case pmetric.MetricTypeSummary:
		return int64(m.Summary().DataPoints().At(i).Timestamp())
	}
	return 0
}

// copyMetricHeader copies everything of src but its data points into dst.
func copyMetricHeader(src, dst pmetric.Metric) {
	dst.SetName(src.Name())
	dst.SetDescription(src.Description())
	dst.SetUnit(src.Unit())
	src.Metadata().CopyTo(dst.Metadata())
	switch src.Type() {
	case pmetric.MetricTypeGauge:
		dst.SetEmptyGauge()
	case pmetric.MetricTypeSum:
		d := dst.SetEmptySum()
		d.SetAggregationTemporality(src.Sum().AggregationTemporality())
		d.SetIsMonotonic(src.Sum().IsMonotonic())
	case pmetric.MetricTypeHistogram:
		dst.SetEmptyHistogram().SetAggregationTemporality(src.Histogram().AggregationTemporality())
	case pmetric.MetricTypeExponentialHistogram:
		dst.SetEmptyExponentialHistogram().SetAggregationTemporality(src.ExponentialHistogram().AggregationTemporality())
	case pmetric.MetricTypeSummary:
		dst.SetEmptySummary()
	}
}

func copyPoint(src pmetric.Metric, i int, dst pmetric.Metric) {
	switch src.Type() {
	case pmetric.MetricTypeGauge:
		src.Gauge().DataPoints().At(i).CopyTo(dst.Gauge().DataPoints().AppendEmpty())
	case pmetric.MetricTypeSum:
		src.Sum().DataPoints().At(i).CopyTo(dst.Sum().DataPoints().AppendEmpty())
	case pmetric.MetricTypeHistogram:
		src.Histogram().DataPoints().At(i).CopyTo(dst.Histogram().DataPoints().AppendEmpty())
	case pmetric.MetricTypeExponentialHistogram:
		src.ExponentialHistogram().DataPoints().At(i).CopyTo(dst.ExponentialHistogram().DataPoints().AppendEmpty())
	case pmetric.MetricTypeSummary:
		src.Summary().DataPoints().At(i).CopyTo(dst.Summary().DataPoints().AppendEmpty())
	}
}

// buildMetrics deep-copies entries into a new pmetric.Metrics, grouping the points of one written metric.
func buildMetrics(entries []*pointEntry) pmetric.Metrics {
	md := pmetric.NewMetrics()
	resources := make(map[*metricResource]pmetric.ResourceMetrics)
	scopes := make(map[*metricScope]pmetric.MetricSlice)
	metrics := make(map[*metricGroup]pmetric.Metric)
	for _, e := range entries {
		g := e.metric
		m, ok := metrics[g]
		if !ok {
			ms, ok := scopes[g.scope]
			if !ok {
				rm, ok := resources[g.scope.res]
				if !ok {
					rm = md.ResourceMetrics().AppendEmpty()
					g.scope.res.rm.Resource().CopyTo(rm.Resource())
					rm.SetSchemaUrl(g.scope.res.rm.SchemaUrl())
					resources[g.scope.res] = rm
				}
				sm := rm.ScopeMetrics().AppendEmpty()
				g.scope.sm.Scope().CopyTo(sm.Scope())
				sm.SetSchemaUrl(g.scope.sm.SchemaUrl())
				ms = sm.Metrics()
				scopes[g.scope] = ms
			}
			m = ms.AppendEmpty()
			copyMetricHeader(g.m, m)
			metrics[g] = m
		}
		copyPoint(g.m, e.idx, m)
	}
	return md
}
