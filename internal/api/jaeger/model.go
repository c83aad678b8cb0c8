package jaeger

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Trace is a Jaeger trace.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is a Jaeger span. Times are microseconds (since the Unix epoch for StartTime).
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	Flags         uint32      `json:"flags,omitempty"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []KeyValue  `json:"tags"`
	Logs          []Log       `json:"logs"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

// Reference links a span to another.
type Reference struct {
	RefType string `json:"refType"` // CHILD_OF or FOLLOWS_FROM
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Process is the service that emitted spans.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// Log is a timestamped event of a span.
type Log struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []KeyValue `json:"fields"`
}

// KeyValue is a typed tag: Type is string, bool, int64, float64 or binary (base64 value).
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// noServiceName is the process name of spans whose resource has no service.name, as Jaeger translators
// write it.
const noServiceName = "OTLPResourceNoServiceName"

var kindTags = map[ptrace.SpanKind]string{
	ptrace.SpanKindClient: "client", ptrace.SpanKindServer: "server", ptrace.SpanKindProducer: "producer",
	ptrace.SpanKindConsumer: "consumer", ptrace.SpanKindInternal: "internal",
}

// KindString is the Jaeger name of a span kind ("" for unspecified).
func KindString(k ptrace.SpanKind) string { return kindTags[k] }

// ParseKind reads a Jaeger span kind name; ok is false for an unknown name. "" is unspecified (any).
func ParseKind(s string) (ptrace.SpanKind, bool) {
	if s == "" {
		return ptrace.SpanKindUnspecified, true
	}
	for k, v := range kindTags {
		if v == s {
			return k, true
		}
	}
	return 0, false
}

func traceIDHex(id pcommon.TraceID) string { return hex.EncodeToString(id[:]) }
func spanIDHex(id pcommon.SpanID) string   { return hex.EncodeToString(id[:]) }

func micros(ts pcommon.Timestamp) int64 { return int64(ts) / 1000 }

// keyValue translates one attribute.
func keyValue(k string, v pcommon.Value) KeyValue {
	switch v.Type() {
	case pcommon.ValueTypeBool:
		return KeyValue{Key: k, Type: "bool", Value: v.Bool()}
	case pcommon.ValueTypeInt:
		return KeyValue{Key: k, Type: "int64", Value: v.Int()}
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if math.IsNaN(d) || math.IsInf(d, 0) { // JSON has no NaN or infinities
			return KeyValue{Key: k, Type: "float64", Value: strconv.FormatFloat(d, 'g', -1, 64)}
		}
		return KeyValue{Key: k, Type: "float64", Value: d}
	case pcommon.ValueTypeBytes:
		return KeyValue{Key: k, Type: "binary", Value: base64.StdEncoding.EncodeToString(v.Bytes().AsRaw())}
	case pcommon.ValueTypeStr:
		return KeyValue{Key: k, Type: "string", Value: v.Str()}
	}
	return KeyValue{Key: k, Type: "string", Value: v.AsString()} // maps and arrays as JSON; empty as ""
}

func appendAttrs(dst []KeyValue, m pcommon.Map) []KeyValue {
	for k, v := range m.All() {
		dst = append(dst, keyValue(k, v))
	}
	return dst
}

func str(k, v string) KeyValue { return KeyValue{Key: k, Type: "string", Value: v} }

// processOf translates a resource.
func processOf(res pcommon.Resource) Process {
	p := Process{ServiceName: noServiceName, Tags: []KeyValue{}}
	for k, v := range res.Attributes().All() {
		if k == "service.name" {
			p.ServiceName = v.AsString()
			continue
		}
		p.Tags = append(p.Tags, keyValue(k, v))
	}
	return p
}

