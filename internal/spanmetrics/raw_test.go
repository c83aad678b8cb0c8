package spanmetrics

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otlpd/otlpd/internal/ingest/otlp"
	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/workload"
)

// sameSeries feeds batches to three generators, one decoded, one raw, one raw with the receiver's index of
// the batch (when its check accepts it), and fails t when they collect different metrics.
func sameSeries(t *testing.T, opts Options, batches ...ptrace.Traces) {
	t.Helper()
	clk := &clock{time.Unix(1_700_000_000, 0)}
	opts.Now = clk.now
	viaPdata, viaRaw, viaIndex := New(nil, opts), New(nil, opts), New(nil, opts)
	indexed := 0
	for _, td := range batches {
		raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			t.Fatal(err)
		}
		// Decode first, as the pipeline does, so that both generators see the same batch.
		dec, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := viaPdata.ConsumeTraces(context.Background(), dec); err != nil {
			t.Fatal(err)
		}
		if err := viaRaw.ConsumeTracesRaw(context.Background(), raw, nil); err != nil {
			t.Fatal(err)
		}
		idx := &otlpwire.Index{}
		if _, ok := otlp.CheckTraces(raw, 64<<10, idx); ok {
			indexed++
		} else {
			idx = nil
		}
		if err := viaIndex.ConsumeTracesRaw(context.Background(), raw, idx); err != nil {
			t.Fatal(err)
		}
		// The raw generator must keep nothing of raw.
		for i := range raw {
			raw[i] = 0xa5
		}
		clk.t = clk.t.Add(time.Second)
	}
	want, got := viaPdata.Collect(), viaRaw.Collect()
	if want.DataPointCount() == 0 {
		t.Fatal("no series: the test compares nothing")
	}
	wb, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(want)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wb, gb) {
		t.Fatalf("raw path collected %d points, pdata path %d; contents differ", got.DataPointCount(), want.DataPointCount())
	}
	if viaRaw.OverflowSpans() != viaPdata.OverflowSpans() || viaRaw.Series() != viaPdata.Series() {
		t.Fatalf("overflow %d/%d, series %d/%d", viaRaw.OverflowSpans(), viaPdata.OverflowSpans(), viaRaw.Series(), viaPdata.Series())
	}
	ib, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(viaIndex.Collect())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wb, ib) || viaIndex.OverflowSpans() != viaPdata.OverflowSpans() {
		t.Fatalf("indexed path (%d of %d batches indexed) and pdata path differ", indexed, len(batches))
	}
}

func TestRawMatchesPdataWorkload(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		w := workload.New(seed, workload.Options{})
		var batches []ptrace.Traces
		for range 5 {
			batches = append(batches, w.NextTraces(200))
		}
		t.Run(fmt.Sprint("native/", seed), func(t *testing.T) { sameSeries(t, Options{}, batches...) })
		t.Run(fmt.Sprint("classic/", seed), func(t *testing.T) { sameSeries(t, Options{Classic: true}, batches...) })
		t.Run(fmt.Sprint("overflow/", seed), func(t *testing.T) { sameSeries(t, Options{MaxSeries: 7}, batches...) })
	}
}

func TestRawMatchesPdataCases(t *testing.T) {
	td := traces(
		spanSpec{"a", "GET /", ptrace.SpanKindServer, ptrace.StatusCodeOk, 3 * time.Millisecond, 1},
		spanSpec{"", "no service", ptrace.SpanKindClient, ptrace.StatusCodeError, time.Second, 2},
		spanSpec{"a", "GET /", ptrace.SpanKindServer, ptrace.StatusCodeOk, 9 * time.Millisecond, 3},
		spanSpec{"b", "", ptrace.SpanKindUnspecified, ptrace.StatusCodeUnset, 0, 4},
	)
	rs := td.ResourceSpans()
	// A non-string service.name, an empty one, a second one after the first, one after other attributes.
	addSpan := func(setup func(pcommon.Map)) ptrace.Span {
		r := rs.AppendEmpty()
		setup(r.Resource().Attributes())
		sp := r.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName("x")
		sp.SetTraceID(pcommon.TraceID{9})
		sp.SetSpanID(pcommon.SpanID{9})
		return sp
	}
	addSpan(func(m pcommon.Map) { m.PutInt("service.name", 3) })
	addSpan(func(m pcommon.Map) { m.PutStr("service.name", "") })
	addSpan(func(m pcommon.Map) { m.PutStr("host", "h"); m.PutStr("service.name", "c") })
	sp := addSpan(func(m pcommon.Map) { m.PutStr("service.name", "d") })
	sp.SetStartTimestamp(100) // ends before it starts: 0 ms
	sp.SetEndTimestamp(50)
	sp.SetKind(ptrace.SpanKind(99)) // unknown enum values are kept
	sp.Status().SetCode(ptrace.StatusCode(7))
	sp.Status().SetMessage("m")
	sameSeries(t, Options{}, td)
	sameSeries(t, Options{Classic: true}, td, td)
}

