package memory

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

const serviceNameKey = "service.name"

// spanResource and spanScope are shared by the spans of one ResourceSpans and ScopeSpans of a written batch.
type spanResource struct {
	rs      ptrace.ResourceSpans
	service string
}

type spanScope struct {
	res *spanResource
	ss  ptrace.ScopeSpans
}

type spanEntry struct {
	scope      *spanScope
	span       ptrace.Span
	seq        uint64
	start, end int64 // unix ns
}

type opKey struct {
	name string
	kind ptrace.SpanKind
}

// WriteSpans stores every span of td, keeping references to it.
func (s *Store) WriteSpans(ctx context.Context, td ptrace.Traces) error {
	if err := ctxErr(ctx); err != nil {
		return fmt.Errorf("write spans: %w", err)
	}
	// Index the batch before taking the lock: one allocation, and readers wait only for the insertion.
	entries := make([]spanEntry, td.SpanCount())
	n := 0
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		res := &spanResource{rs: rs}
		if v, ok := rs.Resource().Attributes().Get(serviceNameKey); ok {
			res.service = v.AsString()
		}
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			if ss.Spans().Len() == 0 {
				continue
			}
			scope := &spanScope{res: res, ss: ss}
			spans := ss.Spans()
			for k := range spans.Len() {
				sp := spans.At(k)
				entries[n] = spanEntry{scope: scope, span: sp, start: int64(sp.StartTimestamp()), end: int64(sp.EndTimestamp())}
				n++
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	for i := range entries[:n] {
		s.seq++
		entries[i].seq = s.seq
		s.addSpan(&entries[i])
	}
	for s.spans.len() > s.opts.MaxSpans {
		s.noteEviction(sigSpans, s.opts.MaxSpans)
		s.evictSpan()
	}
	return nil
}

func (s *Store) addSpan(e *spanEntry) {
	s.spans.push(e)
	s.traces.add(storage.TraceID(e.span.TraceID()), e)
	svc := e.scope.res.service
	s.spanServices.add(svc, e)
	ops := s.operations[svc]
	if ops == nil {
		ops = make(map[opKey]int)
		s.operations[svc] = ops
	}
	ops[opKey{e.span.Name(), e.span.Kind()}]++
}

func (s *Store) evictSpan() {
	e := s.spans.pop()
	s.traces.evict(storage.TraceID(e.span.TraceID()), e)
	svc := e.scope.res.service
	s.spanServices.evict(svc, e)
	ops := s.operations[svc]
	k := opKey{e.span.Name(), e.span.Kind()}
	if ops[k]--; ops[k] <= 0 {
		delete(ops, k)
		if len(ops) == 0 {
			delete(s.operations, svc)
		}
	}
}

// GetTrace yields the spans of one trace, in arrival order. The time hints of q are not needed and ignored.
func (s *Store) GetTrace(ctx context.Context, q storage.TraceQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			yield(ptrace.NewTraces(), storage.ErrClosed)
			return
		}
		entries := s.traces.items(q.TraceID)
		s.mu.RUnlock()
		if len(entries) == 0 {
			yield(ptrace.NewTraces(), storage.ErrNotFound)
			return
		}
		yieldSpanPages(ctx, entries, pageSize(q.PageSize), yield)
	}
}

// FindTraceIDs returns the traces with a span matching q, newest first by the start of their newest matching
// span.
func (s *Store) FindTraceIDs(ctx context.Context, q storage.SpanQuery) ([]storage.TraceRef, error) {
	// Aggregate per trace while scanning (under the read lock; the callback only touches local state), then
	// keep the Limit traces with the newest matching spans.
	type found struct {
		id          storage.TraceID
		first, last int64 // earliest start, latest end of the matching spans
		newest      int64 // start of the newest matching span
		seq         uint64
	}
	var traces []found
	byID := make(map[storage.TraceID]int)
	err := s.matchSpans(ctx, q, func(e *spanEntry) {
		id := storage.TraceID(e.span.TraceID())
		i, ok := byID[id]
		if !ok {
			byID[id] = len(traces)
			traces = append(traces, found{id: id, first: e.start, last: e.end, newest: e.start, seq: e.seq})
			return
		}
		f := &traces[i]
		f.first, f.last = min(f.first, e.start), max(f.last, e.end)
		if e.start > f.newest || (e.start == f.newest && e.seq > f.seq) {
			f.newest, f.seq = e.start, e.seq
		}
	})
	if err != nil {
		return nil, fmt.Errorf("find trace ids: %w", err)
	}
	top := newTopK(orDefault(q.Limit, DefaultTraceLimit), func(a, b *found) bool {
		return a.newest > b.newest || (a.newest == b.newest && a.seq > b.seq)
	})
	for i := range traces {
		top.offer(&traces[i])
	}
	order := top.sorted()
	refs := make([]storage.TraceRef, len(order))
	for i, f := range order {
		refs[i] = storage.TraceRef{TraceID: f.id, Start: unixTime(f.first), End: unixTime(f.last)}
	}
	return refs, nil
}

