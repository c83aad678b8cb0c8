package otlpwire

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/workload"
)

// messages lists, for each message kind of a TracesData, its fields that are messages and their kinds.
var messages = map[string]map[uint32]string{
	"data":     {DataResources: "rs"},
	"rs":       {ResourceResource: "resource", ResourceScopes: "ss"},
	"resource": {ResAttributes: "kv"},
	"ss":       {ScopeScope: "scope", ScopeItems: "span"},
	"scope":    {ScopeAttributes: "kv"},
	"span":     {SpanAttributes: "kv", SpanEvents: "event", SpanLinks: "link", SpanStatus: "status"},
	"event":    {EventAttributes: "kv"},
	"link":     {LinkAttributes: "kv"},
	"kv":       {KVValue: "any"},
	"any":      {AnyArray: "list", AnyKvlist: "kvlist"},
	"list":     {ListValues: "any"},
	"kvlist":   {ListValues: "kv"},
	"status":   {},
}

// fieldKinds is messages as arrays (a map lookup per field would cost more than reading the field).
var fieldKinds = func() map[string]*[16]string {
	out := map[string]*[16]string{}
	for k, fs := range messages {
		var a [16]string
		for num, kind := range fs {
			a[num] = kind
		}
		out[k] = &a
	}
	return out
}()

// walkAll visits every field of msg, a message of the given kind, and of the messages nested in it.
func walkAll(msg []byte, kind string) int {
	n := 0
	r := NewReader(msg)
	var f Field
	sub := fieldKinds[kind]
	for r.Next(&f) {
		n++
		if f.Num < 16 && sub[f.Num] != "" && f.Type == Bytes {
			n += walkAll(f.Bytes, sub[f.Num])
		}
	}
	if r.Err() != nil {
		panic(r.Err())
	}
	return n
}

// BenchmarkReader walks every field of reference-workload TracesData messages (512 spans each), next to
// pdata's unmarshal of the same bytes.
func BenchmarkReader(b *testing.B) {
	gen := workload.New(1, workload.Options{})
	var raws [][]byte
	total := 0
	for range 16 {
		raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(gen.NextTraces(512))
		raws = append(raws, raw)
		total += len(raw)
	}
	b.Run("walk", func(b *testing.B) {
		b.SetBytes(int64(total / len(raws)))
		for i := 0; b.Loop(); i++ {
			walkAll(raws[i%len(raws)], "data")
		}
		b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
	})
	b.Run("pdata", func(b *testing.B) {
		b.SetBytes(int64(total / len(raws)))
		for i := 0; b.Loop(); i++ {
			if _, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raws[i%len(raws)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
	})
}
