package engine

import (
	"encoding/binary"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The blob of a block is written here, straight from pdata, as OTLP protobuf (the messages of
// opentelemetry-proto: trace/v1, logs/v1, common/v1) without the fields the other columns hold: the rows are
// neither copied nor changed. Decoding is pdata's own unmarshaler on the rows a query selects (rows.go).

// Field numbers of the OTLP messages written here.
const (
	fSpanTraceState     = 3
	fSpanFlags          = 16
	fSpanAttributes     = 9
	fSpanDroppedAttrs   = 10
	fSpanEvents         = 11
	fSpanDroppedEvents  = 12
	fSpanLinks          = 13
	fSpanDroppedLinks   = 14
	fSpanStatus         = 15
	fStatusMessage      = 2
	fEventTime          = 1
	fEventName          = 2
	fEventAttributes    = 3
	fEventDroppedAttrs  = 4
	fLinkTraceID        = 1
	fLinkSpanID         = 2
	fLinkTraceState     = 3
	fLinkAttributes     = 4
	fLinkDroppedAttrs   = 5
	fLinkFlags          = 6
	fLogSeverityText    = 3
	fLogBody            = 5
	fLogAttributes      = 6
	fLogDroppedAttrs    = 7
	fLogFlags           = 8
	fLogEventName       = 12
	fKeyValueKey        = 1
	fKeyValueValue      = 2
	fAnyString          = 1
	fAnyBool            = 2
	fAnyInt             = 3
	fAnyDouble          = 4
	fAnyArray           = 5
	fAnyKvlist          = 6
	fAnyBytes           = 7
	fListValues         = 1 // ArrayValue.values and KeyValueList.values
	wireVarint          = 0
	wireFixed64         = 1
	wireLen             = 2
	wireFixed32         = 5
	blobHeaderReserve   = 2 * (1 + binary.MaxVarintLen64)
	fDataResource       = 1 // TracesData.resource_spans, LogsData.resource_logs
	fResourceScopeItems = 2 // ResourceSpans.scope_spans, ResourceLogs.scope_logs
	fScopeItems         = 2 // ScopeSpans.spans, ScopeLogs.log_records
)

func appendTag(dst []byte, field, wire uint64) []byte {
	return binary.AppendUvarint(dst, field<<3|wire)
}

func appendStrField(dst []byte, field uint64, s string) []byte {
	if s == "" {
		return dst
	}
	dst = appendTag(dst, field, wireLen)
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendUintField(dst []byte, field, v uint64) []byte {
	if v == 0 {
		return dst
	}
	return binary.AppendUvarint(appendTag(dst, field, wireVarint), v)
}

func appendFixed32Field(dst []byte, field uint64, v uint32) []byte {
	if v == 0 {
		return dst
	}
	return binary.LittleEndian.AppendUint32(appendTag(dst, field, wireFixed32), v)
}

func appendFixed64Field(dst []byte, field uint64, v uint64) []byte {
	if v == 0 {
		return dst
	}
	return binary.LittleEndian.AppendUint64(appendTag(dst, field, wireFixed64), v)
}

// beginMsg starts a length-delimited field whose length endMsg fills in.
func beginMsg(dst []byte, field uint64) ([]byte, int) {
	dst = appendTag(dst, field, wireLen)
	dst = append(dst, 0)
	return dst, len(dst)
}

func endMsg(dst []byte, start int) []byte {
	l := len(dst) - start
	if n := uvarintLen(uint64(l)); n > 1 {
		dst = append(dst, make([]byte, n-1)...)
		copy(dst[start+n-1:], dst[start:start+l])
	}
	binary.PutUvarint(dst[start-1:], uint64(l))
	return dst
}

func appendKeyValue(dst []byte, field uint64, k string, v pcommon.Value) []byte {
	dst, s := beginMsg(dst, field)
	dst = appendStrField(dst, fKeyValueKey, k)
	dst = appendAnyValue(dst, fKeyValueValue, v)
	return endMsg(dst, s)
}

func appendAttrs(dst []byte, field uint64, m pcommon.Map) []byte {
	for k, v := range m.All() {
		dst = appendKeyValue(dst, field, k, v)
	}
	return dst
}

// appendAnyValue writes v as an AnyValue field. The value of a set oneof is written even when it is the zero
// value, so that its type survives.
func appendAnyValue(dst []byte, field uint64, v pcommon.Value) []byte {
	dst, s := beginMsg(dst, field)
	switch v.Type() {
	case pcommon.ValueTypeStr:
		dst = appendTag(dst, fAnyString, wireLen)
		dst = binary.AppendUvarint(dst, uint64(len(v.Str())))
		dst = append(dst, v.Str()...)
	case pcommon.ValueTypeBool:
		b := uint64(0)
		if v.Bool() {
			b = 1
		}
		dst = binary.AppendUvarint(appendTag(dst, fAnyBool, wireVarint), b)
	case pcommon.ValueTypeInt:
		dst = binary.AppendUvarint(appendTag(dst, fAnyInt, wireVarint), uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		dst = binary.LittleEndian.AppendUint64(appendTag(dst, fAnyDouble, wireFixed64), math.Float64bits(v.Double()))
	case pcommon.ValueTypeBytes:
		b := v.Bytes().AsRaw()
		dst = appendTag(dst, fAnyBytes, wireLen)
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	case pcommon.ValueTypeSlice:
		var a int
		dst, a = beginMsg(dst, fAnyArray)
		sl := v.Slice()
		for i := range sl.Len() {
			dst = appendAnyValue(dst, fListValues, sl.At(i))
		}
		dst = endMsg(dst, a)
	case pcommon.ValueTypeMap:
		var a int
		dst, a = beginMsg(dst, fAnyKvlist)
		dst = appendAttrs(dst, fListValues, v.Map())
		dst = endMsg(dst, a)
	}
	return endMsg(dst, s)
}

// beginBlob starts a blob: room for the headers of its one resource and scope.
func beginBlob(dst []byte) ([]byte, int) {
	start := len(dst)
	return append(dst, make([]byte, blobHeaderReserve)...), start
}

// endBlob writes the headers of the blob begun at start and returns it (a sub-slice of dst).
func endBlob(dst []byte, start int) []byte {
	rows := len(dst) - start - blobHeaderReserve
	var hdr [blobHeaderReserve]byte
	h := hdr[:0]
	scopeLen := rows
	resLen := 1 + uvarintLen(uint64(scopeLen)) + scopeLen
	h = appendTag(h, fDataResource, wireLen)
	h = binary.AppendUvarint(h, uint64(resLen))
	h = appendTag(h, fResourceScopeItems, wireLen)
	h = binary.AppendUvarint(h, uint64(scopeLen))
	at := start + blobHeaderReserve - len(h)
	copy(dst[at:], h)
	return dst[at:]
}

// appendSpanRow writes sp as a Span without the fields held in columns (trace, span and parent span IDs,
// times, name, kind, status code) and without its attributes except those at the positions keep.
func appendSpanRow(dst []byte, sp ptrace.Span, keep []int) []byte {
	dst, s := beginMsg(dst, fScopeItems)
	dst = appendStrField(dst, fSpanTraceState, sp.TraceState().AsRaw())
	dst = appendFixed32Field(dst, fSpanFlags, sp.Flags())
	dst = appendKept(dst, fSpanAttributes, sp.Attributes(), keep)
	dst = appendUintField(dst, fSpanDroppedAttrs, uint64(sp.DroppedAttributesCount()))
	evs := sp.Events()
	for i := range evs.Len() {
		ev := evs.At(i)
		var e int
		dst, e = beginMsg(dst, fSpanEvents)
		dst = appendFixed64Field(dst, fEventTime, uint64(ev.Timestamp()))
		dst = appendStrField(dst, fEventName, ev.Name())
		dst = appendAttrs(dst, fEventAttributes, ev.Attributes())
		dst = appendUintField(dst, fEventDroppedAttrs, uint64(ev.DroppedAttributesCount()))
		dst = endMsg(dst, e)
	}
	dst = appendUintField(dst, fSpanDroppedEvents, uint64(sp.DroppedEventsCount()))
	links := sp.Links()
	for i := range links.Len() {
		l := links.At(i)
		var e int
		dst, e = beginMsg(dst, fSpanLinks)
		if tid := l.TraceID(); !tid.IsEmpty() {
			dst = appendTag(dst, fLinkTraceID, wireLen)
			dst = binary.AppendUvarint(dst, uint64(len(tid)))
			dst = append(dst, tid[:]...)
		}
		if sid := l.SpanID(); !sid.IsEmpty() {
			dst = appendTag(dst, fLinkSpanID, wireLen)
			dst = binary.AppendUvarint(dst, uint64(len(sid)))
			dst = append(dst, sid[:]...)
		}
		dst = appendStrField(dst, fLinkTraceState, l.TraceState().AsRaw())
		dst = appendAttrs(dst, fLinkAttributes, l.Attributes())
		dst = appendUintField(dst, fLinkDroppedAttrs, uint64(l.DroppedAttributesCount()))
		dst = appendFixed32Field(dst, fLinkFlags, l.Flags())
		dst = endMsg(dst, e)
	}
	dst = appendUintField(dst, fSpanDroppedLinks, uint64(sp.DroppedLinksCount()))
	if msg := sp.Status().Message(); msg != "" {
		var e int
		dst, e = beginMsg(dst, fSpanStatus)
		dst = appendStrField(dst, fStatusMessage, msg)
		dst = endMsg(dst, e)
	}
	return endMsg(dst, s)
}

// appendKept writes the attributes of m at the positions keep (ascending).
func appendKept(dst []byte, field uint64, m pcommon.Map, keep []int) []byte {
	if len(keep) == 0 {
		return dst
	}
	i, next := 0, 0
	for k, v := range m.All() {
		if i == keep[next] {
			dst = appendKeyValue(dst, field, k, v)
			if next++; next == len(keep) {
				break
			}
		}
		i++
	}
	return dst
}

// appendLogRow writes rec as a LogRecord without the fields held in columns (times, severity number, trace
// and span IDs, a string body) and without its attributes except those at the positions keep.
func appendLogRow(dst []byte, rec plog.LogRecord, keep []int) []byte {
	dst, s := beginMsg(dst, fScopeItems)
	dst = appendStrField(dst, fLogSeverityText, rec.SeverityText())
	if b := rec.Body(); b.Type() != pcommon.ValueTypeStr && b.Type() != pcommon.ValueTypeEmpty {
		dst = appendAnyValue(dst, fLogBody, b)
	}
	dst = appendKept(dst, fLogAttributes, rec.Attributes(), keep)
	dst = appendUintField(dst, fLogDroppedAttrs, uint64(rec.DroppedAttributesCount()))
	dst = appendFixed32Field(dst, fLogFlags, uint32(rec.Flags()))
	dst = appendStrField(dst, fLogEventName, rec.EventName())
	return endMsg(dst, s)
}
