package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

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
	// Pointer-free maps and slices (a service is an index into names), so the garbage collector does not
	// scan them: a range holds millions of spans.
	type ref struct {
		trace storage.TraceID
		span  pcommon.SpanID
	}
	type child struct {
		parent  ref
		service int32
		isErr   bool
	}
	var names []string
	index := map[string]int32{}
	owner := map[ref]int32{}
	var children []child
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	truncated, err := q.scanSpans(ctx, storage.SpanQuery{Start: r.Start, End: r.End}, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) {
		svc := serviceOf(res)
		si, ok := index[svc]
		if !ok {
			si = int32(len(names))
			index[svc] = si
			names = append(names, strings.Clone(svc))
		}
		tid := storage.TraceID(sp.TraceID())
		owner[ref{tid, sp.SpanID()}] = si
		if p := sp.ParentSpanID(); !p.IsEmpty() {
			children = append(children, child{ref{tid, p}, si, sp.Status().Code() == ptrace.StatusCodeError})
		}
	})
	if err != nil {
		return Graph{}, fmt.Errorf("dependency graph: %w", err)
	}
	type pair struct{ parent, child int32 }
	edges := map[pair]*Edge{}
	for _, c := range children {
		ps, ok := owner[c.parent]
		if !ok || ps == c.service {
			continue
		}
		e := edges[pair{ps, c.service}]
		if e == nil {
			e = &Edge{Parent: names[ps], Child: names[c.service]}
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
	g.Services = append(g.Services, names...)
	slices.Sort(g.Services)
	return g, nil
}
