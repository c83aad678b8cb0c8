package memory

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
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
				n := pointCount(m)
				if n == 0 {
					continue
				}
				g := &metricGroup{scope: scope, m: m}
				for p := range n {
					s.seq++
					s.points.push(&pointEntry{metric: g, idx: p, seq: s.seq, t: pointTime(m, p)})
				}
				s.metrics[m.Name()] += n
			}
		}
	}
	for s.points.len() > s.opts.MaxPoints {
		s.noteEviction(sigPoints, s.opts.MaxPoints)
		e := s.points.pop()
		name := e.metric.m.Name()
		if s.metrics[name]--; s.metrics[name] <= 0 {
			delete(s.metrics, name)
		}
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
		matches, err := s.matchPoints(ctx, &q)
		if err != nil {
			yield(pmetric.NewMetrics(), fmt.Errorf("find metrics: %w", err))
			return
		}
		slices.SortFunc(matches, func(a, b *pointEntry) int {
			if c := cmp.Compare(a.t, b.t); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
		if limit := orDefault(q.Limit, DefaultPointLimit); len(matches) > limit {
			matches = matches[:limit]
		}
		for len(matches) > 0 {
			if err := ctxErr(ctx); err != nil {
				yield(pmetric.NewMetrics(), err)
				return
			}
			n := min(DefaultPageSize, len(matches))
			if !yield(buildMetrics(matches[:n]), nil) {
				return
			}
			matches = matches[n:]
		}
	}
}

func (s *Store) matchPoints(ctx context.Context, q *storage.MetricQuery) ([]*pointEntry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	start, end := unixNano(q.Start), unixNano(q.End)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	if q.Name != "" && s.metrics[q.Name] == 0 {
		return nil, nil
	}
	var out []*pointEntry
	for i := range s.points.len() {
		if i%4096 == 4095 {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
		}
		e := s.points.at(i)
		if (q.Name == "" || e.metric.m.Name() == q.Name) && inRange(e.t, start, end) {
			out = append(out, e)
		}
	}
	return out, nil
}

func pointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
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
