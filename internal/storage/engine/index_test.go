package engine

import (
	"bytes"
	"maps"
	"testing"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/ingest/otlp"
	"github.com/otlpd/otlpd/internal/otlpwire"
	refworkload "github.com/otlpd/otlpd/internal/workload"
)

// sameScan fails t unless a and b hold the same items (time, group, message bytes), groups and trace IDs.
func sameScan(t *testing.T, a, b batchScan) {
	t.Helper()
	if a.n != b.n || a.minTS != b.minTS || a.maxTS != b.maxTS || len(a.items) != len(b.items) || len(a.groups) != len(b.groups) ||
		len(a.ids) != len(b.ids) {
		t.Fatalf("scans differ: %d/%d items, %d/%d groups, %d/%d IDs", len(a.items), len(b.items), len(a.groups), len(b.groups), len(a.ids), len(b.ids))
	}
	for i := range a.items {
		x, y := a.items[i], b.items[i]
		if x.ts != y.ts || x.grp != y.grp || !bytes.Equal(x.msg, y.msg) {
			t.Fatalf("item %d differs", i)
		}
	}
	for i := range a.groups {
		if !a.groups[i].same(&b.groups[i]) {
			t.Fatalf("group %d differs", i)
		}
	}
	for i := range a.ids {
		if a.ids[i] != b.ids[i] {
			t.Fatalf("trace ID %d differs", i)
		}
	}
}

// TestIndexScan checks that a write given the receiver's index of a batch takes from it what its own read
// of the batch finds (views of its copy), and refuses an index of another buffer.
func TestIndexScan(t *testing.T) {
	gen := refworkload.New(5, refworkload.Options{})
	for range 4 {
		raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(gen.NextTraces(512))
		idx := &otlpwire.Index{}
		if _, ok := otlp.CheckTraces(raw, 64<<10, idx); !ok {
			t.Fatal("the check refuses a workload batch")
		}
		own := bytes.Clone(raw)
		wantOps, gotOps := opSet{}, opSet{}
		want, err := scanSpans(own, wantOps, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := indexSpans(raw, own, idx, gotOps, nil)
		if !ok {
			t.Fatal("the index of the batch does not fit it")
		}
		sameScan(t, want, got)
		if !maps.Equal(wantOps, gotOps) {
			t.Fatalf("operations: %d from the index, %d read", len(gotOps), len(wantOps))
		}
		for _, it := range got.items {
			p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(it.msg))), uintptr(unsafe.Pointer(unsafe.SliceData(own)))
			if len(it.msg) > 0 && (p < lo || p+uintptr(len(it.msg)) > lo+uintptr(len(own))) {
				t.Fatal("an item is not a view of the engine's copy")
			}
		}
		if _, ok := indexSpans(bytes.Clone(raw), own, idx, opSet{}, nil); ok {
			t.Fatal("an index of another buffer taken")
		}

		lraw, _ := (&plog.ProtoMarshaler{}).MarshalLogs(gen.NextLogs(512))
		lidx := &otlpwire.Index{}
		if _, ok := otlp.CheckLogs(lraw, 64<<10, lidx); !ok {
			t.Fatal("the check refuses a workload batch")
		}
		lown := bytes.Clone(lraw)
		lwant, err := scanLogs(lown)
		if err != nil {
			t.Fatal(err)
		}
		lgot, ok := indexLogs(lraw, lown, lidx)
		if !ok {
			t.Fatal("the index of the batch does not fit it")
		}
		sameScan(t, lwant, lgot)
		if _, ok := indexLogs(lown, lown[:len(lown)/2], lidx); ok {
			t.Fatal("an index of another buffer taken")
		}
	}
}
