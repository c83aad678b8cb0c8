package otlpwire

import "hash/maphash"

// Index lists the items (spans or log records) of a TracesData or LogsData message with what a store needs
// of each without reading it again: its time, its resource and scope, and for spans the trace ID, name and
// kind. The receiver's check builds one as it reads a request (every item is read there anyway), so that a
// store trusting the check need not read the request a second time. Every byte slice is a view of the
// indexed message.
type Index struct {
	// Items are the spans or log records in message order.
	Items []Item
	// Groups are the resource and scope of each group of items (a ScopeSpans or ScopeLogs that holds at
	// least one), in message order.
	Groups []ItemGroup
	// Spans, for a traces message, hold per item (same index) the span's fields that stores and span
	// metrics take; empty for logs.
	Spans []SpanKey
}

// Item is a span or log record of an indexed message.
type Item struct {
	Msg   []byte // the Span or LogRecord message
	TS    int64  // a span's start time; a log record's time, or its observed time when the time is 0
	Group int32  // index in Index.Groups
}

// ItemGroup is the context of items: the Resource and InstrumentationScope messages and the schema URLs of
// their ResourceSpans/ResourceLogs and ScopeSpans/ScopeLogs, each nil when absent.
type ItemGroup struct {
	Resource, ResourceSchema, Scope, ScopeSchema []byte
}

// SpanKey is what a span store's catalogs and trace index, and span metrics, take of a span.
type SpanKey struct {
	TraceID [16]byte
	SpanID  [8]byte
	Name    []byte
	NameH   uint64 // HashName(Name), taken while the name is in cache
	Kind    uint32 // the SpanKind enum's value
	Status  uint32 // the StatusCode enum's value (0, unset, when the span has no status)
	End     int64  // end time, Unix nanoseconds
}

// nameSeed seeds HashName.
var nameSeed = maphash.MakeSeed()

// HashName is a 64-bit hash of a span name, the same for the life of the process.
func HashName(name []byte) uint64 { return maphash.Bytes(nameSeed, name) }

// Reset empties x, keeping its storage.
func (x *Index) Reset() {
	x.Items, x.Groups, x.Spans = x.Items[:0], x.Groups[:0], x.Spans[:0]
}
