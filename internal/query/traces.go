package query

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query/filter"
	"github.com/otlpd/otlpd/internal/storage"
)

// TraceSearch selects traces: those with at least one span satisfying every set field.
type TraceSearch struct {
	TimeRange
	Filter      string // the filter language (docs/filter.md)
	Service     string
	Operation   string // span name
	Kind        ptrace.SpanKind
	MinDuration time.Duration
	MaxDuration time.Duration // 0: none
	Attributes  []storage.AttrPredicate
	// Match is an optional condition on each span, ANDed with Filter (for conditions the filter language does
	// not express, such as Jaeger's tags that may also match event attributes).
	Match  storage.SpanMatcher
	Limit  int // traces per page; 0: DefaultTraceLimit; at most MaxTraceLimit
	Offset int // traces to skip (paging); at most MaxOffset
}

// TraceSummary describes one trace found by a search.
type TraceSummary struct {
	TraceID       string         `json:"traceId"`
	RootService   string         `json:"rootService"`
	RootName      string         `json:"rootName"`
	Start         time.Time      `json:"start"`
	DurationNanos int64          `json:"durationNanos"`
	SpanCount     int            `json:"spanCount"`
	ErrorCount    int            `json:"errorCount"`
	Services      []ServiceSpans `json:"services"`
	// RootMissing is true when no span of the trace lacks a parent (the root has not arrived, or was lost);
	// RootService and RootName then describe the earliest span whose parent is not in the trace.
	RootMissing bool `json:"rootMissing,omitempty"`
	// Truncated is true when the trace has more spans than the analysis limit; counts cover the first ones.
	Truncated bool `json:"truncated,omitempty"`
}

// ServiceSpans counts the spans and errors of one service in a trace.
type ServiceSpans struct {
	Service    string `json:"service"`
	SpanCount  int    `json:"spanCount"`
	ErrorCount int    `json:"errorCount"`
}

// TraceSearchResult is one page of a trace search, newest trace first.
type TraceSearchResult struct {
	Traces []TraceSummary `json:"traces"`
	// NextOffset is the Offset of the next page, or 0 when this is the last page.
	NextOffset int       `json:"nextOffset,omitempty"`
	Range      TimeRange `json:"-"`
}

// SpanQuery turns a trace search into the storage query that finds its traces. It validates the filter.
func (q *Querier) SpanQuery(s TraceSearch) (storage.SpanQuery, error) {
	r, err := q.bound(s.TimeRange)
	if err != nil {
		return storage.SpanQuery{}, err
	}
	if s.MaxDuration > 0 && s.MaxDuration < s.MinDuration {
		return storage.SpanQuery{}, fmt.Errorf("%w: maximum duration %s is less than minimum duration %s", ErrInvalid, s.MaxDuration, s.MinDuration)
	}
	sq := storage.SpanQuery{
		Start: r.Start, End: r.End, Service: s.Service, SpanName: s.Operation, Kind: s.Kind,
		MinDuration: s.MinDuration, MaxDuration: s.MaxDuration, Attributes: slices.Clone(s.Attributes),
	}
	f, err := filter.ParseSpans(s.Filter)
	if err != nil {
		return sq, fmt.Errorf("%w: filter %w", ErrInvalid, err)
	}
	f.Apply(&sq)
	switch {
	case s.Match != nil && sq.Match != nil:
		sq.Match = bothMatch{sq.Match, s.Match}
	case s.Match != nil:
		sq.Match = s.Match
	}
	return sq, nil
}

// bothMatch holds when both matchers hold.
type bothMatch [2]storage.SpanMatcher