// unusualBatch is a TracesData with fields out of order or repeated: the scopes before the resource, the
// service in the second resource message, the span's name, kind and status repeated, and a service.name
// value given twice (the second occurrence setting no member, which keeps the first).
func unusualBatch() []byte {
	bf := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	vf := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	kv := func(k, v string) []byte { return append(bf(1, []byte(k)), bf(2, bf(1, []byte(v)))...) }
	cat := func(b ...[]byte) []byte { return bytes.Join(b, nil) }
	span := cat(bf(1, bytes.Repeat([]byte{1}, 16)), bf(2, bytes.Repeat([]byte{2}, 8)), bf(5, []byte("first")), bf(5, []byte("last")),
		vf(6, 1), vf(6, 3), bf(15, vf(3, 1)), bf(15, vf(3, 2)))
	svc := append(kv("service.name", "late"), bf(2, vf(99, 1))...)
	rs := cat(bf(2, bf(2, span)), bf(1, bf(1, kv("host", "h"))), bf(1, bf(1, svc)))
	return bf(1, rs)
}

// TestRawUnusualEncodings checks pdata's rules for fields out of order or repeated.
func TestRawUnusualEncodings(t *testing.T) {
	raw := unusualBatch()
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{time.Unix(1_700_000_000, 0)}
	a, b := New(nil, Options{Now: clk.now}), New(nil, Options{Now: clk.now})
	_ = a.ConsumeTraces(context.Background(), td)
	if err := b.ConsumeTracesRaw(context.Background(), raw, nil); err != nil {
		t.Fatal(err)
	}
	wb, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(a.Collect())
	gb, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(b.Collect())
	if !bytes.Equal(wb, gb) {
		t.Fatal("raw path disagrees with pdata on an unusual encoding")
	}
	if _, _, ok := point(t, a.Collect(), CallsMetric, key4("late", "last", "SPAN_KIND_CLIENT", "STATUS_CODE_ERROR")); !ok {
		t.Fatal("expected series missing")
	}
	if err := b.ConsumeTracesRaw(context.Background(), raw[:len(raw)-3], nil); err == nil {
		t.Fatal("truncated batch accepted")
	}
}

// benchTraces is the batch the benchmarks count: 512 workload spans, and its encoding.
func benchTraces(b *testing.B) (ptrace.Traces, []byte) {
	td := workload.New(1, workload.Options{}).NextTraces(512)
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		b.Fatal(err)
	}
	return td, raw
}

// BenchmarkConsumeTracesPdata counts a decoded batch (the decode not included; see ...Decoded).
func BenchmarkConsumeTracesPdata(b *testing.B) {
	td, raw := benchTraces(b)
	g := New(nil, Options{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_ = g.ConsumeTraces(context.Background(), td)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*td.SpanCount()), "ns/span")
}

// BenchmarkConsumeTracesDecoded is what the pdata path costs when nothing else decodes the batch.
func BenchmarkConsumeTracesDecoded(b *testing.B) {
	td, raw := benchTraces(b)
	g := New(nil, Options{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		d, _ := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
		_ = g.ConsumeTraces(context.Background(), d)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*td.SpanCount()), "ns/span")
}

func BenchmarkConsumeTracesRaw(b *testing.B) {
	td, raw := benchTraces(b)
	g := New(nil, Options{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_ = g.ConsumeTracesRaw(context.Background(), raw, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*td.SpanCount()), "ns/span")
}
