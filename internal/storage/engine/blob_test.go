package engine

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// putOddValues puts attributes of every type, zero values and a repeated key into m.
func putOddValues(m pcommon.Map) {
	m.PutStr("s", "v")
	m.PutStr("empty", "")
	m.PutInt("neg", -7)
	m.PutInt("zero", 0)
	m.PutBool("f", false)
	m.PutDouble("d", 0)
	m.PutEmptyBytes("b")
	m.PutEmptyBytes("b2").FromRaw([]byte{0, 1, 2})
	m.PutEmptySlice("sl")
	sl := m.PutEmptySlice("sl2")
	sl.AppendEmpty().SetStr("")
	sl.AppendEmpty()
	sl.AppendEmpty().SetEmptyMap().PutInt("x", 1)
	m.PutEmptyMap("m")
	m.PutEmptyMap("m2").PutEmptyMap("inner").PutDouble("pi", 3.14)
	m.PutEmpty("nothing")
}

// The blob and attribute column of a block give back every field of spans and log records (with the fields
// of the other columns put back), compared as OTLP protobuf.
func TestBlobRoundTrip(t *testing.T) {
	td := ptrace.NewTraces()
	sl := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	sl.AppendEmpty() // an empty span
	sp := sl.AppendEmpty()
	sp.SetName("n")
	sp.TraceState().FromRaw("a=b")
	sp.SetFlags(0x301)
	putOddValues(sp.Attributes())
	sp.SetDroppedAttributesCount(3)
	ev := sp.Events().AppendEmpty()
	ev.SetTimestamp(5)
	putOddValues(ev.Attributes())
	ev.SetDroppedAttributesCount(1)
	sp.Events().AppendEmpty() // an empty event
	sp.SetDroppedEventsCount(2)
	l := sp.Links().AppendEmpty()
	l.SetSpanID(pcommon.SpanID{1})
	l.TraceState().FromRaw("x=y")
	l.SetFlags(1)
	l.SetDroppedAttributesCount(4)
	l.Attributes().PutStr("k", "v")
	sp.Links().AppendEmpty().SetTraceID(pcommon.TraceID{2})
	sp.SetDroppedLinksCount(9)
	sp.Status().SetMessage("why")

	for _, wire := range []bool{false, true} {
		checkSpanBlob(t, td, wire)
	}

	ld := plog.NewLogs()
	rs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	rs.AppendEmpty()
	rec := rs.AppendEmpty()
	rec.SetSeverityText("WARN")
	putOddValues(rec.Body().SetEmptyMap())
	putOddValues(rec.Attributes())
	rec.SetDroppedAttributesCount(1)
	rec.SetFlags(1)
	rec.SetEventName("e")
	rs.AppendEmpty().Body().SetEmptyBytes()
	rs.AppendEmpty().Body().SetStr("a string body")
	for _, wire := range []bool{false, true} {
		checkLogBlob(t, ld, wire)
	}
}

// checkSpanBlob writes the spans of td's first scope as a blob and an attribute column, from pdata or read
// in place from td's encoding (wire), and compares what they give back with td.
func checkSpanBlob(t *testing.T, td ptrace.Traces, wire bool) {
	t.Helper()
	sl := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	var ac attrCols
	ac.reset()
	buf, start := beginBlob(nil)
	if wire {
		raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		sc, err := scanSpans(raw, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sp wireSpan
		for _, it := range sc.items {
			if buf, err = appendSpanWire(buf, it.msg, &ac, &sp); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		for i := range sl.Len() {
			buf = appendSpanRow(buf, sl.At(i), ac.add(sl.At(i).Attributes()))
		}
	}
	got, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(endBlob(buf, start))
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeAttrCols(ac.encode(nil), sl.Len(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	gl := got.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := range sl.Len() {
		g := gl.At(i)
		d.restore(i, g.Attributes())
		g.SetName(sl.At(i).Name()) // a column
		want, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(spanAlone(sl.At(i)))
		have, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(spanAlone(g))
		if !bytes.Equal(want, have) {
			t.Fatalf("wire=%v: span %d differs:\n got %x\nwant %x", wire, i, have, want)
		}
	}
}

// checkLogBlob is checkSpanBlob for log records (a string body is a column: it is put back from rs).
func checkLogBlob(t *testing.T, ld plog.Logs, wire bool) {
	t.Helper()
	rs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	var ac attrCols
	ac.reset()
	buf, start := beginBlob(nil)
	if wire {
		raw, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
		sc, err := scanLogs(raw)
		if err != nil {
			t.Fatal(err)
		}
		var l wireLog
		for _, it := range sc.items {
			if buf, _, err = appendLogWire(buf, it.msg, &ac, &l); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		for i := range rs.Len() {
			buf = appendLogRow(buf, rs.At(i), ac.add(rs.At(i).Attributes()))
		}
	}
	gotL, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(endBlob(buf, start))
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeAttrCols(ac.encode(nil), rs.Len(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	gr := gotL.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i := range rs.Len() {
		d.restore(i, gr.At(i).Attributes())
		if b := rs.At(i).Body(); b.Type() == pcommon.ValueTypeStr {
			gr.At(i).Body().SetStr(b.Str())
		}
		want, _ := (&plog.ProtoMarshaler{}).MarshalLogs(logAlone(rs.At(i)))
		have, _ := (&plog.ProtoMarshaler{}).MarshalLogs(logAlone(gr.At(i)))
		if !bytes.Equal(want, have) {
			t.Fatalf("wire=%v: log record %d differs:\n got %x\nwant %x", wire, i, have, want)
		}
	}
}

func spanAlone(sp ptrace.Span) ptrace.Traces {
	td := ptrace.NewTraces()
	sp.CopyTo(td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty())
	return td
}

func logAlone(rec plog.LogRecord) plog.Logs {
	ld := plog.NewLogs()
	rec.CopyTo(ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
	return ld
}