// spanOf translates one span; processID names its (already translated) resource.
func spanOf(scope pcommon.InstrumentationScope, sp ptrace.Span, processID string) Span {
	tid := traceIDHex(sp.TraceID())
	out := Span{
		TraceID:       tid,
		SpanID:        spanIDHex(sp.SpanID()),
		Flags:         sp.Flags() & 0xff, // the W3C trace flags (bit 0: sampled)
		OperationName: sp.Name(),
		References:    []Reference{},
		StartTime:     micros(sp.StartTimestamp()),
		Tags:          make([]KeyValue, 0, sp.Attributes().Len()+4),
		Logs:          []Log{},
		ProcessID:     processID,
	}
	if sp.EndTimestamp() > sp.StartTimestamp() {
		out.Duration = int64(sp.EndTimestamp()-sp.StartTimestamp()) / 1000
	}
	if p := sp.ParentSpanID(); !p.IsEmpty() {
		out.References = append(out.References, Reference{RefType: "CHILD_OF", TraceID: tid, SpanID: spanIDHex(p)})
	}
	for i := range sp.Links().Len() {
		l := sp.Links().At(i)
		out.References = append(out.References, Reference{RefType: "FOLLOWS_FROM", TraceID: traceIDHex(l.TraceID()), SpanID: spanIDHex(l.SpanID())})
	}
	out.Tags = appendAttrs(out.Tags, sp.Attributes())
	if n := scope.Name(); n != "" {
		out.Tags = append(out.Tags, str("otel.scope.name", n))
	}
	if v := scope.Version(); v != "" {
		out.Tags = append(out.Tags, str("otel.scope.version", v))
	}
	if k, ok := kindTags[sp.Kind()]; ok {
		out.Tags = append(out.Tags, str("span.kind", k))
	}
	switch sp.Status().Code() {
	case ptrace.StatusCodeOk:
		out.Tags = append(out.Tags, str("otel.status_code", "OK"))
	case ptrace.StatusCodeError:
		out.Tags = append(out.Tags, str("otel.status_code", "ERROR"))
		if _, has := sp.Attributes().Get("error"); !has {
			out.Tags = append(out.Tags, KeyValue{Key: "error", Type: "bool", Value: true})
		}
		if m := sp.Status().Message(); m != "" {
			out.Tags = append(out.Tags, str("otel.status_description", m))
		}
	}
	if ts := sp.TraceState().AsRaw(); ts != "" {
		out.Tags = append(out.Tags, str("w3c.tracestate", ts))
	}
	for i := range sp.Events().Len() {
		ev := sp.Events().At(i)
		l := Log{Timestamp: micros(ev.Timestamp()), Fields: make([]KeyValue, 0, ev.Attributes().Len()+1)}
		if ev.Name() != "" {
			l.Fields = append(l.Fields, str("event", ev.Name()))
		}
		l.Fields = appendAttrs(l.Fields, ev.Attributes())
		out.Logs = append(out.Logs, l)
	}
	return out
}

// traceBuilder translates the spans of one trace, page by page, numbering processes p1, p2, ... in order of
// first appearance and sharing one process between resources that translate identically.
type traceBuilder struct {
	processes map[string]Process
	byKey     map[string]string // process JSON -> ID
}

func newTraceBuilder() *traceBuilder {
	return &traceBuilder{processes: map[string]Process{}, byKey: map[string]string{}}
}

func (b *traceBuilder) processID(res pcommon.Resource) string {
	p := processOf(res)
	key, _ := json.Marshal(p)
	if id, ok := b.byKey[string(key)]; ok {
		return id
	}
	id := "p" + strconv.Itoa(len(b.byKey)+1)
	b.byKey[string(key)] = id
	b.processes[id] = p
	return id
}

// add translates every span of td, calling emit for each; it stops early when emit returns false.
func (b *traceBuilder) add(td ptrace.Traces, emit func(Span) bool) bool {
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		pid := b.processID(rs.Resource())
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := range spans.Len() {
				if !emit(spanOf(ss.Scope(), spans.At(k), pid)) {
					return false
				}
			}
		}
	}
	return true
}

// normalizeTraceID turns 1 to 32 hex digits into the 32 lowercase digits Jaeger clients compare with.
func normalizeTraceID(s string) string {
	return strings.Repeat("0", max(32-len(s), 0)) + strings.ToLower(s)
}
