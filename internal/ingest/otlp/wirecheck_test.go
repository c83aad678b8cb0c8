package otlp

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage/engine"
)

// The wire check is tested against the slow path it stands in for: decode (with salvage) and validate. What
// the check accepts, the slow path must accept whole, with as many items, and pdata's plain decoding of the
// body (what the pipeline does for consumers that want pdata) must give the same batch.

// slowTraces runs the slow path on body and reports whether it accepted the request whole (nothing salvaged,
// rejected or removed) and with how many spans.
func slowTraces(t testing.TB, body []byte, maxAttr int) (int, bool) {
	t.Helper()
	td, rej, err := decodeTraces(body, formatProto)
	if err != nil || rej.count != 0 {
		return 0, false
	}
	before := must((&ptrace.ProtoMarshaler{}).MarshalTraces(td))
	rej = validateTraces(td, maxAttr)
	if rej.count != 0 || len(rej.problems) != 0 {
		return 0, false
	}
	after := must((&ptrace.ProtoMarshaler{}).MarshalTraces(td))
	if !bytes.Equal(before, after) {
		return 0, false // validation removed an empty resource or scope
	}
	plain, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body)
	if err != nil {
		t.Fatalf("the receiver decodes the body but the pipeline's decoder does not: %v", err)
	}
	if !bytes.Equal(must((&ptrace.ProtoMarshaler{}).MarshalTraces(plain)), after) {
		return 0, false // the export request's decoding differs from TracesData's (deprecated fields)
	}
	return td.SpanCount(), true
}

// slowLogs is slowTraces for logs.
func slowLogs(t testing.TB, body []byte, maxAttr int) (int, bool) {
	t.Helper()
	ld, rej, err := decodeLogs(body, formatProto)
	if err != nil || rej.count != 0 {
		return 0, false
	}
	before := must((&plog.ProtoMarshaler{}).MarshalLogs(ld))
	rej = validateLogs(ld, maxAttr)
	if rej.count != 0 || len(rej.problems) != 0 {
		return 0, false
	}
	after := must((&plog.ProtoMarshaler{}).MarshalLogs(ld))
	if !bytes.Equal(before, after) {
		return 0, false
	}
	plain, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(body)
	if err != nil {
		t.Fatalf("the receiver decodes the body but the pipeline's decoder does not: %v", err)
	}
	if !bytes.Equal(must((&plog.ProtoMarshaler{}).MarshalLogs(plain)), after) {
		return 0, false
	}
	return ld.LogRecordCount(), true
}

// agree fails t when the check accepted what the slow path does not accept whole, or counted differently.
func agree(t testing.TB, signal string, body []byte, maxAttr int) (checked bool) {
	t.Helper()
	var n, sn int
	var ok, sok bool
	idx := &otlpwire.Index{}
	if signal == "traces" {
		n, ok = CheckTraces(body, maxAttr, idx)
		if ok {
			sn, sok = slowTraces(t, body, maxAttr)
		}
	} else {
		n, ok = CheckLogs(body, maxAttr, idx)
		if ok {
			sn, sok = slowLogs(t, body, maxAttr)
		}
	}
	check := CheckLogs
	if signal == "traces" {
		check = CheckTraces
	}
	if n2, ok2 := check(body, maxAttr, nil); n2 != n || ok2 != ok {
		t.Fatalf("check with an index: %d, %v; without: %d, %v", n, ok, n2, ok2)
	}
	if ok && (!sok || sn != n) {
		t.Fatalf("check accepted %d %s; slow path accepted whole: %v, %d items", n, signal, sok, sn)
	}
	if ok {
		sameIndex(t, signal, body, idx)
		// What the check passes goes to the engine as it is (RawSpanWriter), with its index, and without:
		// the engine must take both.
		e := checkEngine(t)
		var err error
		for _, x := range []*otlpwire.Index{idx, nil} {
			if signal == "traces" {
				err = e.WriteSpansRaw(context.Background(), body, x)
			} else {
				err = e.WriteLogsRaw(context.Background(), body, x)
			}
			if err != nil {
				t.Fatalf("check accepted %d %s; the engine refuses them (index given: %v): %v", n, signal, x != nil, err)
			}
		}
	}
	return ok
}

