package query

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/query/filter"
	"github.com/otlpd/otlpd/internal/storage"
)

// LogSearch selects log records.
type LogSearch struct {
	TimeRange
	Filter  string // the filter language (docs/filter.md)
	TraceID storage.TraceID
	Order   storage.Order
	Limit   int // records per page; 0: DefaultLogLimit; at most MaxLogLimit
	Offset  int // records to skip; at most MaxOffset
	// Step is the width of a histogram bucket; 0: no histogram; negative: chosen to give about 60 buckets.
	Step time.Duration
}

// LogSearchResult is one page of records and, when asked for, the histogram of every matching record.
type LogSearchResult struct {
	Logs       plog.Logs
	Count      int // records in Logs
	NextOffset int // 0: last page
	Histogram  *Histogram
	Range      TimeRange
}

// Histogram counts matching records per time bucket: Counts[i] covers [Start+i*Step, Start+(i+1)*Step).
type Histogram struct {
	Start     time.Time     `json:"start"`
	Step      time.Duration `json:"-"`
	StepNanos int64         `json:"stepNanos"`
	Counts    []int64       `json:"counts"`
	Total     int64         `json:"total"`
	// Truncated is true when more records matched than the scan limit; Counts cover the newest ones.
	Truncated bool `json:"truncated,omitempty"`
	// Severity splits Counts by severity class (SeverityClasses); only classes with records are present, so
	// the sum over classes of Severity[c][i] is Counts[i]. SeverityTotals is the sum over buckets per class.
	Severity       map[string][]int64 `json:"severity"`
	SeverityTotals map[string]int64   `json:"severityTotals"`
}

// LogQuery turns a log search into a storage query. It validates the filter.
func (q *Querier) LogQuery(s LogSearch) (storage.LogQuery, TimeRange, error) {
	r, err := q.bound(s.TimeRange)
	if err != nil {
		return storage.LogQuery{}, r, err
	}
	lq := storage.LogQuery{Start: r.Start, End: r.End, TraceID: s.TraceID, Order: s.Order}
	f, err := filter.ParseLogs(s.Filter)
	if err != nil {
		return lq, r, fmt.Errorf("%w: filter %w", ErrInvalid, err)
	}
	f.Apply(&lq)
	return lq, r, nil
}

// SearchLogs returns one page of matching records in s.Order and, when s.Step is not 0, their histogram.
func (q *Querier) SearchLogs(ctx context.Context, s LogSearch) (LogSearchResult, error) {
	if err := q.needLogs(); err != nil {
		return LogSearchResult{}, err
	}
	if s.Offset < 0 || s.Offset > MaxOffset {
		return LogSearchResult{}, fmt.Errorf("%w: offset %d is outside 0..%d", ErrInvalid, s.Offset, MaxOffset)
	}
	lq, r, err := q.LogQuery(s)
	if err != nil {
		return LogSearchResult{}, err
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	limit := clampLimit(s.Limit, DefaultLogLimit, MaxLogLimit)
	lq.Limit = s.Offset + limit + 1
	res := LogSearchResult{Logs: plog.NewLogs(), Range: r}
	seen := 0
	for ld, err := range q.logs.FindLogs(ctx, lq) {
		if err != nil {
			return LogSearchResult{}, fmt.Errorf("search logs: %w", err)
		}
		rls := ld.ResourceLogs()
		for i := range rls.Len() {
			rl := rls.At(i)
			var outRL plog.ResourceLogs
			hasRL := false
			sls := rl.ScopeLogs()
			for j := range sls.Len() {
				sl := sls.At(j)
				var outSL plog.ScopeLogs
				hasSL := false
				recs := sl.LogRecords()
				for k := range recs.Len() {
					seen++
					if seen <= s.Offset {
						continue
					}
					if res.Count == limit {
						res.NextOffset = s.Offset + limit
						continue
					}
					if !hasRL {
						outRL = res.Logs.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(outRL.Resource())
						outRL.SetSchemaUrl(rl.SchemaUrl())
						hasRL = true
					}
					if !hasSL {
						outSL = outRL.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(outSL.Scope())
						outSL.SetSchemaUrl(sl.SchemaUrl())
						hasSL = true
					}
					recs.At(k).CopyTo(outSL.LogRecords().AppendEmpty())
					res.Count++
				}
			}
		}
	}
	if s.Step != 0 {
		h, err := q.histogram(ctx, lq, r, s.Step)
		if err != nil {
			return LogSearchResult{}, err
		}
		res.Histogram = h
	}
	return res, nil
}

// Step picks the bucket width for a range: step itself when positive, else about 60 buckets of a round
// width. The result gives at most MaxBuckets buckets.
func Step(r TimeRange, step time.Duration) (time.Duration, error) {
	span := r.End.Sub(r.Start)
	if step <= 0 {
		step = max(span/60, time.Millisecond)
		for _, round := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
			time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
			if step <= round {
				step = round
				break
			}
		}
	}
	if n := span/step + 1; n > MaxBuckets {
		return 0, fmt.Errorf("%w: step %s gives %d buckets over %s, more than the limit of %d", ErrInvalid, step, n, span, MaxBuckets)
	}
	return step, nil
}

