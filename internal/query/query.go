package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// Defaults for zero Options fields.
const (
	DefaultLookback     = 24 * time.Hour
	DefaultTimeout      = 30 * time.Second
	DefaultTraceLimit   = 20
	MaxTraceLimit       = 1000
	DefaultLogLimit     = 100
	MaxLogLimit         = 5000
	DefaultPageSize     = 1000    // spans per page of a trace
	MaxPageSize         = 50_000  // spans per page of a trace
	DefaultMaxScanSpans = 1 << 20 // spans read by one RED, graph or catalog computation
	DefaultMaxScanLogs  = 1 << 20 // log records counted by one histogram
	DefaultMaxTrace     = 200_000 // spans of one trace loaded for analysis (critical path, comparison)
	MaxOffset           = 10_000  // results skipped by paging with an offset
	MaxBuckets          = 11_000  // time buckets of a histogram or RED series
)

// Options configures a Querier. Zero fields take the defaults above.
type Options struct {
	DefaultLookback time.Duration // time range of a query that gives none: [now-DefaultLookback, now]
	Timeout         time.Duration // per query
	MaxScanSpans    int
	MaxScanLogs     int
	MaxTraceSpans   int // spans of one trace loaded for analysis
	Now             func() time.Time
	Logger          *slog.Logger
}

// ErrInvalid wraps every error caused by the request (a bad filter, an inverted range, an unknown trace ID
// format); an API answers it with 400 and the message.
var ErrInvalid = errors.New("invalid query")

// ErrNotFound is returned when a trace asked for by ID has no span (it wraps storage.ErrNotFound).
var ErrNotFound = storage.ErrNotFound

// Querier runs queries on storage readers. Safe for concurrent use.
type Querier struct {
	spans storage.SpanReader
	logs  storage.LogReader
	opts  Options
	log   *slog.Logger
}

// New returns a Querier reading from spans and logs. Either may be nil when the signal is not stored; its
// queries then fail with errors.ErrUnsupported.
func New(spans storage.SpanReader, logs storage.LogReader, opts Options) *Querier {
	if opts.DefaultLookback <= 0 {
		opts.DefaultLookback = DefaultLookback
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxScanSpans <= 0 {
		opts.MaxScanSpans = DefaultMaxScanSpans
	}
	if opts.MaxScanLogs <= 0 {
		opts.MaxScanLogs = DefaultMaxScanLogs
	}
	if opts.MaxTraceSpans <= 0 {
		opts.MaxTraceSpans = DefaultMaxTrace
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Querier{spans: spans, logs: logs, opts: opts, log: opts.Logger}
}

// Options returns the effective options (defaults filled in).
func (q *Querier) Options() Options { return q.opts }

// TimeRange is [Start, End]. A zero side is filled by Querier.bound.
type TimeRange struct {
	Start, End time.Time
}

// bound fills a missing side of r: End defaults to now, Start to End-DefaultLookback.
func (q *Querier) bound(r TimeRange) (TimeRange, error) {
	if r.End.IsZero() {
		r.End = q.opts.Now()
	}
	if r.Start.IsZero() {
		r.Start = r.End.Add(-q.opts.DefaultLookback)
	}
	if r.End.Before(r.Start) {
		return r, fmt.Errorf("%w: end %s is before start %s", ErrInvalid, r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
	}
	return r, nil
}

func (q *Querier) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, q.opts.Timeout)
}

func (q *Querier) needSpans() error {
	if q.spans == nil {
		return fmt.Errorf("traces are not stored: %w", errors.ErrUnsupported)
	}
	return nil
}

func (q *Querier) needLogs() error {
	if q.logs == nil {
		return fmt.Errorf("logs are not stored: %w", errors.ErrUnsupported)
	}
	return nil
}

func clampLimit(n, def, maxN int) int {
	if n <= 0 {
		return def
	}
	return min(n, maxN)
}

// forEachSpan calls fn for every span of td.
func forEachSpan(td ptrace.Traces, fn func(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := range spans.Len() {
				fn(rs.Resource(), ss.Scope(), spans.At(k))
			}
		}
	}
}

// serviceOf returns the resource's service.name, or "" when it has none.
func serviceOf(res pcommon.Resource) string {
	if v, ok := res.Attributes().Get("service.name"); ok {
		return v.AsString()
	}
	return ""
}

// ParseTraceID accepts 1 to 32 hex digits (left-padded with zeros), as trace IDs are written in URLs.
func ParseTraceID(s string) (storage.TraceID, error) {
	var id storage.TraceID
	if len(s) == 0 || len(s) > 32 {
		return id, fmt.Errorf("%w: trace ID %q must be 1 to 32 hex digits", ErrInvalid, truncate(s, 40))
	}
	var buf [32]byte
	pad := 32 - len(s)
	for i := range pad {
		buf[i] = '0'
	}
	copy(buf[pad:], s)
	for i := 0; i < 32; i += 2 {
		hi, ok1 := unhex(buf[i])
		lo, ok2 := unhex(buf[i+1])
		if !ok1 || !ok2 {
			return id, fmt.Errorf("%w: trace ID %q must be 1 to 32 hex digits", ErrInvalid, truncate(s, 40))
		}
		id[i/2] = hi<<4 | lo
	}
	return id, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