// sameIndex fails t unless idx, the check's index of body, describes the items pdata decodes from body: for
// each item in order, the message with its group's resource and scope decodes (as a request of one item) to
// the same item, resource and scope as pdata's, and its time (and for spans the trace ID, name and kind) is
// the item's.
func sameIndex(t testing.TB, signal string, body []byte, idx *otlpwire.Index) {
	t.Helper()
	one := func(it otlpwire.Item) []byte { // a request of the item alone, in its group
		if it.Group < 0 || int(it.Group) >= len(idx.Groups) {
			t.Fatalf("item in group %d of %d", it.Group, len(idx.Groups))
		}
		g := idx.Groups[it.Group]
		var sc, rs []byte
		if g.Scope != nil {
			sc = append(sc, bf(1, g.Scope)...)
		}
		sc = append(sc, bf(2, it.Msg)...)
		if g.ScopeSchema != nil {
			sc = append(sc, bf(3, g.ScopeSchema)...)
		}
		if g.Resource != nil {
			rs = append(rs, bf(1, g.Resource)...)
		}
		rs = append(rs, bf(2, sc)...)
		if g.ResourceSchema != nil {
			rs = append(rs, bf(3, g.ResourceSchema)...)
		}
		return bf(1, rs)
	}
	if signal == "traces" {
		td := must((&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body))
		if len(idx.Items) != td.SpanCount() || len(idx.Spans) != len(idx.Items) {
			t.Fatalf("index of %d spans (%d keys), pdata %d", len(idx.Items), len(idx.Spans), td.SpanCount())
		}
		i := 0
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					it, k := idx.Items[i], idx.Spans[i]
					want := ptrace.NewTraces()
					r := want.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(r.Resource())
					r.SetSchemaUrl(rs.SchemaUrl())
					s := r.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(s.Scope())
					s.SetSchemaUrl(ss.SchemaUrl())
					sp.CopyTo(s.Spans().AppendEmpty())
					got := must((&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(one(it)))
					if !bytes.Equal(must((&ptrace.ProtoMarshaler{}).MarshalTraces(got)), must((&ptrace.ProtoMarshaler{}).MarshalTraces(want))) {
						t.Fatalf("span %d: the index's message and group are not pdata's span", i)
					}
					if it.TS != int64(sp.StartTimestamp()) || k.TraceID != [16]byte(sp.TraceID()) || string(k.Name) != sp.Name() ||
						k.Kind != uint32(sp.Kind()) {
						t.Fatalf("span %d: index has time %d, trace %x, name %q, kind %d; pdata %d, %x, %q, %d", i, it.TS,
							k.TraceID, k.Name, k.Kind, sp.StartTimestamp(), [16]byte(sp.TraceID()), sp.Name(), sp.Kind())
					}
					if k.SpanID != [8]byte(sp.SpanID()) || k.End != int64(sp.EndTimestamp()) || k.Status != uint32(sp.Status().Code()) ||
						k.NameH != otlpwire.HashName([]byte(sp.Name())) {
						t.Fatalf("span %d: index has span %x, end %d, status %d; pdata %x, %d, %d", i, k.SpanID, k.End, k.Status,
							[8]byte(sp.SpanID()), sp.EndTimestamp(), sp.Status().Code())
					}
					i++
				}
			}
		}
		return
	}
	ld := must((&plog.ProtoUnmarshaler{}).UnmarshalLogs(body))
	if len(idx.Items) != ld.LogRecordCount() || len(idx.Spans) != 0 {
		t.Fatalf("index of %d records (%d span keys), pdata %d", len(idx.Items), len(idx.Spans), ld.LogRecordCount())
	}
	i := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				it := idx.Items[i]
				want := plog.NewLogs()
				r := want.ResourceLogs().AppendEmpty()
				rl.Resource().CopyTo(r.Resource())
				r.SetSchemaUrl(rl.SchemaUrl())
				s := r.ScopeLogs().AppendEmpty()
				sl.Scope().CopyTo(s.Scope())
				s.SetSchemaUrl(sl.SchemaUrl())
				lr.CopyTo(s.LogRecords().AppendEmpty())
				got := must((&plog.ProtoUnmarshaler{}).UnmarshalLogs(one(it)))
				if !bytes.Equal(must((&plog.ProtoMarshaler{}).MarshalLogs(got)), must((&plog.ProtoMarshaler{}).MarshalLogs(want))) {
					t.Fatalf("record %d: the index's message and group are not pdata's record", i)
				}
				ts := int64(lr.Timestamp())
				if ts == 0 {
					ts = int64(lr.ObservedTimestamp())
				}
				if it.TS != ts {
					t.Fatalf("record %d: index has time %d, pdata %d", i, it.TS, ts)
				}
				i++
			}
		}
	}
}

