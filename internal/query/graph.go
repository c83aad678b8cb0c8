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

// Edge is a service calling another: a span of Child whose parent span belongs to Parent.
type Edge struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount int64  `json:"callCount"`
	// ErrorCount counts the calls whose child span has status error.
	ErrorCount int64 `json:"errorCount"`
}

// Graph is the service dependency graph of a time range.
type Graph struct {
	Edges     []Edge   `json:"edges"`
	Services  []string `json:"services"` // every service seen in the range, with or without edges
	Truncated bool     `json:"truncated,omitempty"`
}

// Dependencies builds the service graph from parent/child spans that started in the range: one call per
// span whose parent span (same trace) is in another service. A parent outside the range, or beyond the scan
// limit, is not seen, so its edge is not counted.
func (q *Querier) Dependencies(ctx context.Context, tr TimeRange) (Graph, error) {
	if err := q.needSpans(); err != nil {
		return Graph{}, err
	}
	r, err := q.bound(tr)
	if err != nil {
		return Graph{}, err
	}
	type ref struct {
		trace storage.TraceID
		span  pcommon.SpanID
	}
	type child struct {
		parent  ref
		service string
		isErr   bool
	}
	owner := map[ref]string{}
	var children []child
	services := map[string]struct{}{}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	truncated, err := q.scanSpans(ctx, storage.SpanQuery{Start: r.Start, End: r.End}, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) {
		svc := serviceOf(res)
		services[svc] = struct{}{}
		tid := storage.TraceID(sp.TraceID())
		owner[ref{tid, sp.SpanID()}] = svc
		if p := sp.ParentSpanID(); !p.IsEmpty() {
			children = append(children, child{ref{tid, p}, svc, sp.Status().Code() == ptrace.StatusCodeError})
		}
	})
	if err != nil {
		return Graph{}, fmt.Errorf("dependency graph: %w", err)
	}
	type pair struct{ parent, child string }
	edges := map[pair]*Edge{}
	for _, c := range children {
		ps, ok := owner[c.parent]
		if !ok || ps == c.service {
			continue
		}
		e := edges[pair{ps, c.service}]
		if e == nil {
			e = &Edge{Parent: ps, Child: c.service}
			edges[pair{ps, c.service}] = e
		}
		e.CallCount++
		if c.isErr {
			e.ErrorCount++
		}
	}
	g := Graph{Truncated: truncated, Edges: []Edge{}, Services: []string{}}
	for _, e := range edges {
		g.Edges = append(g.Edges, *e)
	}
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		if c := cmp.Compare(a.Parent, b.Parent); c != 0 {
			return c
		}
		return cmp.Compare(a.Child, b.Child)
	})
	for s := range services {
		g.Services = append(g.Services, s)
	}
	slices.Sort(g.Services)
	return g, nil
}
