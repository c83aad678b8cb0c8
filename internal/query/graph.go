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

// Edge is a service calling another: a span of Child whose parent span belongs to Parent, or a client span
// of Parent calling a peer that sends no telemetry (Child is then the peer's name, see PeerAttributes).
type Edge struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount int64  `json:"callCount"`
	// ErrorCount counts the calls whose child span (for a peer: the client span) has status error.
	ErrorCount int64 `json:"errorCount"`
	// Peer is true when Child is not a service seen in the range but a peer named by a client span.
	Peer bool `json:"peer,omitempty"`
}

// Graph is the service dependency graph of a time range.
type Graph struct {
	Edges     []Edge   `json:"edges"`
	Services  []string `json:"services"` // every service seen in the range, with or without edges
	Peers     []string `json:"peers"`    // uninstrumented peers named by client spans (not in Services)
	Truncated bool     `json:"truncated,omitempty"`
}

// PeerAttributes name the peer of a client span, first present wins: the logical service name the caller
// gave it, the host it called, the database system.
var PeerAttributes = []string{"peer.service", "server.address", "db.system.name"}

// Dependencies builds the service graph from parent/child spans that started in the range: one call per
// span whose parent span (same trace) is in another service. A parent outside the range, or beyond the scan
// limit, is not seen, so its edge is not counted. Uninstrumented peers are left out (see
// DependenciesWithPeers).
func (q *Querier) Dependencies(ctx context.Context, tr TimeRange) (Graph, error) {
	return q.dependencies(ctx, tr, false)
}

// DependenciesWithPeers is Dependencies with the uninstrumented peers: a client span naming a peer
// (PeerAttributes) that has no child in another service is one call to that peer, to the service of that
// name when one was seen, else to a peer node (Edge.Peer, listed in Graph.Peers).
func (q *Querier) DependenciesWithPeers(ctx context.Context, tr TimeRange) (Graph, error) {
	return q.dependencies(ctx, tr, true)
}

func (q *Querier) dependencies(ctx context.Context, tr TimeRange, withPeers bool) (Graph, error) {
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
	type peerCall struct {
		span    ref
		service int32
		peer    int32 // index into names
		isErr   bool
	}
	var peerCalls []peerCall
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	intern := func(name string) int32 {
		i, ok := index[name]
		if !ok {
			i = int32(len(names))
			index[name] = i
			names = append(names, strings.Clone(name))
		}
		return i
	}
	isService := map[int32]bool{}
	var opts storage.SummaryOptions
	if withPeers {
		opts.PeerKeys = PeerAttributes
	}
	truncated, err := q.scanSummaries(ctx, storage.SpanQuery{Start: r.Start, End: r.End}, opts, func(s *storage.SpanSummary) {
		si := intern(s.Service)
		isService[si] = true
		self := ref{s.TraceID, s.SpanID}
		owner[self] = si
		isErr := s.StatusCode == ptrace.StatusCodeError
		if !s.ParentSpanID.IsEmpty() {
			children = append(children, child{ref{s.TraceID, s.ParentSpanID}, si, isErr})
		}
		if withPeers && s.Peer != "" {
			peerCalls = append(peerCalls, peerCall{self, si, intern(s.Peer), isErr})
		}
	})
	if err != nil {
		return Graph{}, fmt.Errorf("dependency graph: %w", err)
	}
	type pair struct{ parent, child int32 }
	edges := map[pair]*Edge{}
	call := func(parent, child int32, isErr bool) {
		e := edges[pair{parent, child}]
		if e == nil {
			e = &Edge{Parent: names[parent], Child: names[child], Peer: !isService[child]}
			edges[pair{parent, child}] = e
		}
		e.CallCount++
		if isErr {
			e.ErrorCount++
		}
	}
	// A span with a child in another service is marked in owner (answered), so that its peer call, if any,
	// is not counted again.
	const answered = int32(1) << 30
	for _, c := range children {
		ps, ok := owner[c.parent]
		if !ok || ps&^answered == c.service {
			continue
		}
		if ps&answered == 0 && len(peerCalls) > 0 {
			owner[c.parent] = ps | answered
		}
		call(ps&^answered, c.service, c.isErr)
	}
	peers := map[int32]bool{}
	for _, pc := range peerCalls {
		if owner[pc.span]&answered != 0 || pc.peer == pc.service {
			continue
		}
		call(pc.service, pc.peer, pc.isErr)
		if !isService[pc.peer] {
			peers[pc.peer] = true
		}
	}
	g := Graph{Truncated: truncated, Edges: []Edge{}, Services: []string{}, Peers: []string{}}
	for _, e := range edges {
		g.Edges = append(g.Edges, *e)
	}
	for p := range peers {
		g.Peers = append(g.Peers, names[p])
	}
	slices.Sort(g.Peers)
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		if c := cmp.Compare(a.Parent, b.Parent); c != 0 {
			return c
		}
		return cmp.Compare(a.Child, b.Child)
	})
	for i, name := range names {
		if isService[int32(i)] {
			g.Services = append(g.Services, name)
		}
	}
	slices.Sort(g.Services)
	return g, nil
}
