package memory

import (
	"context"
	"fmt"
	"iter"
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
	// Index the batch before taking the lock: one allocation, and readers wait only for the insertion.
	entries := make([]logEntry, ld.LogRecordCount())
	n := 0
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
				entries[n] = logEntry{scope: scope, rec: rec, t: t}
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
		e := &entries[i]
		s.seq++
		e.seq = s.seq
		s.logs.push(e)
		s.logServices.add(e.scope.res.service, e)
		if id := e.rec.TraceID(); !id.IsEmpty() {
			s.logTraces.add(storage.TraceID(id), e)
		}
	}
	for s.logs.len() > s.opts.MaxLogs {
		s.noteEviction(sigLogs, s.opts.MaxLogs)
		e := s.logs.pop()
		s.logServices.evict(e.scope.res.service, e)
		if id := e.rec.TraceID(); !id.IsEmpty() {
			s.logTraces.evict(storage.TraceID(id), e)
		}
	}
	return nil
}

// FindLogs yields the records matching q in q.Order on their time (ties: by arrival).
func (s *Store) FindLogs(ctx context.Context, q storage.LogQuery) iter.Seq2[plog.Logs, error] {
	return func(yield func(plog.Logs, error) bool) {
		before := func(a, b *logEntry) bool { // newest first
			return a.t > b.t || (a.t == b.t && a.seq > b.seq)
		}
		if q.Order == storage.OldestFirst {
			before = func(a, b *logEntry) bool {
				return a.t < b.t || (a.t == b.t && a.seq < b.seq)
			}
		}
		top := newTopK(orDefault(q.Limit, DefaultLogLimit), before)
		if err := s.matchLogs(ctx, &q, top.offer); err != nil {
			yield(plog.NewLogs(), fmt.Errorf("find logs: %w", err))
			return
		}
		yieldPages(ctx, top.sorted(), DefaultPageSize, buildLogs, plog.NewLogs, yield)
	}
}

// matchLogs calls match with each stored record matching q, in arrival order, under the read lock.
func (s *Store) matchLogs(ctx context.Context, q *storage.LogQuery, match func(*logEntry)) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	start, end := unixNano(q.Start), unixNano(q.End)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	// Scan the smallest list that holds every candidate.
	from := &s.logs
	if !q.TraceID.IsEmpty() {
		from = s.logTraces[q.TraceID]
	} else if q.Service != "" {
		from = s.logServices[q.Service]
	}
	if from == nil {
		return nil
	}
	return from.scan(ctx, func(e *logEntry) bool { return logMatches(e, q, start, end) }, match)
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

// buildLogs deep-copies entries, in their order, into a new plog.Logs. A run of consecutive records of one
// written resource shares a ResourceLogs, and a run of one written scope a ScopeLogs, so reading the page
// resource by resource, scope by scope, record by record gives the records in the order of entries.
func buildLogs(entries []*logEntry) plog.Logs {
	ld := plog.NewLogs()
	var (
		rl      plog.ResourceLogs
		recs    plog.LogRecordSlice
		lastRes *logResource
		lastSc  *logScope
	)
	for _, e := range entries {
		if e.scope.res != lastRes {
			rl = ld.ResourceLogs().AppendEmpty()
			e.scope.res.rl.Resource().CopyTo(rl.Resource())
			rl.SetSchemaUrl(e.scope.res.rl.SchemaUrl())
			lastRes, lastSc = e.scope.res, nil
		}
		if e.scope != lastSc {
			sl := rl.ScopeLogs().AppendEmpty()
			e.scope.sl.Scope().CopyTo(sl.Scope())
			sl.SetSchemaUrl(e.scope.sl.SchemaUrl())
			recs = sl.LogRecords()
			lastSc = e.scope
		}
		e.rec.CopyTo(recs.AppendEmpty())
	}
	return ld
}