var (
	checkEngineOnce sync.Once
	checkEng        *engine.Engine
	checkEngDir     string
	checkEngErr     error
)

// checkEngine returns an engine (no fsync, in a temporary directory) shared by the wire check tests.
func checkEngine(t testing.TB) *engine.Engine {
	checkEngineOnce.Do(func() {
		if checkEngDir, checkEngErr = os.MkdirTemp("", "otlpd-wirecheck-"); checkEngErr != nil {
			return
		}
		checkEng, checkEngErr = engine.Open(checkEngDir, engine.Options{Sync: engine.SyncNone})
	})
	if checkEngErr != nil {
		t.Fatal(checkEngErr)
	}
	return checkEng
}

func closeCheckEngine() {
	if checkEng != nil {
		checkEng.Close()
	}
	if checkEngDir != "" {
		os.RemoveAll(checkEngDir)
	}
}

func TestCheckWireWorkload(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		for _, n := range []int{1, 10, 500} {
			tb := must(ptraceotlp.NewExportRequestFromTraces(genTraces(seed, n)).MarshalProto())
			if !agree(t, "traces", tb, 64<<10) {
				t.Fatalf("seed %d: check refused %d workload spans", seed, n)
			}
			lb := must(plogotlp.NewExportRequestFromLogs(genLogs(seed, n)).MarshalProto())
			if !agree(t, "logs", lb, 64<<10) {
				t.Fatalf("seed %d: check refused %d workload log records", seed, n)
			}
			if seed == 3 {
				// The same requests as protobuf-go (the SDKs) encodes them: fields in order, where pdata
				// writes them in reverse.
				var tr coltrace.ExportTraceServiceRequest
				var lr collogs.ExportLogsServiceRequest
				if err := proto.Unmarshal(tb, &tr); err != nil {
					t.Fatal(err)
				}
				if err := proto.Unmarshal(lb, &lr); err != nil {
					t.Fatal(err)
				}
				tb, lb = must(proto.Marshal(&tr)), must(proto.Marshal(&lr))
				if !agree(t, "traces", tb, 64<<10) || !agree(t, "logs", lb, 64<<10) {
					t.Fatalf("check refused %d workload items in protobuf-go's encoding", n)
				}
			}
			// A limit below some values: the check must refuse exactly when validation would reject.
			for _, max := range []int{8, 40} {
				_, sok := slowTraces(t, tb, max)
				if ok := agree(t, "traces", tb, max); ok != sok {
					t.Fatalf("seed %d, %d spans, limit %d: check %v, slow path %v", seed, n, max, ok, sok)
				}
				_, sok = slowLogs(t, lb, max)
				if ok := agree(t, "logs", lb, max); ok != sok {
					t.Fatalf("seed %d, %d records, limit %d: check %v, slow path %v", seed, n, max, ok, sok)
				}
			}
		}
	}
}

// --- hand-made messages ---

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func bf(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func sf(num protowire.Number, s string) []byte { return bf(num, []byte(s)) }

func vf(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func f64(num protowire.Number, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, num, protowire.Fixed64Type), v)
}

func f32(num protowire.Number, v uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(nil, num, protowire.Fixed32Type), v)
}

