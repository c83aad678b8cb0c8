package engine

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// Metric points are kept in their written batches: in the head, then in metric parts of one row per batch
// (the batch as OTLP protobuf). FindMetrics decodes the batches whose time range overlaps the query.

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

func pointTS(m pmetric.Metric, i int) int64 {
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

// forEachPoint calls fn for every data point of md.
func forEachPoint(md pmetric.Metrics, fn func(m pmetric.Metric, i int, ts int64)) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				for p := range pointCount(m) {
					fn(m, p, pointTS(m, p))
				}
			}
		}
	}
}

type pointRef struct {
	rm      pmetric.ResourceMetrics
	sm      pmetric.ScopeMetrics
	m       pmetric.Metric
	idx     int
	ts      int64
	k1, k2  uint64
	batchID int
}

// FindMetrics yields the points of the metrics matching q, oldest first (ties: by arrival), in pages.
func (e *Engine) FindMetrics(ctx context.Context, q storage.MetricQuery) iter.Seq2[pmetric.Metrics, error] {
	return func(yield func(pmetric.Metrics, error) bool) {
		s, err := e.snapshot()
		if err != nil {
			yield(pmetric.NewMetrics(), err)
			return
		}
		defer s.release()
		tr := queryRange(q.Start, q.End)
		var pts []pointRef
		batch := 0
		collect := func(md pmetric.Metrics, k1 uint64) {
			batch++
			k2 := uint64(0)
			rms := md.ResourceMetrics()
			for i := range rms.Len() {
				sms := rms.At(i).ScopeMetrics()
				for j := range sms.Len() {
					ms := sms.At(j).Metrics()
					for k := range ms.Len() {
						m := ms.At(k)
						if q.Name != "" && m.Name() != q.Name {
							continue
						}
						for p := range pointCount(m) {
							k2++
							if ts := pointTS(m, p); tr.has(ts) {
								pts = append(pts, pointRef{rm: rms.At(i), sm: sms.At(j), m: m, idx: p, ts: ts, k1: k1, k2: k2, batchID: batch})
							}
						}
					}
				}
			}
		}
		for _, p := range s.parts {
			if p.meta.Kind != part.KindMetrics || !tr.overlaps(p.meta.MinTS, p.meta.MaxTS) {
				continue
			}
			if q.Name != "" && !slices.Contains(p.meta.Names, q.Name) {
				continue
			}
			for bi := range p.meta.Blocks {
				b, err := p.r.ReadBlock(bi, 1<<part.ColTS|1<<part.ColAux|1<<part.ColBody)
				if err != nil {
					yield(pmetric.NewMetrics(), fmt.Errorf("find metrics: part %s: %w", p.path, err))
					return
				}
				for i := range b.N {
					if !tr.overlaps(b.TS[i], b.TS[i]+b.Aux[i]) {
						continue
					}
					md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(b.Body[i])
					if err != nil {
						yield(pmetric.NewMetrics(), fmt.Errorf("find metrics: %w", corrupt(p, "block %d row %d: %v", bi, i, err)))
						return
					}
					collect(md, p.meta.ID<<20|uint64(bi)<<12|uint64(i))
				}
			}
		}
		for hi, h := range s.heads {
			_, _, ms := h.snapshot()
			for _, b := range ms {
				if tr.overlaps(b.minTS, b.maxTS) {
					collect(b.md, s.classes[hi]<<62|b.arrival)
				}
			}
		}
		slices.SortStableFunc(pts, func(a, b pointRef) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.k1, b.k1), cmp.Compare(a.k2, b.k2))
		})
		if limit := orDefault(q.Limit, DefaultPointLimit); len(pts) > limit {
			pts = pts[:limit]
		}
		for len(pts) > 0 {
			if err := ctx.Err(); err != nil {
				yield(pmetric.NewMetrics(), err)
				return
			}
			n := min(DefaultPageSize, len(pts))
			if !yield(buildMetrics(pts[:n]), nil) {
				return
			}
			pts = pts[n:]
		}
	}
}

// buildMetrics copies points into a new pmetric.Metrics, grouping consecutive points of one metric.
func buildMetrics(pts []pointRef) pmetric.Metrics {
	md := pmetric.NewMetrics()
	var cur pmetric.Metric
	lastBatch, lastM := -1, pmetric.Metric{}
	for _, p := range pts {
		if p.batchID != lastBatch || p.m != lastM {
			rm := md.ResourceMetrics().AppendEmpty()
			p.rm.Resource().CopyTo(rm.Resource())
			rm.SetSchemaUrl(p.rm.SchemaUrl())
			sm := rm.ScopeMetrics().AppendEmpty()
			p.sm.Scope().CopyTo(sm.Scope())
			sm.SetSchemaUrl(p.sm.SchemaUrl())
			cur = sm.Metrics().AppendEmpty()
			copyMetricShell(p.m, cur)
			lastBatch, lastM = p.batchID, p.m
		}
		copyPoint(p.m, p.idx, cur)
	}
	return md
}

func copyMetricShell(src, dst pmetric.Metric) {
	dst.SetName(src.Name())
	dst.SetDescription(src.Description())
	dst.SetUnit(src.Unit())
	src.Metadata().CopyTo(dst.Metadata())
	switch src.Type() {
	case pmetric.MetricTypeGauge:
		dst.SetEmptyGauge()
	case pmetric.MetricTypeSum:
		s := dst.SetEmptySum()
		s.SetAggregationTemporality(src.Sum().AggregationTemporality())
		s.SetIsMonotonic(src.Sum().IsMonotonic())
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
