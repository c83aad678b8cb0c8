package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// anode is one span of a trace loaded for analysis. Times are Unix nanoseconds.
type anode struct {
	id, parentID   pcommon.SpanID
	service, name  string
	kind           ptrace.SpanKind
	isErr          bool
	start, end     int64 // as stored (end >= start)
	shift          int64 // clock-skew correction added to start and end
	parent         *anode
	children       []*anode
	async          bool // starts at or after its parent ends, or ends after it
	self, critical int64
}

func (n *anode) s() int64 { return n.start + n.shift }
func (n *anode) e() int64 { return n.end + n.shift }

// loadTrace reads up to MaxTraceSpans spans of a trace and links parents and children.
func (q *Querier) loadTrace(ctx context.Context, id storage.TraceID) (nodes []*anode, roots []*anode, truncated bool, err error) {
	if err := q.needSpans(); err != nil {
		return nil, nil, false, err
	}
	err = q.eachTracePage(ctx, id, DefaultPageSize, func(td ptrace.Traces) bool {
		forEachSpan(td, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) {
			if len(nodes) >= q.opts.MaxTraceSpans {
				truncated = true
				return
			}
			st, en := int64(sp.StartTimestamp()), int64(sp.EndTimestamp())
			nodes = append(nodes, &anode{id: sp.SpanID(), parentID: sp.ParentSpanID(), service: serviceOf(res),
				name: sp.Name(), kind: sp.Kind(), isErr: sp.Status().Code() == ptrace.StatusCodeError,
				start: st, end: max(en, st)})
		})
		return !truncated
	})
	if err != nil {
		return nil, nil, false, err
	}
	// A stable order makes every result reproducible whatever order the backend yields spans in.
	slices.SortFunc(nodes, func(a, b *anode) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return slices.Compare(a.id[:], b.id[:])
	})
	byID := make(map[pcommon.SpanID]*anode, len(nodes))
	for _, n := range nodes {
		if _, dup := byID[n.id]; !dup {
			byID[n.id] = n
		}
	}
	for _, n := range nodes {
		p := byID[n.parentID]
		if n.parentID.IsEmpty() || p == nil || p == n || createsCycle(p, n) {
			roots = append(roots, n)
			continue
		}
		n.parent = p
		p.children = append(p.children, n)
	}
	return nodes, roots, truncated, nil
}

// createsCycle reports whether making p the parent of n would close a loop (n is an ancestor of p).
func createsCycle(p, n *anode) bool {
	for a := p; a != nil; a = a.parent {
		if a == n {
			return true
		}
	}
	return false
}

// adjustSkew shifts, top-down, each server span whose client parent is in another service so that it lies
// within the parent (see docs/analysis.md). The shift applies to the span's whole subtree.
func adjustSkew(roots []*anode) (adjusted int) {
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p := n.parent; p != nil {
			n.shift = p.shift
			if p.kind == ptrace.SpanKindClient && n.kind == ptrace.SpanKindServer && p.service != n.service &&
				n.end-n.start <= p.end-p.start {
				switch {
				case n.s() < p.s():
					n.shift += p.s() - n.s()
					adjusted++
				case n.e() > p.e():
					n.shift -= n.e() - p.e()
					adjusted++
				}
			}
		}
		stack = append(stack, n.children...)
	}
	return adjusted
}

// selfTimes sets each span's self time: its duration minus the part covered by its children (clipped to it).
func selfTimes(nodes []*anode) {
	type iv struct{ s, e int64 }
	var ivs []iv
	for _, n := range nodes {
		ivs = ivs[:0]
		for _, c := range n.children {
			s, e := max(c.s(), n.s()), min(c.e(), n.e())
			if c.s() >= n.e() || c.e() > n.e() {
				c.async = true
			}
			if s < e {
				ivs = append(ivs, iv{s, e})
			}
		}
		slices.SortFunc(ivs, func(a, b iv) int { return cmp.Compare(a.s, b.s) })
		var covered, curS, curE int64
		for i, v := range ivs {
			switch {
			case i == 0:
				curS, curE = v.s, v.e
			case v.s > curE:
				covered += curE - curS
				curS, curE = v.s, v.e
			default:
				curE = max(curE, v.e)
			}
		}
		if len(ivs) > 0 {
			covered += curE - curS
		}
		n.self = n.e() - n.s() - covered
	}
}

// Segment is a stretch of the critical path: the span that was the bottleneck from Start to End.
type Segment struct {
	SpanID     string `json:"spanId"`
	StartNanos int64  `json:"startNanos"`
	EndNanos   int64  `json:"endNanos"`
}