func group(num protowire.Number) []byte {
	b := protowire.AppendTag(nil, num, protowire.StartGroupType)
	b = append(b, vf(1, 5)...)
	return protowire.AppendTag(b, num, protowire.EndGroupType)
}

func strVal(s string) []byte         { return sf(1, s) }
func kv(k string, val []byte) []byte { return cat(sf(1, k), bf(2, val)) }
func arrVal(vals ...[]byte) []byte   { return bf(5, cat(fieldsOf(1, vals)...)) }
func mapVal(kvs ...[]byte) []byte    { return bf(6, cat(fieldsOf(1, kvs)...)) }
func fieldsOf(num protowire.Number, msgs [][]byte) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = bf(num, m)
	}
	return out
}

// nested returns a string value inside depth arrays.
func nested(depth int, s string) []byte {
	v := strVal(s)
	for range depth {
		v = arrVal(v)
	}
	return v
}

var (
	wTrace = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	wSpan  = []byte{1, 2, 3, 4, 5, 6, 7, 8}
)

// span returns a valid Span message followed by extra fields.
func wSpanMsg(extra ...[]byte) []byte {
	return cat(append([][]byte{bf(1, wTrace), bf(2, wSpan), sf(5, "op"), f64(7, 1), f64(8, 2)}, extra...)...)
}

// spanNoIDs is a valid span without its IDs, for cases that set them.
func spanNoIDs(extra ...[]byte) []byte {
	return cat(append([][]byte{sf(5, "op"), f64(7, 1), f64(8, 2)}, extra...)...)
}

// tracesBody wraps scope-level fields in one resource with resource fields res.
func tracesBody(res []byte, scopes ...[]byte) []byte {
	rs := bf(1, res)
	for _, s := range scopes {
		rs = append(rs, bf(2, s)...)
	}
	return bf(1, rs)
}

// spansScope is a ScopeSpans holding spans.
func spansScope(spans ...[]byte) []byte { return cat(fieldsOf(2, spans)...) }

func logRec(extra ...[]byte) []byte {
	return cat(append([][]byte{f64(1, 1), vf(2, 9), bf(5, strVal("hello"))}, extra...)...)
}

func logsBody(res []byte, scopes ...[]byte) []byte { return tracesBody(res, scopes...) }

