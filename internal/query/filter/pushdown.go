package filter

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// Apply copies into q the conditions of the filter that a backend can use to prune (see the package doc) and
// sets q.Match to the filter. Only conditions joined to the whole filter by 'and' are copied, so each one is
// implied by the filter; fields q already has are kept (they are requirements of their own).
func (f *SpanFilter) Apply(q *storage.SpanQuery) {
	if f == nil || f.p == nil {
		return
	}
	q.Match = f
	for _, n := range flatten(f.expr.Root, And, nil) {
		c, ok := n.(*Cond)
		if !ok {
			continue
		}
		v := c.Value
		switch c.Field.Intrinsic {
		case ServiceName:
			if c.Op == OpEq && q.Service == "" {
				q.Service = v.Str
			}
		case SpanName:
			if c.Op == OpEq && q.SpanName == "" {
				q.SpanName = v.Str
			}
		case Kind:
			if k := ptrace.SpanKind(indexFold(kindNames, v.Str)); c.Op == OpEq && k != 0 && q.Kind == 0 {
				q.Kind = k
			}
		case Status:
			if c.Op == OpEq && !q.StatusSet {
				q.Status, q.StatusSet = ptrace.StatusCode(indexFold(statusNames, v.Str)), true
			}
		case Duration:
			d := time.Duration(v.Int)
			if d <= 0 {
				continue
			}
			if c.Op == OpGt || c.Op == OpGe || c.Op == OpEq {
				q.MinDuration = max(q.MinDuration, d)
			}
			if c.Op == OpLt || c.Op == OpLe || c.Op == OpEq {
				if q.MaxDuration == 0 || d < q.MaxDuration {
					q.MaxDuration = d
				}
			}
		case Attribute:
			q.Attributes = appendAttrPredicates(q.Attributes, c)
		}
	}
}

// Apply is SpanFilter.Apply for log queries.
func (f *LogFilter) Apply(q *storage.LogQuery) {
	if f == nil || f.p == nil {
		return
	}
	q.Match = f
	for _, n := range flatten(f.expr.Root, And, nil) {
		c, ok := n.(*Cond)
		if !ok {
			continue
		}
		v := c.Value
		switch c.Field.Intrinsic {
		case ServiceName:
			if c.Op == OpEq && q.Service == "" {
				q.Service = v.Str
			}
		case Body:
			if (c.Op == OpEq || c.Op == OpContains) && q.BodyContains == "" && v.Str != "" {
				q.BodyContains = v.Str
			}
		case TraceIDField:
			if c.Op == OpEq && q.TraceID.IsEmpty() {
				id, _ := parseHexID(v.Str, 16)
				copy(q.TraceID[:], id)
			}
		case Severity:
			lo, hi := severityBounds(v)
			raiseMin := func(n int) {
				if n > 0 && plog.SeverityNumber(n) > q.MinSeverity {
					q.MinSeverity = plog.SeverityNumber(n)
				}
			}
			lowerMax := func(n int) {
				if n > 0 && (q.MaxSeverity == 0 || plog.SeverityNumber(n) < q.MaxSeverity) {
					q.MaxSeverity = plog.SeverityNumber(n)
				}
			}
			switch c.Op {
			case OpEq:
				raiseMin(lo)
				lowerMax(hi)
			case OpGe:
				raiseMin(lo)
			case OpGt:
				raiseMin(hi + 1)
			case OpLe:
				lowerMax(hi)
			case OpLt:
				lowerMax(lo - 1)
			}
		case Attribute:
			q.Attributes = appendAttrPredicates(q.Attributes, c)
		}
	}
}

// maxExactFloat bounds the numbers pushed down: beyond 2^53 a backend comparing in float64 could round a
// value the filter matches out of the candidates.
const maxExactFloat = 1 << 53

func appendAttrPredicates(dst []storage.AttrPredicate, c *Cond) []storage.AttrPredicate {
	v := c.Value
	p := storage.AttrPredicate{Scope: c.Field.Scope, Key: c.Field.Key}
	switch {
	case c.Op == OpExists:
		p.Op = storage.OpExists
	case c.Op == OpContains:
		p.Op, p.Value = storage.OpContains, v.Str
	case c.Op == OpEq && (v.Kind == String || v.Kind == Bool):
		p.Op, p.Value = storage.OpEqual, v.String()
		if v.Kind == String {
			p.Value = v.Str
		}
	case v.Kind == Number || v.Kind == Size:
		if v.Num > maxExactFloat || v.Num < -maxExactFloat {
			return dst
		}
		p.Number = v.Num
		switch c.Op {
		case OpEq:
			lo, hi := p, p
			lo.Op, hi.Op = storage.OpGreaterEqual, storage.OpLessEqual
			return append(dst, lo, hi)
		case OpLt:
			p.Op = storage.OpLess
		case OpLe:
			p.Op = storage.OpLessEqual
		case OpGt:
			p.Op = storage.OpGreater
		case OpGe:
			p.Op = storage.OpGreaterEqual
		default:
			return dst
		}
	default:
		return dst
	}
	return append(dst, p)
}
