// Package storage holds the contracts that every otlpd storage backend satisfies: span, log and metric writers
// and readers. Telemetry crosses these interfaces as pdata (go.opentelemetry.io/collector/pdata), the OTLP data
// model in Go, so no field of OTLP is lost between the receivers and a backend.
//
// Two backends satisfy the contracts (the in-memory one in storage/memory and the embedded engine in
// storage/engine) and both run the conformance suite in storage/storagetest.
package storage

import (
	"context"
	"errors"
	"iter"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
)

// ErrNotFound is returned by readers when the thing asked for by ID (a trace) does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("storage closed")

// SpanWriter stores spans.
type SpanWriter interface {
	// WriteSpans stores every span of td. A nil return means the spans are stored as durably as the backend
	// promises (the embedded engine: fsynced), so the receiver may acknowledge the export.
	// The caller must not modify td after the call; the backend may keep references to it, read-only.
	// Safe for concurrent use.
	WriteSpans(ctx context.Context, td ptrace.Traces) error
}

// EncodedSpanWriter is an optional interface of a SpanWriter that can use the batch's protobuf encoding, which
// a receiver often has at hand, instead of encoding td again (the engine logs batches as protobuf).
type EncodedSpanWriter interface {
	// WriteSpansEncoded is WriteSpans(ctx, td), given raw: td as an OTLP TracesData message (an
	// ExportTraceServiceRequest has the same encoding). raw must decode to td, up to fields this otlpd does not
	// know and resources or scopes without spans. The writer must not keep raw after the call returns.
	WriteSpansEncoded(ctx context.Context, td ptrace.Traces, raw []byte) error
}

// RawSpanWriter is an optional interface of a SpanWriter that takes a batch as its protobuf encoding alone, so
// that the receiver need not decode it into pdata at all.
type RawSpanWriter interface {
	// WriteSpansRaw is WriteSpans of the spans raw holds: raw is an OTLP TracesData message (an
	// ExportTraceServiceRequest has the same encoding) that pdata decodes, every span of which passed the
	// receiver's validation. idx, when not nil, is the receiver's index of raw (otlpwire.Index), built by a
	// check that also vouches for raw's structure: a writer may take the spans from it rather than read raw
	// again. The writer must not keep raw or idx, or views of them, after the call returns.
	WriteSpansRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error
}

// SpanReader finds spans and traces. Safe for concurrent use.
type SpanReader interface {
	// GetTrace yields the spans of one trace in pages of at most q.PageSize spans (0: backend default), in no
	// guaranteed order. It yields ErrNotFound (once, as the error) when the trace has no span.
	// Zero q.Start and q.End mean "any time": a backend must not need a time range to find a trace.
	GetTrace(ctx context.Context, q TraceQuery) iter.Seq2[ptrace.Traces, error]

	// FindTraceIDs returns the traces having at least one span that matches q, newest first (by the start of
	// the newest matching span), at most q.Limit of them.
	FindTraceIDs(ctx context.Context, q SpanQuery) ([]TraceRef, error)

	// FindSpans yields the spans that match q in pages, newest first, at most q.Limit spans in total. The
	// order holds within a page too, read resource by resource, scope by scope, span by span.
	FindSpans(ctx context.Context, q SpanQuery) iter.Seq2[ptrace.Traces, error]

	// Services returns the sorted names of every service (resource attribute service.name) seen.
	Services(ctx context.Context) ([]string, error)

	// Operations returns the span names seen for a service, with their kinds, sorted by name then kind.
	// An empty q.Service means every service.
	Operations(ctx context.Context, q OperationQuery) ([]Operation, error)
}