// criticalPath walks the tree of root backwards from its end (docs/analysis.md) and returns the segments in
// time order. Each node's critical time is accumulated.
func criticalPath(root *anode) []Segment {
	var segs []Segment // built backwards
	add := func(n *anode, s, e int64) {
		if s >= e {
			return
		}
		n.critical += e - s
		if l := len(segs) - 1; l >= 0 && segs[l].SpanID == n.id.String() && segs[l].StartNanos == e {
			segs[l].StartNanos = s
			return
		}
		segs = append(segs, Segment{SpanID: n.id.String(), StartNanos: s, EndNanos: e})
	}
	type kid struct {
		n    *anode
		s, e int64 // clipped to the window
	}
	var walk func(n *anode, lo, hi int64)
	walk = func(n *anode, lo, hi int64) {
		floor, ceil := max(n.s(), lo), min(n.e(), hi)
		if floor >= ceil {
			return
		}
		kids := make([]kid, 0, len(n.children))
		for _, c := range n.children {
			s, e := max(c.s(), floor), min(c.e(), ceil)
			if c.s() < ceil && s < e {
				kids = append(kids, kid{c, s, e})
			}
		}
		// Latest end first; among equal ends the earlier start (the longer child) first.
		slices.SortStableFunc(kids, func(a, b kid) int {
			if c := cmp.Compare(b.e, a.e); c != 0 {
				return c
			}
			return cmp.Compare(a.s, b.s)
		})
		cursor := ceil
		for _, k := range kids {
			if k.e > cursor {
				continue // overlaps a child already on the path: it was not what the span waited for
			}
			if k.e <= floor || cursor <= floor {
				break
			}
			add(n, k.e, cursor)
			walk(k.n, k.s, k.e)
			cursor = k.s
		}
		add(n, floor, cursor)
	}
	walk(root, root.s(), root.e())
	slices.Reverse(segs)
	return segs
}

// SpanTiming is the analysis of one span.
type SpanTiming struct {
	SpanID       string `json:"spanId"`
	ParentSpanID string `json:"parentSpanId,omitempty"`
	Service      string `json:"service"`
	Name         string `json:"name"`
	StartNanos   int64  `json:"startNanos"` // after clock-skew correction
	EndNanos     int64  `json:"endNanos"`
	// SkewNanos is the correction added to the stored start and end times (0 when none was needed).
	SkewNanos     int64 `json:"skewNanos,omitempty"`
	SelfNanos     int64 `json:"selfNanos"`
	CriticalNanos int64 `json:"criticalNanos"`
	Async         bool  `json:"async,omitempty"` // not awaited by its parent: starts after, or ends after, the parent ends
}

// TraceAnalysis is the critical path and the per-span timing of a trace.
type TraceAnalysis struct {
	TraceID      string       `json:"traceId"`
	RootSpanID   string       `json:"rootSpanId"`
	CriticalPath []Segment    `json:"criticalPath"`
	Spans        []SpanTiming `json:"spans"`        // in (start, span ID) order
	SkewAdjusted int          `json:"skewAdjusted"` // spans shifted for clock skew
	Truncated    bool         `json:"truncated,omitempty"`
}

// Analyze computes the critical path of a trace and the self time of every span (docs/analysis.md). The
// critical path starts at the main root: the earliest span without a parent in the trace (ties: the longest).
func (q *Querier) Analyze(ctx context.Context, id storage.TraceID) (TraceAnalysis, error) {
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	nodes, roots, truncated, err := q.loadTrace(ctx, id)
	if err != nil {
		return TraceAnalysis{}, err
	}
	a := TraceAnalysis{TraceID: traceIDString(id), Truncated: truncated, CriticalPath: []Segment{}}
	if len(nodes) == 0 {
		return a, fmt.Errorf("trace %s: %w", a.TraceID, storage.ErrNotFound)
	}
	a.SkewAdjusted = adjustSkew(roots)
	selfTimes(nodes)
	main := roots[0]
	for _, r := range roots[1:] {
		if r.start < main.start || (r.start == main.start && r.end-r.start > main.end-main.start) {
			main = r
		}
	}
	a.RootSpanID = main.id.String()
	a.CriticalPath = criticalPath(main)
	a.Spans = make([]SpanTiming, len(nodes))
	for i, n := range nodes {
		t := SpanTiming{SpanID: n.id.String(), Service: n.service, Name: n.name, StartNanos: n.s(), EndNanos: n.e(),
			SkewNanos: n.shift, SelfNanos: n.self, CriticalNanos: n.critical, Async: n.async}
		if n.parent != nil {
			t.ParentSpanID = n.parentID.String()
		}
		a.Spans[i] = t
	}
	return a, nil
}