// FindSpans yields the spans matching q, newest first by start time (then by arrival, latest first).
func (s *Store) FindSpans(ctx context.Context, q storage.SpanQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) {
		top := newTopK(orDefault(q.Limit, DefaultSpanLimit), newerSpan)
		if err := s.matchSpans(ctx, q, top.offer); err != nil {
			yield(ptrace.NewTraces(), fmt.Errorf("find spans: %w", err))
			return
		}
		yieldSpanPages(ctx, top.sorted(), DefaultPageSize, yield)
	}
}

// newerSpan orders spans newest first by start time, then by arrival, latest first.
func newerSpan(a, b *spanEntry) bool {
	return a.start > b.start || (a.start == b.start && a.seq > b.seq)
}

// matchSpans calls match with each stored span matching q, in arrival order, under the read lock.
func (s *Store) matchSpans(ctx context.Context, q storage.SpanQuery, match func(*spanEntry)) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	start, end := unixNano(q.Start), unixNano(q.End)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	from := &s.spans
	if q.Service != "" {
		// Only the spans of the service.
		if from = s.spanServices[q.Service]; from == nil {
			return nil
		}
	}
	return from.scan(ctx, func(e *spanEntry) bool { return spanMatches(e, &q, start, end) }, match)
}

func spanMatches(e *spanEntry, q *storage.SpanQuery, start, end int64) bool {
	if !inRange(e.start, start, end) {
		return false
	}
	if q.Service != "" && e.scope.res.service != q.Service {
		return false
	}
	sp := e.span
	if q.SpanName != "" && sp.Name() != q.SpanName {
		return false
	}
	if q.Kind != ptrace.SpanKindUnspecified && sp.Kind() != q.Kind {
		return false
	}
	if q.StatusSet && sp.Status().Code() != q.Status {
		return false
	}
	d := time.Duration(e.end - e.start)
	// A span whose end precedes its start (clock skew) has a negative duration; it still matches a query
	// that sets no duration bound.
	if (q.MinDuration > 0 && d < q.MinDuration) || (q.MaxDuration > 0 && d > q.MaxDuration) {
		return false
	}
	res, scope := e.scope.res.rs.Resource(), e.scope.ss.Scope()
	if !storage.MatchAll(q.Attributes, sp.Attributes(), scope.Attributes(), res.Attributes()) {
		return false
	}
	return q.Match == nil || q.Match.MatchSpan(res, scope, sp)
}

// Services returns the sorted service names of the stored spans. Spans without service.name are not counted.
func (s *Store) Services(ctx context.Context) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	out := make([]string, 0, len(s.operations))
	for name := range s.operations {
		if name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Operations returns the span names and kinds of the stored spans. With an empty q.Service, the operations
// of spans without service.name are included with an empty Service.
func (s *Store) Operations(ctx context.Context, q storage.OperationQuery) ([]storage.Operation, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	var out []storage.Operation
	add := func(service string, ops map[opKey]int) {
		for k := range ops {
			if q.Kind == ptrace.SpanKindUnspecified || k.kind == q.Kind {
				out = append(out, storage.Operation{Service: service, Name: k.name, Kind: k.kind})
			}
		}
	}
	if q.Service != "" {
		if ops := s.operations[q.Service]; ops != nil {
			add(q.Service, ops)
		}
	} else {
		for name, ops := range s.operations {
			add(name, ops)
		}
	}
	slices.SortFunc(out, func(a, b storage.Operation) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Service, b.Service)
	})
	return out, nil
}

// yieldSpanPages copies entries into pages of at most size spans and yields them.
func yieldSpanPages(ctx context.Context, entries []*spanEntry, size int, yield func(ptrace.Traces, error) bool) {
	yieldPages(ctx, entries, size, buildTraces, ptrace.NewTraces, yield)
}

// buildTraces deep-copies entries, in their order, into a new ptrace.Traces. A run of consecutive spans of one
// written resource shares a ResourceSpans, and a run of one written scope a ScopeSpans, so reading the page
// resource by resource, scope by scope, span by span gives the spans in the order of entries.
func buildTraces(entries []*spanEntry) ptrace.Traces {
	td := ptrace.NewTraces()
	var (
		rs      ptrace.ResourceSpans
		spans   ptrace.SpanSlice
		lastRes *spanResource
		lastSc  *spanScope
	)
	for _, e := range entries {
		if e.scope.res != lastRes {
			rs = td.ResourceSpans().AppendEmpty()
			e.scope.res.rs.Resource().CopyTo(rs.Resource())
			rs.SetSchemaUrl(e.scope.res.rs.SchemaUrl())
			lastRes, lastSc = e.scope.res, nil
		}
		if e.scope != lastSc {
			ss := rs.ScopeSpans().AppendEmpty()
			e.scope.ss.Scope().CopyTo(ss.Scope())
			ss.SetSchemaUrl(e.scope.ss.SchemaUrl())
			spans = ss.Spans()
			lastSc = e.scope
		}
		e.span.CopyTo(spans.AppendEmpty())
	}
	return td
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