func (m bothMatch) MatchSpan(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool {
	return m[0].MatchSpan(res, scope, span) && m[1].MatchSpan(res, scope, span)
}

// FindTraces returns the IDs of the traces a search selects, newest first, after s.Offset, at most s.Limit.
// more reports whether another page follows.
func (q *Querier) FindTraces(ctx context.Context, s TraceSearch) (refs []storage.TraceRef, more bool, err error) {
	if err := q.needSpans(); err != nil {
		return nil, false, err
	}
	if s.Offset < 0 || s.Offset > MaxOffset {
		return nil, false, fmt.Errorf("%w: offset %d is outside 0..%d", ErrInvalid, s.Offset, MaxOffset)
	}
	sq, err := q.SpanQuery(s)
	if err != nil {
		return nil, false, err
	}
	limit := clampLimit(s.Limit, DefaultTraceLimit, MaxTraceLimit)
	sq.Limit = s.Offset + limit + 1
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	refs, err = q.spans.FindTraceIDs(ctx, sq)
	if err != nil {
		return nil, false, fmt.Errorf("search traces: %w", err)
	}
	if len(refs) <= s.Offset {
		return nil, false, nil
	}
	refs = refs[s.Offset:]
	if len(refs) > limit {
		return refs[:limit], true, nil
	}
	return refs, false, nil
}

// SearchTraces finds traces and summarizes each one.
func (q *Querier) SearchTraces(ctx context.Context, s TraceSearch) (TraceSearchResult, error) {
	refs, more, err := q.FindTraces(ctx, s)
	if err != nil {
		return TraceSearchResult{}, err
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	res := TraceSearchResult{Traces: make([]TraceSummary, 0, len(refs))}
	// The traces are summarized on every core; each lookup reads blocks of its own.
	sums := make([]TraceSummary, len(refs))
	errs := make([]error, len(refs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(refs), runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(refs); i = int(next.Add(1) - 1) {
				sums[i], errs[i] = q.summarize(ctx, refs[i].TraceID)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, storage.ErrNotFound) {
			continue // evicted between the search and now
		}
		if err != nil {
			return TraceSearchResult{}, err
		}
		res.Traces = append(res.Traces, sums[i])
	}
	if more {
		res.NextOffset = s.Offset + clampLimit(s.Limit, DefaultTraceLimit, MaxTraceLimit)
	}
	return res, nil
}

// TraceSummary summarizes one trace by ID.
func (q *Querier) TraceSummary(ctx context.Context, id storage.TraceID) (TraceSummary, error) {
	if err := q.needSpans(); err != nil {
		return TraceSummary{}, err
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	return q.summarize(ctx, id)
}

// summarize streams the pages of a trace, keeping per span only what finding the root needs.
func (q *Querier) summarize(ctx context.Context, id storage.TraceID) (TraceSummary, error) {
	type node struct {
		id, parent    pcommon.SpanID
		start         int64
		service, name string
	}
	sum := TraceSummary{TraceID: traceIDString(id)}
	var nodes []node
	var minStart, maxEnd int64
	perService := map[string]*ServiceSpans{}
	var root *node
	err := q.eachTracePage(ctx, id, DefaultPageSize, func(td ptrace.Traces) bool {
		forEachSpan(td, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) {
			if sum.SpanCount >= q.opts.MaxTraceSpans {
				sum.Truncated = true
				return
			}
			svc := serviceOf(res)
			st, en := int64(sp.StartTimestamp()), int64(sp.EndTimestamp())
			if sum.SpanCount == 0 || st < minStart {
				minStart = st
			}
			maxEnd = max(maxEnd, en, st)
			sum.SpanCount++
			ps := perService[svc]
			if ps == nil {
				ps = &ServiceSpans{Service: svc}
				perService[svc] = ps
			}
			ps.SpanCount++
			if sp.Status().Code() == ptrace.StatusCodeError {
				sum.ErrorCount++
				ps.ErrorCount++
			}
			n := node{id: sp.SpanID(), parent: sp.ParentSpanID(), start: st, service: svc, name: sp.Name()}
			if n.parent.IsEmpty() && (root == nil || n.start < root.start) {
				r := n
				root = &r
			}
			if root == nil {
				nodes = append(nodes, n)
			}
		})
		return true
	})
	if err != nil {
		return sum, err
	}
	if root == nil { // no span without a parent: take the earliest span whose parent is absent
		sum.RootMissing = true
		ids := make(map[pcommon.SpanID]struct{}, len(nodes))
		for _, n := range nodes {
			ids[n.id] = struct{}{}
		}
		for i := range nodes {
			if _, ok := ids[nodes[i].parent]; !ok && (root == nil || nodes[i].start < root.start) {
				root = &nodes[i]
			}
		}
		if root == nil && len(nodes) > 0 { // a cycle of parents: take the earliest span
			root = &nodes[0]
			for i := range nodes {
				if nodes[i].start < root.start {
					root = &nodes[i]
				}
			}
		}
	}
	if root != nil {
		sum.RootService, sum.RootName = root.service, root.name
	}
	sum.Start = time.Unix(0, minStart).UTC()
	sum.DurationNanos = maxEnd - minStart
	for _, ps := range perService {
		sum.Services = append(sum.Services, *ps)
	}
	slices.SortFunc(sum.Services, func(a, b ServiceSpans) int { return cmp.Compare(a.Service, b.Service) })
	return sum, nil
}

// eachTracePage calls fn with each page the backend yields for a trace, until fn returns false.
func (q *Querier) eachTracePage(ctx context.Context, id storage.TraceID, pageSize int, fn func(ptrace.Traces) bool) error {
	for td, err := range q.spans.GetTrace(ctx, storage.TraceQuery{TraceID: id, PageSize: pageSize}) {
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("trace %s: %w", traceIDString(id), storage.ErrNotFound)
			}
			return fmt.Errorf("read trace %s: %w", traceIDString(id), err)
		}
		if !fn(td) {
			return nil
		}
	}
	return nil
}

// SpanKey orders the spans of a trace for paging: by start time, then span ID.
type SpanKey struct {
	Start  int64
	SpanID pcommon.SpanID
}

func (k SpanKey) compare(o SpanKey) int {
	if c := cmp.Compare(k.Start, o.Start); c != 0 {
		return c
	}
	return bytes.Compare(k.SpanID[:], o.SpanID[:])
}

// String encodes the key as a page cursor.
func (k SpanKey) String() string { return fmt.Sprintf("%d-%x", k.Start, k.SpanID[:]) }

// ParseSpanKey decodes a page cursor made by SpanKey.String.
func ParseSpanKey(s string) (SpanKey, error) {
	var k SpanKey
	var id []byte
	if n, err := fmt.Sscanf(s, "%d-%x", &k.Start, &id); n != 2 || err != nil || len(id) != 8 {
		return k, fmt.Errorf("%w: page cursor %q is malformed", ErrInvalid, truncate(s, 60))
	}
	copy(k.SpanID[:], id)
	return k, nil
}

// TracePage is one page of the spans of a trace, in (start time, span ID) order.
type TracePage struct {
	Spans ptrace.Traces
	Count int // spans in this page
	Total int // spans in the trace
	// Next is the cursor of the next page (pass it as After), or nil after the last page.
	Next *SpanKey
}

// pageEntry is a span kept for a page: a copy, with the index of its (copied) resource and scope.
type pageEntry struct {
	key   SpanKey
	span  ptrace.Span
	group int
}

// pageHeap is a max-heap of the smallest spans seen.
type pageHeap []pageEntry

func (h pageHeap) Len() int           { return len(h) }
func (h pageHeap) Less(i, j int) bool { return h[i].key.compare(h[j].key) > 0 }
func (h pageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pageHeap) Push(x any)        { *h = append(*h, x.(pageEntry)) }
func (h *pageHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// group is a copied resource and scope that page entries belong to.
type group struct {
	res       pcommon.Resource
	resSchema string
	scope     pcommon.InstrumentationScope
	scSchema  string
}

// TracePage returns the pageSize spans of a trace that come after the cursor after (nil: from the first) in
// (start time, span ID) order. It reads the trace once, keeping the pageSize smallest spans seen in a heap
// (a span is copied only when it enters the heap), so a trace of any size is served in memory bounded by one
// backend page plus the page being built.
func (q *Querier) TracePage(ctx context.Context, id storage.TraceID, after *SpanKey, pageSize int) (TracePage, error) {
	if err := q.needSpans(); err != nil {
		return TracePage{}, err
	}
	pageSize = clampLimit(pageSize, DefaultPageSize, MaxPageSize)
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()

	h := make(pageHeap, 0, pageSize)
	var groups []group
	total, remaining := 0, 0
	err := q.eachTracePage(ctx, id, DefaultPageSize, func(td ptrace.Traces) bool {
		rss := td.ResourceSpans()
		for i := range rss.Len() {
			rs := rss.At(i)
			sss := rs.ScopeSpans()
			for j := range sss.Len() {
				ss := sss.At(j)
				g := -1 // the group of this scope, copied when its first span enters the heap
				spans := ss.Spans()
				for k := range spans.Len() {
					sp := spans.At(k)
					total++
					key := SpanKey{Start: int64(sp.StartTimestamp()), SpanID: sp.SpanID()}
					if after != nil && key.compare(*after) <= 0 {
						continue
					}
					remaining++
					full := len(h) == pageSize
					if full && key.compare(h[0].key) >= 0 {
						continue
					}
					if g < 0 {
						gr := group{res: pcommon.NewResource(), resSchema: rs.SchemaUrl(), scope: pcommon.NewInstrumentationScope(), scSchema: ss.SchemaUrl()}
						rs.Resource().CopyTo(gr.res)
						ss.Scope().CopyTo(gr.scope)
						groups = append(groups, gr)
						g = len(groups) - 1
					}
					e := pageEntry{key: key, span: ptrace.NewSpan(), group: g}
					sp.CopyTo(e.span)
					if full {
						h[0] = e
						heap.Fix(&h, 0)
					} else {
						heap.Push(&h, e)
					}
				}
			}
		}
		return true
	})
	if err != nil {
		return TracePage{}, err
	}
	page := TracePage{Spans: ptrace.NewTraces(), Total: total, Count: len(h)}
	if len(h) == 0 {
		return page, nil
	}
	slices.SortFunc(h, func(a, b pageEntry) int { return a.key.compare(b.key) })
	// Group the page's spans by resource and scope, in order of their first span.
	out := make(map[int]ptrace.SpanSlice)
	for _, e := range h {
		dst, ok := out[e.group]
		if !ok {
			gr := groups[e.group]
			rs := page.Spans.ResourceSpans().AppendEmpty()
			gr.res.MoveTo(rs.Resource())
			rs.SetSchemaUrl(gr.resSchema)
			ss := rs.ScopeSpans().AppendEmpty()
			gr.scope.MoveTo(ss.Scope())
			ss.SetSchemaUrl(gr.scSchema)
			dst = ss.Spans()
			out[e.group] = dst
		}
		e.span.MoveTo(dst.AppendEmpty())
	}
	if remaining > len(h) {
		last := h[len(h)-1].key
		page.Next = &last
	}
	return page, nil
}

func traceIDString(id storage.TraceID) string { return fmt.Sprintf("%x", id[:]) }

// EachTracePage calls fn with each page of spans the backend yields for a trace, in no particular order,
// until fn returns false, within the query timeout. The error wraps storage.ErrNotFound when the trace has no
// span. fn must not keep td after it returns.
func (q *Querier) EachTracePage(ctx context.Context, id storage.TraceID, fn func(td ptrace.Traces) bool) error {
	if err := q.needSpans(); err != nil {
		return err
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	return q.eachTracePage(ctx, id, DefaultPageSize, fn)
}