// SpanScanner is an optional interface of a SpanReader that can visit matching spans without copying them,
// for aggregations (RED, service graph) that read every span of a range once. Callers check for it at run
// time and fall back to FindSpans.
type SpanScanner interface {
	// ScanSpans calls fn for each span that matches q, newest first, at most q.Limit spans (0: backend
	// default), until fn returns false. The arguments are read-only views of stored data: fn must not modify
	// them or keep them after it returns. fn must not call the backend. Safe for concurrent use.
	ScanSpans(ctx context.Context, q SpanQuery, fn func(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool) error
}

// SpanSummary is the fields of a span that aggregations over many spans read (RED, the service graph),
// without its attributes, events and links.
type SpanSummary struct {
	TraceID      TraceID
	SpanID       pcommon.SpanID
	ParentSpanID pcommon.SpanID // zero: a root span
	Service      string         // resource attribute service.name
	Name         string
	Kind         ptrace.SpanKind
	StatusCode   ptrace.StatusCode
	Start, End   int64 // Unix nanoseconds
	// Peer is, for a client span when SummaryOptions.PeerKeys is set, the string form
	// (pcommon.Value.AsString) of the first of those span attributes that is present and not empty; else "".
	Peer string
}

// SummaryOptions says what a SpanSummaryScanner fills in beyond the columns every summary has.
type SummaryOptions struct {
	PeerKeys []string // span attributes naming the peer of a client span, first present wins; nil: no Peer
}

// SpanSummaryScanner is an optional interface of a SpanReader that visits summaries of matching spans, which
// a backend can read without decoding whole spans. Callers check for it at run time and fall back to
// SpanScanner or FindSpans.
type SpanSummaryScanner interface {
	// ScanSpanSummaries calls fn with a summary of each span that matches q, in no guaranteed order, until fn
	// returns false. When more than q.Limit spans match (0: backend default), fn sees the newest q.Limit of
	// them (by start time; ties as SpanScanner.ScanSpans breaks them) and truncated is true. The summary is
	// read-only and valid only during the call (it is reused): fn must not keep it, nor call the backend.
	// Safe for concurrent use.
	ScanSpanSummaries(ctx context.Context, q SpanQuery, opts SummaryOptions, fn func(s *SpanSummary) bool) (truncated bool, err error)
}

// LogWriter stores log records.
type LogWriter interface {
	// WriteLogs stores every record of ld, with the durability and ownership rules of SpanWriter.WriteSpans.
	WriteLogs(ctx context.Context, ld plog.Logs) error
}

// EncodedLogWriter is EncodedSpanWriter for log records.
type EncodedLogWriter interface {
	// WriteLogsEncoded is WriteLogs(ctx, ld), given raw: ld as an OTLP LogsData message (an
	// ExportLogsServiceRequest has the same encoding), with the rules of EncodedSpanWriter.WriteSpansEncoded.
	WriteLogsEncoded(ctx context.Context, ld plog.Logs, raw []byte) error
}

// RawLogWriter is RawSpanWriter for log records (raw is an OTLP LogsData message, idx indexes its records).
type RawLogWriter interface {
	WriteLogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error
}

// LogReader finds log records. Safe for concurrent use.
type LogReader interface {
	// FindLogs yields the records that match q in pages, ordered by q.Order on the record's time (time, or the
	// observed time when time is 0), at most q.Limit records in total. The order holds within a page too, read
	// resource by resource, scope by scope, record by record.
	FindLogs(ctx context.Context, q LogQuery) iter.Seq2[plog.Logs, error]
}

// MetricWriter stores metric points.
type MetricWriter interface {
	// WriteMetrics stores md with the durability and ownership rules of SpanWriter.WriteSpans. Points the
	// backend refuses for a reason of its own (a cardinality limit, say) are reported by a *RejectedError;
	// every other point of md is stored.
	WriteMetrics(ctx context.Context, md pmetric.Metrics) error
}

// EncodedMetricWriter is EncodedSpanWriter for metric points.
type EncodedMetricWriter interface {
	// WriteMetricsEncoded is WriteMetrics(ctx, md), given raw: md as an OTLP MetricsData message (an
	// ExportMetricsServiceRequest has the same encoding), with the rules of EncodedSpanWriter.WriteSpansEncoded.
	WriteMetricsEncoded(ctx context.Context, md pmetric.Metrics, raw []byte) error
}

// MetricReader reads metrics back in the OTLP model. (PromQL reads through the Prometheus storage interfaces
// of the metrics package, not through this one.) Safe for concurrent use.
type MetricReader interface {
	// MetricNames returns the sorted OTLP names of every metric seen.
	MetricNames(ctx context.Context) ([]string, error)

	// FindMetrics yields the points of the metrics that match q in pages, oldest first.
	FindMetrics(ctx context.Context, q MetricQuery) iter.Seq2[pmetric.Metrics, error]
}

// Backend is a complete store for the three signals.
type Backend interface {
	SpanWriter
	SpanReader
	LogWriter
	LogReader
	MetricWriter
	MetricReader
	// Close flushes what must be flushed and releases the backend. Calls after Close return ErrClosed.
	Close() error
}

// RejectedError reports items a writer refused while storing the rest of a batch.
type RejectedError struct {
	Rejected int64  // number of spans, log records or data points refused
	Reason   string // English text for the client
}

func (e *RejectedError) Error() string { return e.Reason }

// TraceID is a 16-byte trace ID.
type TraceID = pcommon.TraceID

// TraceQuery asks for one trace.
type TraceQuery struct {
	TraceID TraceID
	// Start and End, when not zero, are a hint: spans of the trace outside [Start, End] may be left out.
	Start, End time.Time
	PageSize   int
}

// TraceRef names a trace found by a search, with the time span of its matching spans.
type TraceRef struct {
	TraceID    TraceID
	Start, End time.Time
}

// AttrScope says which attribute set a predicate looks at.
type AttrScope uint8

const (
	AttrAny      AttrScope = iota // span (or log), then scope, then resource attributes
	AttrSpan                      // the span's or log record's own attributes
	AttrResource                  // resource attributes
	AttrScopeSet                  // instrumentation scope attributes
)

// AttrOp is a comparison an attribute predicate makes.
type AttrOp uint8

const (
	OpEqual        AttrOp = iota // the value's string form equals Value
	OpNotEqual                   // the attribute is absent or its string form differs
	OpContains                   // the string form contains Value
	OpExists                     // the attribute is present
	OpGreater                    // numeric: value > Number
	OpGreaterEqual               // numeric: value >= Number
	OpLess                       // numeric: value < Number
	OpLessEqual                  // numeric: value <= Number
)

// AttrPredicate is one condition on an attribute. The string form of a value is pcommon.Value.AsString.
type AttrPredicate struct {
	Scope  AttrScope
	Key    string
	Op     AttrOp
	Value  string
	Number float64
}

// SpanMatcher is a condition evaluated on each candidate span, after a backend has pruned with the other
// fields of SpanQuery. The filter language compiles to it. Implementations must be safe for concurrent use
// and must not keep the arguments.
type SpanMatcher interface {
	MatchSpan(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool
}

// LogMatcher is SpanMatcher for log records.
type LogMatcher interface {
	MatchLog(res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) bool
}

// SpanQuery selects spans. Zero fields select everything; every set field must hold (they are ANDed).
type SpanQuery struct {
	Start, End  time.Time // span start time in [Start, End]; zero: unbounded on that side
	Service     string
	SpanName    string
	Kind        ptrace.SpanKind // 0 (UNSPECIFIED): any kind
	Status      ptrace.StatusCode
	StatusSet   bool // Status applies only when StatusSet
	MinDuration time.Duration
	MaxDuration time.Duration // 0: no maximum
	Attributes  []AttrPredicate
	Match       SpanMatcher // optional, evaluated last
	Limit       int         // 0: backend default
}

// Operation is a span name and kind seen for a service.
type Operation struct {
	Service string
	Name    string
	Kind    ptrace.SpanKind
}

// OperationQuery selects operations.
type OperationQuery struct {
	Service string
	Kind    ptrace.SpanKind // 0: any
}

// Order is the order in which results are yielded.
type Order uint8

const (
	NewestFirst Order = iota
	OldestFirst
)

// LogQuery selects log records. Zero fields select everything; every set field must hold.
type LogQuery struct {
	Start, End   time.Time
	MinSeverity  plog.SeverityNumber // 0: no minimum
	MaxSeverity  plog.SeverityNumber // 0: no maximum
	BodyContains string              // substring of the body's string form
	Attributes   []AttrPredicate
	TraceID      TraceID // zero: any
	Service      string
	Match        LogMatcher
	Order        Order
	Limit        int
}

// MetricQuery selects metric points.
type MetricQuery struct {
	Name       string // OTLP metric name; empty: every metric
	Start, End time.Time
	Limit      int // points; 0: backend default
}