func TestCheckWireCases(t *testing.T) {
	const max = 16
	long := strings.Repeat("x", max+1)
	okRes := kv("service.name", strVal("svc"))
	resAttrs := func(kvs ...[]byte) []byte { return cat(fieldsOf(1, kvs)...) }
	good := func(spans ...[]byte) []byte { return tracesBody(resAttrs(okRes), spansScope(spans...)) }
	goodLogs := func(recs ...[]byte) []byte { return logsBody(resAttrs(okRes), cat(fieldsOf(2, recs)...)) }

	// slow: what the slow path does with the request: "accept" (whole), "reject" (not whole), or "" (the
	// request is legal but unusual; only the check's refusal is asserted).
	type tc struct {
		name, signal string
		body         []byte
		check        bool // the check's verdict
		slow         string
	}
	cases := []tc{
		// Accepted.
		{"plain span", "traces", good(wSpanMsg()), true, "accept"},
		{"all span fields", "traces", good(wSpanMsg(sf(3, "ts"), bf(4, wSpan), vf(6, 2), bf(9, kv("a", strVal(strings.Repeat("y", max)))),
			vf(10, 1), bf(11, cat(f64(1, 5), sf(2, "ev"), bf(3, kv("e", strVal("v"))), vf(4, 1))), vf(12, 1),
			bf(13, cat(bf(1, wTrace), bf(2, wSpan), sf(3, "ts"), bf(4, kv("l", strVal("v"))), vf(5, 1), f32(6, 1))), vf(14, 1),
			bf(15, cat(sf(2, "msg"), vf(3, 2))), f32(16, 1))), true, "accept"},
		{"empty parent", "traces", good(wSpanMsg(bf(4, nil))), true, "accept"},
		{"zero parent", "traces", good(wSpanMsg(bf(4, make([]byte, 8)))), true, "accept"},
		{"unknown fields", "traces", bf(1, cat(bf(1, resAttrs(okRes)), bf(2, cat(bf(2, wSpanMsg(vf(99, 1), f32(98, 1))), f64(97, 1))), sf(96, "x"))), true, "accept"},
		{"all value kinds", "traces", good(wSpanMsg(bf(9, kv("b", vf(2, 1))), bf(9, kv("i", vf(3, 7))), bf(9, kv("d", f64(4, math.Float64bits(1.5)))),
			bf(9, kv("y", bf(7, []byte{1, 2}))), bf(9, kv("e", nil)), bf(9, sf(1, "novalue")),
			bf(9, kv("m", mapVal(kv("k", nested(3, "v"))))))), true, "accept"},
		{"nested at the limit", "traces", good(wSpanMsg(bf(9, kv("n", nested(maxWireDepth, "v"))))), true, "accept"},
		{"value before key", "traces", good(wSpanMsg(bf(9, cat(bf(2, strVal("v")), sf(1, "k"))), bf(9, cat(bf(2, vf(3, 300)), sf(1, "i"))))), true, "accept"},
		{"value only", "traces", good(wSpanMsg(bf(9, bf(2, strVal("v"))))), true, "accept"},
		{"value before key long", "traces", good(wSpanMsg(bf(9, cat(bf(2, strVal(long)), sf(1, "k"))))), false, "reject"},
		{"value before key twice", "traces", good(wSpanMsg(bf(9, cat(bf(2, strVal("v")), sf(1, "k"), sf(1, "k"))))), false, ""},
		{"duplicate keys", "traces", good(wSpanMsg(bf(9, kv("a", strVal("1"))), bf(9, kv("a", strVal("2"))))), true, "accept"},
		{"entity refs", "traces", tracesBody(cat(resAttrs(okRes), bf(3, cat(sf(1, "u"), sf(2, "t"), sf(3, "k1"), sf(3, "k2"), sf(4, "d")))), spansScope(wSpanMsg())), true, "accept"},
		{"scope and schema", "traces", bf(1, cat(bf(1, resAttrs(okRes)), sf(3, "url"), bf(2, cat(bf(1, cat(sf(1, "lib"), sf(2, "1.0"), bf(3, kv("a", strVal("b"))), vf(4, 0))), sf(3, "url"), bf(2, wSpanMsg()))))), true, "accept"},
		{"two resources", "traces", cat(good(wSpanMsg()), good(wSpanMsg(), wSpanMsg())), true, "accept"},
		{"plain log", "logs", goodLogs(logRec()), true, "accept"},
		{"log IDs empty or zero", "logs", goodLogs(logRec(bf(9, nil), bf(10, nil)), logRec(bf(9, make([]byte, 16)), bf(10, make([]byte, 8)))), true, "accept"},
		{"all log fields", "logs", goodLogs(logRec(sf(3, "INFO"), bf(6, kv("a", strVal("b"))), vf(7, 1), f32(8, 1), bf(9, wTrace), bf(10, wSpan), f64(11, 3), sf(12, "ev"))), true, "accept"},
		{"log without body", "logs", goodLogs(cat(f64(1, 1))), true, "accept"},
		{"log map body", "logs", goodLogs(cat(bf(5, mapVal(kv("k", strVal("v")))))), true, "accept"},

		// Validation rules.
		{"trace_id zero", "traces", good(spanNoIDs(bf(1, make([]byte, 16)), bf(2, wSpan))), false, "reject"},
		{"trace_id missing", "traces", good(spanNoIDs(bf(2, wSpan))), false, "reject"},
		{"trace_id short", "traces", good(wSpanMsg(), spanNoIDs(bf(1, wTrace[:15]), bf(2, wSpan))), false, "reject"},
		{"span_id zero", "traces", good(spanNoIDs(bf(1, wTrace), bf(2, make([]byte, 8)))), false, "reject"},
		{"span_id missing", "traces", good(spanNoIDs(bf(1, wTrace))), false, "reject"},
		{"span_id long", "traces", good(spanNoIDs(bf(1, wTrace), bf(2, wTrace[:9]))), false, "reject"},
		{"parent short", "traces", good(wSpanMsg(bf(4, wSpan[:7]))), false, "reject"},
		{"link trace_id zero", "traces", good(wSpanMsg(bf(13, cat(bf(1, make([]byte, 16)), bf(2, wSpan))))), false, "reject"},
		{"link trace_id short", "traces", good(wSpanMsg(bf(13, cat(bf(1, wTrace[:3]), bf(2, wSpan))))), false, "reject"},
		{"link span_id missing", "traces", good(wSpanMsg(bf(13, bf(1, wTrace)))), false, "reject"},
		{"link span_id short", "traces", good(wSpanMsg(bf(13, cat(bf(1, wTrace), bf(2, wSpan[:2]))))), false, "reject"},
		{"span attr long", "traces", good(wSpanMsg(bf(9, kv("a", strVal(long))))), false, "reject"},
		{"span bytes attr long", "traces", good(wSpanMsg(bf(9, kv("a", bf(7, []byte(long)))))), false, "reject"},
		{"nested attr long", "traces", good(wSpanMsg(bf(9, kv("a", nested(3, long))))), false, "reject"},
		{"map attr long", "traces", good(wSpanMsg(bf(9, kv("a", mapVal(kv("k", mapVal(kv("j", strVal(long))))))))), false, "reject"},
		{"event attr long", "traces", good(wSpanMsg(bf(11, bf(3, kv("a", strVal(long)))))), false, "reject"},
		{"link attr long", "traces", good(wSpanMsg(bf(13, cat(bf(1, wTrace), bf(2, wSpan), bf(4, kv("a", strVal(long))))))), false, "reject"},
		{"scope attr long", "traces", tracesBody(resAttrs(okRes), cat(bf(1, bf(3, kv("a", strVal(long)))), bf(2, wSpanMsg()))), false, "reject"},
		{"resource attr long", "traces", good(wSpanMsg()) /* replaced below */, false, "reject"},
		{"empty scope", "traces", tracesBody(resAttrs(okRes), spansScope(wSpanMsg()), nil), false, "reject"},
		{"empty resource", "traces", cat(good(wSpanMsg()), bf(1, bf(1, resAttrs(okRes)))), false, "reject"},
		{"no spans", "traces", nil, false, ""},
		{"log trace_id short", "logs", goodLogs(logRec(bf(9, wTrace[:15]))), false, "reject"},
		{"log span_id long", "logs", goodLogs(logRec(bf(10, wTrace[:9]))), false, "reject"},
		{"log body long", "logs", goodLogs(cat(bf(5, strVal(long)))), false, "reject"},
		{"log bytes body long", "logs", goodLogs(cat(bf(5, bf(7, []byte(long))))), false, "reject"},
		{"log nested body long", "logs", goodLogs(cat(bf(5, mapVal(kv("k", nested(2, long)))))), false, "reject"},
		{"log attr long", "logs", goodLogs(logRec(bf(6, kv("a", strVal(long))))), false, "reject"},
		{"log resource attr long", "logs", logsBody(resAttrs(kv("a", strVal(long))), bf(2, logRec())), false, "reject"},
		{"log scope attr long", "logs", logsBody(resAttrs(okRes), cat(bf(1, bf(3, kv("a", strVal(long)))), bf(2, logRec()))), false, "reject"},
		{"log empty scope", "logs", logsBody(resAttrs(okRes), bf(2, logRec()), nil), false, "reject"},

		// Malformed or unusual encodings.
		{"truncated", "traces", good(wSpanMsg())[:20], false, "reject"},
		{"group in span", "traces", good(wSpanMsg(group(50))), false, ""},
		{"group at top", "traces", cat(good(wSpanMsg()), group(7)), false, ""},
		{"group in value", "traces", good(wSpanMsg(bf(9, kv("a", cat(strVal("v"), group(20)))))), false, ""},
		{"name as varint", "traces", good(wSpanMsg(vf(5, 1))), false, "reject"},
		{"kind as fixed64", "traces", good(wSpanMsg(f64(6, 1))), false, "reject"},
		{"resource as varint", "traces", bf(1, cat(vf(1, 1), bf(2, spansScope(wSpanMsg())))), false, "reject"},
		{"status twice", "traces", good(wSpanMsg(bf(15, vf(3, 1)), bf(15, sf(2, "x")))), false, ""},
		{"name twice", "traces", good(wSpanMsg(sf(5, "other"))), false, ""},
		{"trace_id twice", "traces", good(wSpanMsg(bf(1, wTrace))), false, ""},
		{"resource twice", "traces", bf(1, cat(bf(1, resAttrs(okRes)), bf(1, resAttrs(okRes)), bf(2, spansScope(wSpanMsg())))), false, ""},
		{"scope twice", "traces", tracesBody(nil, cat(bf(1, sf(1, "a")), bf(1, sf(1, "b")), bf(2, wSpanMsg()))), false, ""},
		{"value twice", "traces", good(wSpanMsg(bf(9, cat(sf(1, "k"), bf(2, strVal("a")), bf(2, strVal("b")))))), false, ""},
		{"two oneof members", "traces", good(wSpanMsg(bf(9, kv("k", cat(strVal("a"), vf(3, 1)))))), false, ""},
		{"string member twice", "traces", good(wSpanMsg(bf(9, kv("k", cat(strVal("a"), strVal("b")))))), false, ""},
		{"strindex value", "traces", good(wSpanMsg(bf(9, kv("k", vf(8, 1))))), false, ""},
		{"key strindex", "traces", good(wSpanMsg(bf(9, cat(vf(3, 1), bf(2, strVal("v")))))), false, ""},
		{"deprecated scopes", "traces", bf(1, cat(bf(1, resAttrs(okRes)), bf(1000, spansScope(wSpanMsg())))), false, ""},
		{"deprecated scopes beside", "traces", bf(1, cat(bf(1, resAttrs(okRes)), bf(2, spansScope(wSpanMsg())), bf(1000, spansScope(wSpanMsg())))), false, ""},
		{"too deep", "traces", good(wSpanMsg(bf(9, kv("n", nested(maxWireDepth+1, "v"))))), false, ""},
		{"very deep", "traces", good(wSpanMsg(bf(9, kv("n", nested(200, "v"))))), false, "reject"},
		{"body twice", "logs", goodLogs(logRec(bf(5, strVal("again")))), false, ""},
		{"log time twice", "logs", goodLogs(logRec(f64(1, 2))), false, ""},
		{"log trace_id twice", "logs", goodLogs(logRec(bf(9, wTrace), bf(9, wTrace))), false, ""},
		{"log deprecated scopes", "logs", bf(1, bf(1000, bf(2, logRec()))), false, ""},
		{"log severity as bytes", "logs", goodLogs(logRec(sf(2, "x"))), false, "reject"},
		{"log flags as varint", "logs", goodLogs(logRec(vf(8, 1))), false, "reject"},
	}
	for i := range cases {
		if cases[i].name == "resource attr long" {
			cases[i].body = tracesBody(resAttrs(okRes, kv("big", strVal(long))), spansScope(wSpanMsg()))
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if ok := agree(t, c.signal, c.body, max); ok != c.check {
				t.Fatalf("check: %v, want %v", ok, c.check)
			}
			var sok bool
			if c.signal == "traces" {
				_, sok = slowTraces(t, c.body, max)
			} else {
				_, sok = slowLogs(t, c.body, max)
			}
			switch c.slow {
			case "accept":
				if !sok {
					t.Fatal("the slow path does not accept the request whole: the case is wrong")
				}
			case "reject":
				if sok {
					t.Fatal("the slow path accepts the request whole: the case tests no rule")
				}
			}
		})
	}
}

