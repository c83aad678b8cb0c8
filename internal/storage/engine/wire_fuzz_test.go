package engine

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
	"github.com/otlpd/otlpd/internal/workload"
)

// spanFromWire rebuilds a span from what a flush stores of it read in place: the columns (sp), the
// attribute column (row i of d) and the blob.
func spanFromWire(t *testing.T, blob []byte, d *attrColsDec, i int, sp *wireSpan) ptrace.Span {
	t.Helper()
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(blob)
	if err != nil {
		t.Fatalf("blob does not decode: %v", err)
	}
	g := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	d.restore(i, g.Attributes())
	g.SetTraceID(pcommon.TraceID(sp.traceID))
	g.SetSpanID(sp.spanID)
	g.SetParentSpanID(sp.parentID)
	g.SetName(string(sp.name))
	g.SetKind(ptrace.SpanKind(int32(sp.kind)))
	g.SetStartTimestamp(pcommon.Timestamp(sp.start))
	g.SetEndTimestamp(pcommon.Timestamp(sp.end))
	g.Status().SetCode(ptrace.StatusCode(int32(sp.statusCode)))
	return g
}

// FuzzWireSpans checks the flush's in-place reading against pdata: for a TracesData message that pdata
// decodes and the write's scan accepts, every span written by appendSpanWire (blob, attribute column and
// column fields) gives back what pdata decodes, and its group's attribute set decodes to its resource and
// scope.
func FuzzWireSpans(f *testing.F) {
	gen := workload.New(5, workload.Options{})
	raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(gen.NextTraces(3))
	f.Add(raw)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	putOddValues(rs.Resource().Attributes())
	rs.SetSchemaUrl("s")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("sc")
	sp := ss.Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1})
	putOddValues(sp.Attributes())
	sp.Events().AppendEmpty().SetName("ev")
	sp.Links().AppendEmpty().SetSpanID(pcommon.SpanID{3})
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.Status().SetMessage("m")
	raw, _ = (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
		if err != nil {
			return
		}
		sc, err := scanSpans(raw, nil, nil)
		if err != nil {
			return
		}
		var wantSpans []ptrace.Span
		var wantGroups []ptrace.ResourceSpans
		for _, rs := range want.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					wantSpans = append(wantSpans, sp)
					g := ptrace.NewResourceSpans()
					rs.Resource().CopyTo(g.Resource())
					g.SetSchemaUrl(rs.SchemaUrl())
					s := g.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(s.Scope())
					s.SetSchemaUrl(ss.SchemaUrl())
					wantGroups = append(wantGroups, g)
				}
			}
		}
		if len(sc.items) != len(wantSpans) {
			t.Fatalf("scan found %d spans, pdata %d", len(sc.items), len(wantSpans))
		}
		for i, it := range sc.items {
			var ac attrCols
			ac.reset()
			buf, start := beginBlob(nil)
			var ws wireSpan
			buf, err := appendSpanWire(buf, it.msg, &ac, &ws)
			if err != nil {
				t.Fatalf("span %d: scan accepted, flush refused: %v", i, err)
			}
			d, err := decodeAttrCols(ac.encode(nil), 1, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := spanFromWire(t, endBlob(buf, start), d, 0, &ws)
			if storage.TraceID(got.TraceID()) != sc.ids[i] || int64(got.StartTimestamp()) != it.ts {
				t.Fatalf("span %d: scan and flush disagree on trace ID or start", i)
			}
			a, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(spanAlone(wantSpans[i]))
			b, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(spanAlone(got))
			if !bytes.Equal(a, b) {
				t.Fatalf("span %d differs from pdata:\n got %x\nwant %x", i, b, a)
			}
			g, err := decodeGroup(encodeWireGroup(&sc.groups[it.grp]))
			if err != nil {
				t.Fatalf("span %d: group: %v", i, err)
			}
			wg := wantGroups[i]
			if !g.res.Attributes().Equal(wg.Resource().Attributes()) || g.resSchema != wg.SchemaUrl() ||
				g.scope.Name() != wg.ScopeSpans().At(0).Scope().Name() || g.scopeSchema != wg.ScopeSpans().At(0).SchemaUrl() ||
				!g.scope.Attributes().Equal(wg.ScopeSpans().At(0).Scope().Attributes()) {
				t.Fatalf("span %d: group differs from pdata", i)
			}
		}
	})
}