// histogram counts every record that lq matches (up to MaxScanLogs) per bucket.
func (q *Querier) histogram(ctx context.Context, lq storage.LogQuery, r TimeRange, step time.Duration) (*Histogram, error) {
	step, err := Step(r, step)
	if err != nil {
		return nil, err
	}
	n := int(r.End.Sub(r.Start)/step) + 1
	h := &Histogram{Start: r.Start, Step: step, StepNanos: int64(step), Counts: make([]int64, n)}
	lq.Order = storage.NewestFirst
	lq.Limit = q.opts.MaxScanLogs + 1
	start := r.Start.UnixNano()
	sev := &severityCounts{buckets: n}
	defer sev.fill(h)
	for ld, err := range q.logs.FindLogs(ctx, lq) {
		if err != nil {
			return nil, fmt.Errorf("log histogram: %w", err)
		}
		rls := ld.ResourceLogs()
		for i := range rls.Len() {
			sls := rls.At(i).ScopeLogs()
			for j := range sls.Len() {
				recs := sls.At(j).LogRecords()
				for k := range recs.Len() {
					if h.Total == int64(q.opts.MaxScanLogs) {
						h.Truncated = true
						return h, nil
					}
					t := int64(LogTime(recs.At(k)))
					b := (t - start) / int64(step)
					if t < start || b >= int64(n) {
						continue
					}
					h.Counts[b]++
					h.Total++
					sev.add(recs.At(k).SeverityNumber(), int(b))
				}
			}
		}
	}
	return h, nil
}

// LogTime is the time a record is ordered by: its time, or its observed time when the time is 0.
func LogTime(rec plog.LogRecord) int64 {
	if t := rec.Timestamp(); t != 0 {
		return int64(t)
	}
	return int64(rec.ObservedTimestamp())
}

// LogsOfTrace returns the records of one trace, oldest first. With a zero range it looks within an hour
// around the trace's spans (or the default range when the trace is not stored).
func (q *Querier) LogsOfTrace(ctx context.Context, id storage.TraceID, r TimeRange, limit int) (LogSearchResult, error) {
	if r.Start.IsZero() && r.End.IsZero() && q.spans != nil {
		if sum, err := q.TraceSummary(ctx, id); err == nil {
			r.Start = sum.Start.Add(-time.Hour)
			r.End = sum.Start.Add(time.Duration(sum.DurationNanos) + time.Hour)
		}
	}
	return q.SearchLogs(ctx, LogSearch{TimeRange: r, TraceID: id, Order: storage.OldestFirst, Limit: limit})
}