// TestCheckWireCount checks the item count over several resources and scopes.
func TestCheckWireCount(t *testing.T) {
	body := cat(
		tracesBody(nil, spansScope(wSpanMsg(), wSpanMsg()), spansScope(wSpanMsg())),
		tracesBody(nil, spansScope(wSpanMsg(), wSpanMsg(), wSpanMsg())),
	)
	if n, ok := CheckTraces(body, 100, nil); !ok || n != 6 {
		t.Fatalf("got %d, %v; want 6 spans", n, ok)
	}
	logs := cat(logsBody(nil, bf(2, logRec()), cat(bf(2, logRec()), bf(2, logRec()))))
	if n, ok := CheckLogs(logs, 100, nil); !ok || n != 3 {
		t.Fatalf("got %d, %v; want 3 records", n, ok)
	}
}

func TestCheckWireAllocs(t *testing.T) {
	body := must(ptraceotlp.NewExportRequestFromTraces(genTraces(1, 100)).MarshalProto())
	// Without an index, and with one reused: the index keeps its storage.
	idx := &otlpwire.Index{}
	if a := testing.AllocsPerRun(20, func() { CheckTraces(body, 64<<10, nil); CheckTraces(body, 64<<10, idx) }); a != 0 {
		t.Fatalf("CheckTraces allocates %v times", a)
	}
	lb := must(plogotlp.NewExportRequestFromLogs(genLogs(1, 100)).MarshalProto())
	if a := testing.AllocsPerRun(20, func() { CheckLogs(lb, 64<<10, nil); CheckLogs(lb, 64<<10, idx) }); a != 0 {
		t.Fatalf("CheckLogs allocates %v times", a)
	}
}