// FuzzWireLogs is FuzzWireSpans for log records.
func FuzzWireLogs(f *testing.F) {
	gen := workload.New(5, workload.Options{})
	raw, _ := (&plog.ProtoMarshaler{}).MarshalLogs(gen.NextLogs(3))
	f.Add(raw)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rec := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	putOddValues(rec.Attributes())
	putOddValues(rec.Body().SetEmptyMap())
	rec.SetSeverityText("x")
	rl.ScopeLogs().At(0).LogRecords().AppendEmpty().Body().SetStr("a body")
	raw, _ = (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
		if err != nil {
			return
		}
		sc, err := scanLogs(raw)
		if err != nil {
			return
		}
		var wantRecs []plog.LogRecord
		for _, rl := range want.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, rec := range sl.LogRecords().All() {
					wantRecs = append(wantRecs, rec)
				}
			}
		}
		if len(sc.items) != len(wantRecs) {
			t.Fatalf("scan found %d records, pdata %d", len(sc.items), len(wantRecs))
		}
		for i, it := range sc.items {
			var ac attrCols
			ac.reset()
			buf, start := beginBlob(nil)
			var wl wireLog
			buf, body, err := appendLogWire(buf, it.msg, &ac, &wl)
			if err != nil {
				t.Fatalf("record %d: scan accepted, flush refused: %v", i, err)
			}
			d, err := decodeAttrCols(ac.encode(nil), 1, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			gl, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(endBlob(buf, start))
			if err != nil {
				t.Fatalf("blob does not decode: %v", err)
			}
			got := gl.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			d.restore(0, got.Attributes())
			got.SetTimestamp(pcommon.Timestamp(wl.time))
			got.SetObservedTimestamp(pcommon.Timestamp(wl.observed))
			got.SetSeverityNumber(plog.SeverityNumber(int32(wl.severity)))
			got.SetTraceID(pcommon.TraceID(wl.traceID))
			got.SetSpanID(wl.spanID)
			if body.Kind == 1 { // a string body is a column
				got.Body().SetStr(string(body.Bytes))
			}
			if it.ts != wl.ts() {
				t.Fatalf("record %d: scan and flush disagree on the time", i)
			}
			a, _ := (&plog.ProtoMarshaler{}).MarshalLogs(logAlone(wantRecs[i]))
			b, _ := (&plog.ProtoMarshaler{}).MarshalLogs(logAlone(got))
			if !bytes.Equal(a, b) {
				t.Fatalf("record %d differs from pdata:\n got %x\nwant %x", i, b, a)
			}
		}
	})
}

// FuzzValueTokens checks that the words valueTokens gives for an AnyValue include every word of its string
// form (what a body search of a map or array body looks for), whenever it answers.
func FuzzValueTokens(f *testing.F) {
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	putOddValues(recs.AppendEmpty().Body().SetEmptyMap())
	m := recs.AppendEmpty().Body().SetEmptyMap()
	m.PutStr("msg", "user 42 logged in from 10.0.0.1")
	m.PutInt("code", -17)
	m.PutBool("ok", true)
	m.PutStr("esc", "a\nb \"q\" \\ c\u2028d")
	m.PutStr("ünï", "çödé")
	m.PutEmptySlice("list").AppendEmpty().SetStr("x_y z")
	// One that valueTokens answers for (no double, bytes or escaped character).
	clean := recs.AppendEmpty().Body().SetEmptyMap()
	clean.PutStr("msg", "order 1234 shipped to café")
	clean.PutInt("items", 3)
	clean.PutBool("gift", false)
	clean.PutEmpty("note")
	clean.PutEmptyMap("user").PutStr("id", "user-77")
	clean.PutEmptySlice("tags").AppendEmpty().SetStr("express")
	raw, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	sc, err := scanLogs(raw)
	if err != nil {
		f.Fatal(err)
	}
	for _, it := range sc.items {
		var l wireLog
		readLog(it.msg, &l)
		f.Add(l.body)
	}
	f.Fuzz(func(t *testing.T, any []byte) {
		v, err := otlpwire.ReadValue(any)
		if err != nil {
			return
		}
		got := map[string]bool{}
		if !valueTokens(v, func(s string) { got[s] = true }, 0) {
			return
		}
		part.Tokens(valueString(v), func(s string) {
			if !got[s] {
				t.Fatalf("word %q of %q missing from %v", s, valueString(v), got)
			}
		})
	})
}
