package memory

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
)

type logResource struct {
	rl      plog.ResourceLogs
	service string
}

type logScope struct {
	res *logResource
	sl  plog.ScopeLogs
}

type logEntry struct {
	scope *logScope
	rec   plog.LogRecord
	seq   uint64
	t     int64 // time, or observed time when time is 0 (unix ns)
}

// WriteLogs stores every record of ld, keeping references to it.
func (s *Store) WriteLogs(ctx context.Context, ld plog.Logs) error {
	if err := ctxErr(ctx); err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		res := &logResource{rl: rl}
		if v, ok := rl.Resource().Attributes().Get(serviceNameKey); ok {
			res.service = v.AsString()
		}
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			if sl.LogRecords().Len() == 0 {
				continue
			}
			scope := &logScope{res: res, sl: sl}
			recs := sl.LogRecords()
			for k := range recs.Len() {
				rec := recs.At(k)
				t := int64(rec.Timestamp())
				if t == 0 {
					t = int64(rec.ObservedTimestamp())
				}
				s.seq++
				s.logs.push(&logEntry{scope: scope, rec: rec, seq: s.seq, t: t})
			}
		}
	}
	for s.logs.len() > s.opts.MaxLogs {
		s.noteEviction(sigLogs, s.opts.MaxLogs)
		s.logs.pop()
	}
	return nil
}

// FindLogs yields the records matching q in q.Order on their time (ties: by arrival).
func (s *Store) FindLogs(ctx context.Context, q storage.LogQuery) iter.Seq2[plog.Logs, error] {
	return func(yield func(plog.Logs, error) bool) {
		matches, err := s.matchLogs(ctx, &q)
		if err != nil {
			yield(plog.NewLogs(), fmt.Errorf("find logs: %w", err))
			return
		}
		sign := -1 // newest first
		if q.Order == storage.OldestFirst {
			sign = 1
		}
		slices.SortFunc(matches, func(a, b *logEntry) int {
			if c := cmp.Compare(a.t, b.t); c != 0 {
				return sign * c
			}
			return sign * cmp.Compare(a.seq, b.seq)
		})
		if limit := orDefault(q.Limit, DefaultLogLimit); len(matches) > limit {
			matches = matches[:limit]
		}
		for len(matches) > 0 {
			if err := ctxErr(ctx); err != nil {
				yield(plog.NewLogs(), err)
				return
			}
			n := min(DefaultPageSize, len(matches))
			if !yield(buildLogs(matches[:n]), nil) {
				return
			}
			matches = matches[n:]
		}
	}
}

func (s *Store) matchLogs(ctx context.Context, q *storage.LogQuery) ([]*logEntry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	start, end := unixNano(q.Start), unixNano(q.End)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	var out []*logEntry
	for i := range s.logs.len() {
		if i%4096 == 4095 {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
		}
		e := s.logs.at(i)
		if logMatches(e, q, start, end) {
			out = append(out, e)
		}
	}
	return out, nil
}

func logMatches(e *logEntry, q *storage.LogQuery, start, end int64) bool {
	if !inRange(e.t, start, end) {
		return false
	}
	rec := e.rec
	if q.MinSeverity != plog.SeverityNumberUnspecified && rec.SeverityNumber() < q.MinSeverity {
		return false
	}
	if q.MaxSeverity != plog.SeverityNumberUnspecified && rec.SeverityNumber() > q.MaxSeverity {
		return false
	}
	if !q.TraceID.IsEmpty() && storage.TraceID(rec.TraceID()) != q.TraceID {
		return false
	}
	if q.Service != "" && e.scope.res.service != q.Service {
		return false
	}
	if q.BodyContains != "" && !strings.Contains(rec.Body().AsString(), q.BodyContains) {
		return false
	}
	res, scope := e.scope.res.rl.Resource(), e.scope.sl.Scope()
	if !storage.MatchAll(q.Attributes, rec.Attributes(), scope.Attributes(), res.Attributes()) {
		return false
	}
	return q.Match == nil || q.Match.MatchLog(res, scope, rec)
}

// buildLogs deep-copies entries into a new plog.Logs, grouping the records of one written resource and scope.
func buildLogs(entries []*logEntry) plog.Logs {
	ld := plog.NewLogs()
	resources := make(map[*logResource]plog.ResourceLogs)
	scopes := make(map[*logScope]plog.LogRecordSlice)
	for _, e := range entries {
		recs, ok := scopes[e.scope]
		if !ok {
			rl, ok := resources[e.scope.res]
			if !ok {
				rl = ld.ResourceLogs().AppendEmpty()
				e.scope.res.rl.Resource().CopyTo(rl.Resource())
				rl.SetSchemaUrl(e.scope.res.rl.SchemaUrl())
				resources[e.scope.res] = rl
			}
			sl := rl.ScopeLogs().AppendEmpty()
			e.scope.sl.Scope().CopyTo(sl.Scope())
			sl.SetSchemaUrl(e.scope.sl.SchemaUrl())
			recs = sl.LogRecords()
			scopes[e.scope] = recs
		}
		e.rec.CopyTo(recs.AppendEmpty())
	}
	return ld
}