func FuzzCheckTracesWire(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, "traces", b, fuzzMaxAttr) })
}

func FuzzCheckLogsWire(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, "logs", b, fuzzMaxAttr) })
}

// wireSeeds are hand-made seeds for the wire check's fuzz targets: valid requests with every field, and
// requests that break one rule each.
func wireSeeds(signal string) [][]byte {
	res := bf(1, kv("service.name", strVal("svc")))
	if signal == "logs" {
		return [][]byte{
			logsBody(res, cat(bf(1, cat(sf(1, "lib"), bf(3, kv("a", strVal("b"))))), bf(2, logRec(sf(3, "INFO"), bf(6, kv("a", mapVal(kv("k", nested(2, "v"))))), f32(8, 1), bf(9, wTrace), bf(10, wSpan), f64(11, 3), sf(12, "ev"))))),
			logsBody(res, bf(2, logRec(bf(9, wTrace[:15])))),
			logsBody(res, bf(2, logRec(bf(5, strVal("twice"))))),
			logsBody(res, bf(2, logRec(bf(6, kv("k", cat(strVal("a"), vf(3, 1))))))),
		}
	}
	link := cat(bf(1, wTrace), bf(2, wSpan), sf(3, "ts"), bf(4, kv("l", strVal("v"))), vf(5, 1), f32(6, 1))
	return [][]byte{
		tracesBody(cat(res, bf(3, cat(sf(1, "u"), sf(2, "t"), sf(3, "k")))), cat(bf(1, sf(1, "lib")), bf(2, wSpanMsg(sf(3, "ts"), bf(4, wSpan), vf(6, 2),
			bf(9, kv("a", arrVal(strVal("x"), vf(3, 1), f64(4, 1)))), bf(11, cat(f64(1, 5), sf(2, "ev"), bf(3, kv("e", bf(7, []byte{1}))))),
			bf(13, link), bf(15, cat(sf(2, "msg"), vf(3, 2))), f32(16, 1))))),
		tracesBody(res, spansScope(spanNoIDs(bf(1, make([]byte, 16)), bf(2, wSpan)))),
		tracesBody(res, spansScope(wSpanMsg(bf(13, bf(1, wTrace))))),
		tracesBody(res, spansScope(wSpanMsg(group(50)))),
		tracesBody(res, spansScope(wSpanMsg(bf(15, vf(3, 1)), bf(15, vf(3, 2))))),
		bf(1, cat(res, bf(1000, spansScope(wSpanMsg())))),
		tracesBody(res, spansScope(wSpanMsg(bf(9, kv("n", nested(maxWireDepth+1, "v")))))),
	}
}
