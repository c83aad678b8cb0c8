package spanmetrics

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/ingest/otlp"
	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/workload"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// FuzzConsumeTracesRaw reads arbitrary bytes as a raw batch: it must never panic, and whenever pdata decodes
// the bytes and the raw reader reads them without an error, both paths must count the same series.
func FuzzConsumeTracesRaw(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		clk := &clock{time.Unix(1_700_000_000, 0)}
		viaRaw := New(nil, Options{Now: clk.now, MaxSeries: 8})
		if err := viaRaw.ConsumeTracesRaw(context.Background(), raw, nil); err != nil {
			return
		}
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
		if err != nil {
			return
		}
		viaPdata := New(nil, Options{Now: clk.now, MaxSeries: 8})
		_ = viaPdata.ConsumeTraces(context.Background(), td)
		want, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(viaPdata.Collect())
		got, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(viaRaw.Collect())
		if !bytes.Equal(want, got) {
			t.Fatalf("raw path and pdata disagree on %d spans", td.SpanCount())
		}
		idx := &otlpwire.Index{}
		if _, ok := otlp.CheckTraces(raw, 64<<10, idx); ok {
			viaIndex := New(nil, Options{Now: clk.now, MaxSeries: 8})
			if err := viaIndex.ConsumeTracesRaw(context.Background(), raw, idx); err != nil {
				t.Fatalf("indexed path: %v", err)
			}
			if ib, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(viaIndex.Collect()); !bytes.Equal(want, ib) {
				t.Fatalf("indexed path and pdata disagree on %d spans", td.SpanCount())
			}
		}
	})
}

// TestFuzzSeeds checks that the fuzz target has its committed seeds (rewritten with -update-seeds).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzConsumeTracesRaw")
	if *updateSeeds {
		raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(workload.New(5, workload.Options{}).NextTraces(12))
		if err != nil {
			t.Fatal(err)
		}
		seeds := [][]byte{raw, raw[:len(raw)/2], unusualBatch(), {0x0a, 0x00}}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) < 4 {
		t.Fatalf("%s: want at least 4 seeds (run with -update-seeds): %v", dir, err)
	}
}
