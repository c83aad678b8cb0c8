package otlpwire

// Field numbers of the OTLP messages (opentelemetry-proto v1). An ExportTraceServiceRequest has the encoding
// of a TracesData (resource_spans = 1), and likewise for logs and metrics.
const (
	// TracesData, LogsData, MetricsData.
	DataResources = 1 // resource_spans, resource_logs, resource_metrics

	// ResourceSpans, ResourceLogs, ResourceMetrics.
	ResourceResource  = 1
	ResourceScopes    = 2 // scope_spans, scope_logs, scope_metrics
	ResourceSchemaURL = 3

	// ScopeSpans, ScopeLogs, ScopeMetrics.
	ScopeScope     = 1
	ScopeItems     = 2 // spans, log_records, metrics
	ScopeSchemaURL = 3

	// Resource.
	ResAttributes = 1
	ResDropped    = 2
	ResEntityRefs = 3

	// InstrumentationScope.
	ScopeName       = 1
	ScopeVersion    = 2
	ScopeAttributes = 3
	ScopeDropped    = 4

	// KeyValue.
	KVKey   = 1
	KVValue = 2

	// AnyValue (a oneof: the last one present wins).
	AnyString = 1
	AnyBool   = 2
	AnyInt    = 3
	AnyDouble = 4
	AnyArray  = 5
	AnyKvlist = 6
	AnyBytes  = 7

	// ArrayValue.values, KeyValueList.values.
	ListValues = 1

	// Span.
	SpanTraceID       = 1
	SpanSpanID        = 2
	SpanTraceState    = 3
	SpanParentSpanID  = 4
	SpanName          = 5
	SpanKind          = 6
	SpanStart         = 7 // fixed64
	SpanEnd           = 8 // fixed64
	SpanAttributes    = 9
	SpanDroppedAttrs  = 10
	SpanEvents        = 11
	SpanDroppedEvents = 12
	SpanLinks         = 13
	SpanDroppedLinks  = 14
	SpanStatus        = 15
	SpanFlags         = 16 // fixed32

	// Status.
	StatusMessage = 2
	StatusCode    = 3

	// Span.Event.
	EventTime         = 1 // fixed64
	EventName         = 2
	EventAttributes   = 3
	EventDroppedAttrs = 4

	// Span.Link.
	LinkTraceID      = 1
	LinkSpanID       = 2
	LinkTraceState   = 3
	LinkAttributes   = 4
	LinkDroppedAttrs = 5
	LinkFlags        = 6 // fixed32

	// LogRecord.
	LogTime           = 1 // fixed64
	LogSeverityNumber = 2
	LogSeverityText   = 3
	LogBody           = 5
	LogAttributes     = 6
	LogDroppedAttrs   = 7
	LogFlags          = 8 // fixed32
	LogTraceID        = 9
	LogSpanID         = 10
	LogObservedTime   = 11 // fixed64
	LogEventName      = 12
)
