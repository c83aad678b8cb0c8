package engine

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
	"github.com/otlpd/otlpd/internal/workload"
)

// BenchmarkFlush times the flush alone: a head of 65,536 spans or log records of the reference workload
// (internal/workload) written as a part, on real disk. The writes before it are not timed.
func BenchmarkFlush(b *testing.B) {
	const batches, per = 128, 512
	ctx := context.Background()
	for _, kind := range []string{"spans", "logs"} {
		b.Run(kind, func(b *testing.B) {
			gen := workload.New(3, workload.Options{})
			var tds []ptrace.Traces
			var lds []plog.Logs
			bytes := 0
			for range batches {
				if kind == "spans" {
					td := gen.NextTraces(per)
					bytes += (&ptrace.ProtoMarshaler{}).TracesSize(td)
					tds = append(tds, td)
				} else {
					ld := gen.NextLogs(per)
					bytes += (&plog.ProtoMarshaler{}).LogsSize(ld)
					lds = append(lds, ld)
				}
			}
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			opts := benchOpts(SyncNone)
			opts.HeadMaxItems, opts.HeadMaxBytes = 1<<22, 1<<34
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				e := openTest(b, b.TempDir(), opts)
				for _, td := range tds {
					if err := e.WriteSpans(ctx, td); err != nil {
						b.Fatal(err)
					}
				}
				for _, ld := range lds {
					if err := e.WriteLogs(ctx, ld); err != nil {
						b.Fatal(err)
					}
				}
				c0 := cpuTime()
				b.StartTimer()
				if err := e.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime() - c0
				e.Close()
			}
			b.ReportMetric(float64(b.N*batches*per)/b.Elapsed().Seconds(), "items/s")
			// CPU time of the process during the flushes: less sensitive than wall time to other load.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batches*per), "cpu-ns/item")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBodyTokens collects the word tokens of the string bodies of 4,096 log records of the reference
// workload into a block's token set as the flush does (a body whose skeleton the block has had adds only its
// varying words, "varying") and with every word of every body ("all"); both include the body column's Add.
func BenchmarkBodyTokens(b *testing.B) {
	ld := workload.New(1, workload.Options{}).NextLogs(4096)
	var bodies [][]byte
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				if bd := lrs.At(k).Body(); bd.Type().String() == "Str" {
					bodies = append(bodies, []byte(bd.Str()))
				}
			}
		}
	}
	for _, short := range []bool{false, true} {
		name := "all"
		if short {
			name = "varying"
		}
		b.Run(name, func(b *testing.B) {
			var e part.BodyEncoder
			var set hashSet
			var words []uint64
			fresh := 0
			for b.Loop() {
				e.Reset()
				set.reset()
				fresh = 0
				for _, body := range bodies {
					ok := false
					if !e.Add(body) && short {
						words, ok = e.AppendVaryingWordHashes(words[:0], body)
					} else {
						fresh++
					}
					if !ok {
						words = part.AppendWordHashes(words[:0], string(body))
					}
					for _, h := range words {
						set.add(h)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(bodies)), "ns/body")
			b.ReportMetric(float64(fresh), "fresh")
			b.ReportMetric(float64(set.len()), "tokens")
		})
	}
}

// attrRows returns the attribute fields (KeyValue messages) of each of n spans or log records of the
// reference workload, as the flush reads them.
func attrRows(b testing.TB, kind string, n int) [][][]byte {
	gen := workload.New(1, workload.Options{})
	var raw []byte
	var err error
	if kind == "spans" {
		raw, err = (&ptrace.ProtoMarshaler{}).MarshalTraces(gen.NextTraces(n))
	} else {
		raw, err = (&plog.ProtoMarshaler{}).MarshalLogs(gen.NextLogs(n))
	}
	if err != nil {
		b.Fatal(err)
	}
	attrField := uint32(otlpwire.SpanAttributes)
	if kind == "logs" {
		attrField = otlpwire.LogAttributes
	}
	var rows [][][]byte
	var walk func(msg []byte, depth int)
	walk = func(msg []byte, depth int) {
		r := otlpwire.NewReader(msg)
		var f otlpwire.Field
		var row [][]byte
		for r.Next(&f) {
			switch {
			case depth < 2 && f.Num == 2 && f.Type == otlpwire.Bytes: // resource -> scopes, scope -> items
				walk(f.Bytes, depth+1)
			case depth == 2 && f.Num == attrField && f.Type == otlpwire.Bytes:
				row = append(row, f.Bytes)
			}
		}
		if depth == 2 {
			rows = append(rows, row)
		}
	}
	r := otlpwire.NewReader(raw)
	var f otlpwire.Field
	for r.Next(&f) {
		walk(f.Bytes, 0)
	}
	return rows
}

// BenchmarkAttrCols puts the attributes of a block of 8,192 spans or log records of the reference workload
// into attribute columns and encodes them, as the flush does for a block.
func BenchmarkAttrCols(b *testing.B) {
	for _, kind := range []string{"spans", "logs"} {
		b.Run(kind, func(b *testing.B) {
			rows := attrRows(b, kind, 8192)
			var c attrCols
			var out []byte
			for b.Loop() {
				c.reset()
				for _, row := range rows {
					c.beginRow()
					for _, kv := range row {
						if _, err := c.addWire(kv); err != nil {
							b.Fatal(err)
						}
					}
					c.endRow()
				}
				out = c.encode(out[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
		})
	}
}

// BenchmarkOpsList sorts the operations of a part (2,000: 20 services of 50 span names, two kinds each), as
// every flush and merge does for its footer.
func BenchmarkOpsList(b *testing.B) {
	m := map[part.Op]struct{}{}
	for s := range 20 {
		for n := range 50 {
			for k := range 2 {
				m[part.Op{Service: fmt.Sprintf("service-%02d", s), Name: fmt.Sprintf("GET /api/v1/resource-%02d", n), Kind: uint8(1 + k)}] = struct{}{}
			}
		}
	}
	for b.Loop() {
		opsList(m)
	}
}
