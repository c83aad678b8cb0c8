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

// traceEntry lists the stored spans of one trace in arrival order.
type traceEntry struct {
	spans []*spanEntry
}

type opKey struct {
	name string
	kind ptrace.SpanKind
}

// serviceEntry counts the stored spans of a service by operation.
type serviceEntry struct {
	spans int
	ops   map[opKey]int
}

// WriteSpans stores every span of td, keeping references to it.
func (s *Store) WriteSpans(ctx context.Context, td ptrace.Traces) error {
	if err := ctxErr(ctx); err != nil {
		return fmt.Errorf("write spans: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
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
				s.seq++
				e := &spanEntry{
					scope: scope,
					span:  sp,
					seq:   s.seq,
					start: int64(sp.StartTimestamp()),
					end:   int64(sp.EndTimestamp()),
				}
				s.addSpan(e)
			}
		}
	}
	for s.spans.len() > s.opts.MaxSpans {
		s.noteEviction(sigSpans, s.opts.MaxSpans)
		s.evictSpan()
	}
	return nil
}

func (s *Store) addSpan(e *spanEntry) {
	s.spans.push(e)
	id := storage.TraceID(e.span.TraceID())
	t := s.traces[id]
	if t == nil {
		t = &traceEntry{}
		s.traces[id] = t
	}
	t.spans = append(t.spans, e)
	svc := s.services[e.scope.res.service]
	if svc == nil {
		svc = &serviceEntry{ops: make(map[opKey]int)}
		s.services[e.scope.res.service] = svc
	}
	svc.spans++
	svc.ops[opKey{e.span.Name(), e.span.Kind()}]++
}

func (s *Store) evictSpan() {
	e := s.spans.pop()
	id := storage.TraceID(e.span.TraceID())
	if t := s.traces[id]; t != nil {
		// Eviction follows arrival order, so the evicted span is the first of its trace.
		if t.spans[0] == e {
			t.spans[0] = nil
			t.spans = t.spans[1:]
		} else if i := slices.Index(t.spans, e); i >= 0 {
			t.spans[i] = nil
			t.spans = slices.Delete(t.spans, i, i+1)
		}
		if len(t.spans) == 0 {
			delete(s.traces, id)
		}
	}
	svc := s.services[e.scope.res.service]
	if svc == nil {
		return
	}
	k := opKey{e.span.Name(), e.span.Kind()}
	if svc.ops[k]--; svc.ops[k] <= 0 {
		delete(svc.ops, k)
	}
	if svc.spans--; svc.spans <= 0 {
		delete(s.services, e.scope.res.service)
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
		var entries []*spanEntry
		if t := s.traces[q.TraceID]; t != nil {
			entries = slices.Clone(t.spans)
		}
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
	matches, err := s.matchSpans(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("find trace ids: %w", err)
	}
	type found struct {
		ref    storage.TraceRef
		newest int64
		seq    uint64
	}
	byID := make(map[storage.TraceID]*found)
	var order []*found
	for _, e := range matches {
		id := storage.TraceID(e.span.TraceID())
		f := byID[id]
		if f == nil {
			f = &found{ref: storage.TraceRef{TraceID: id, Start: unixTime(e.start), End: unixTime(e.end)}, newest: e.start, seq: e.seq}
			byID[id] = f
			order = append(order, f)
			continue
		}
		if st := unixTime(e.start); st.Before(f.ref.Start) {
			f.ref.Start = st
		}
		if en := unixTime(e.end); en.After(f.ref.End) {
			f.ref.End = en
		}
		if e.start > f.newest || (e.start == f.newest && e.seq > f.seq) {
			f.newest, f.seq = e.start, e.seq
		}
	}
	slices.SortFunc(order, func(a, b *found) int {
		if c := cmp.Compare(b.newest, a.newest); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	limit := orDefault(q.Limit, DefaultTraceLimit)
	if len(order) > limit {
		order = order[:limit]
	}
	refs := make([]storage.TraceRef, len(order))
	for i, f := range order {
		refs[i] = f.ref
	}
	return refs, nil
}

// FindSpans yields the spans matching q, newest first by start time (then by arrival, latest first).
func (s *Store) FindSpans(ctx context.Context, q storage.SpanQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) {
		matches, err := s.matchSpans(ctx, q)
		if err != nil {
			yield(ptrace.NewTraces(), fmt.Errorf("find spans: %w", err))
			return
		}
		sortNewestFirst(matches)
		if limit := orDefault(q.Limit, DefaultSpanLimit); len(matches) > limit {
			matches = matches[:limit]
		}
		yieldSpanPages(ctx, matches, DefaultPageSize, yield)
	}
}

func sortNewestFirst(es []*spanEntry) {
	slices.SortFunc(es, func(a, b *spanEntry) int {
		if c := cmp.Compare(b.start, a.start); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
}

// matchSpans returns the stored spans matching q, in arrival order.
func (s *Store) matchSpans(ctx context.Context, q storage.SpanQuery) ([]*spanEntry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	start, end := unixNano(q.Start), unixNano(q.End)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	if q.Service != "" && s.services[q.Service] == nil {
		return nil, nil
	}
	var out []*spanEntry
	for i := range s.spans.len() {
		if i%4096 == 4095 {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
		}
		e := s.spans.at(i)
		if spanMatches(e, &q, start, end) {
			out = append(out, e)
		}
	}
	return out, nil
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
	if d < q.MinDuration || (q.MaxDuration > 0 && d > q.MaxDuration) {
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
	out := make([]string, 0, len(s.services))
	for name := range s.services {
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
	add := func(service string, svc *serviceEntry) {
		for k := range svc.ops {
			if q.Kind == ptrace.SpanKindUnspecified || k.kind == q.Kind {
				out = append(out, storage.Operation{Service: service, Name: k.name, Kind: k.kind})
			}
		}
	}
	if q.Service != "" {
		if svc := s.services[q.Service]; svc != nil {
			add(q.Service, svc)
		}
	} else {
		for name, svc := range s.services {
			add(name, svc)
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

// yieldSpanPages copies entries into pages of at most size spans and yields them. The entries are immutable,
// so no lock is needed.
func yieldSpanPages(ctx context.Context, entries []*spanEntry, size int, yield func(ptrace.Traces, error) bool) {
	for len(entries) > 0 {
		if err := ctxErr(ctx); err != nil {
			yield(ptrace.NewTraces(), err)
			return
		}
		n := min(size, len(entries))
		if !yield(buildTraces(entries[:n]), nil) {
			return
		}
		entries = entries[n:]
	}
}

// buildTraces deep-copies entries into a new ptrace.Traces, grouping the spans of one written resource and
// scope together.
func buildTraces(entries []*spanEntry) ptrace.Traces {
	td := ptrace.NewTraces()
	resources := make(map[*spanResource]ptrace.ResourceSpans)
	scopes := make(map[*spanScope]ptrace.SpanSlice)
	for _, e := range entries {
		spans, ok := scopes[e.scope]
		if !ok {
			rs, ok := resources[e.scope.res]
			if !ok {
				rs = td.ResourceSpans().AppendEmpty()
				e.scope.res.rs.Resource().CopyTo(rs.Resource())
				rs.SetSchemaUrl(e.scope.res.rs.SchemaUrl())
				resources[e.scope.res] = rs
			}
			ss := rs.ScopeSpans().AppendEmpty()
			e.scope.ss.Scope().CopyTo(ss.Scope())
			ss.SetSchemaUrl(e.scope.ss.SchemaUrl())
			spans = ss.Spans()
			scopes[e.scope] = spans
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
