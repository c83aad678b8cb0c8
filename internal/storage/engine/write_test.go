package engine

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/wal"
	refworkload "github.com/otlpd/otlpd/internal/workload"
)

// TestWriteSpansEncodedLogsRaw checks that the encoding given with a batch is the WAL record, byte for byte,
// and that a replay of it restores the batch.
func TestWriteSpansEncodedLogsRaw(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.noCloseFlush = true
	e := openTest(t, dir, opts)
	td := genTraces(rand.New(rand.NewPCG(1, 2)), 1, 20)[0]
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, 0x98, 0x06, 0x01) // a field otlpd does not know: a re-encoding would drop it
	if err := e.WriteSpansEncoded(context.Background(), td, raw); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := wal.Segments(e.walDir())
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for _, seq := range segs {
		if err := wal.Replay(e.walDir(), seq, opts.Logger, func(typ byte, p []byte) error {
			if typ != recSpans {
				t.Errorf("record type %d, want %d", typ, recSpans)
			}
			recs = append(recs, bytes.Clone(p))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(recs) != 1 || !bytes.Equal(recs[0], raw) {
		t.Fatalf("WAL holds %d records; want one equal to the %d bytes given", len(recs), len(raw))
	}
	e = openTest(t, dir, testOptions())
	defer e.Close()
	if n := e.active.items(); n != td.SpanCount() {
		t.Errorf("replayed head holds %d spans, want %d", n, td.SpanCount())
	}
}

// TestWriteWaitsForFlush checks the backpressure: with flushing held up, writers are let in until the head
// holds twice its threshold, then wait; a waiting writer gives up when its context ends, and gets in once the
// flush runs.
func TestWriteWaitsForFlush(t *testing.T) {
	opts := testOptions()
	opts.HeadMaxItems = 100
	e := openTest(t, t.TempDir(), opts)
	defer e.Close()
	tds := genTraces(rand.New(rand.NewPCG(3, 4)), 30, 10)
	ctx := context.Background()

	e.flushMu.Lock() // as a long flush would
	held := true
	defer func() {
		if held {
			e.flushMu.Unlock()
		}
	}()
	i := 0
	for ; e.active.items() < 2*opts.HeadMaxItems; i++ {
		if err := e.WriteSpans(ctx, tds[i]); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := e.WriteSpans(short, tds[i]); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write with the head at %d items (threshold %d): %v, want it to wait until its deadline", e.active.items(), opts.HeadMaxItems, err)
	}
	done := make(chan error, 1)
	go func() { done <- e.WriteSpans(ctx, tds[i]) }()
	select {
	case err := <-done:
		t.Fatalf("write returned (%v) while flushing is held up", err)
	case <-time.After(50 * time.Millisecond):
	}
	e.flushMu.Unlock()
	held = false
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write still waiting 10s after flushing resumed")
	}
}

// TestFlushRunsDuringMerge: a flush does not wait for a merge in progress (merges hold mergeMu throughout).
func TestFlushRunsDuringMerge(t *testing.T) {
	e := openTest(t, t.TempDir(), testOptions())
	defer e.Close()
	for _, td := range genTraces(rand.New(rand.NewPCG(5, 6)), 3, 10) {
		if err := e.WriteSpans(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	e.mergeMu.Lock() // as a merge does
	defer e.mergeMu.Unlock()
	done := make(chan error, 1)
	go func() { done <- e.Flush(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("flush still waiting for the merge after 10s")
	}
	if n := e.partCount(); n == 0 {
		t.Error("the flush wrote no part")
	}
}

// TestWriteRawRefusesMalformed: a raw batch the write cannot read is refused whole, nothing of it logged or
// searchable, and the engine goes on.
func TestWriteRawRefusesMalformed(t *testing.T) {
	e := openTest(t, t.TempDir(), testOptions())
	defer e.Close()
	ctx := context.Background()
	td := genTraces(rand.New(rand.NewPCG(3, 4)), 1, 5)[0]
	good, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	// TracesData { resource_spans { scope_spans { spans { trace_id: 3 bytes } } } }
	msg := func(field protowire.Number, content []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, field, protowire.BytesType), content)
	}
	badID := msg(1, msg(2, msg(2, msg(1, []byte{1, 2, 3}))))
	for name, tc := range map[string]struct {
		raw  []byte
		want string
	}{
		"truncated":     {good[:len(good)-3], "malformed"},
		"wrong id size": {badID, "trace_id of 3 bytes"},
		"wire type":     {[]byte{0x08, 0x01}, "wire type"}, // resource_spans as a varint
	} {
		err := e.WriteSpansRaw(ctx, tc.raw, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", name, err, tc.want)
		}
	}
	if n, _ := e.active.size(); n != 0 {
		t.Fatalf("head holds %d items after refused writes", n)
	}
	if err := e.WriteSpansRaw(ctx, good, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.active.size(); n != td.SpanCount() {
		t.Fatalf("head holds %d items, want %d", n, td.SpanCount())
	}
}

// TestHeadDecodedBudget: queries on a head larger than its decoding budget keep at most the budget decoded
// and still answer from every batch.
func TestHeadDecodedBudget(t *testing.T) {
	var d atomic.Int64
	if !keep(&d, headDecodedBudget/decodedFactor) || keep(&d, 1) || d.Load() != headDecodedBudget {
		t.Fatalf("keep: budget not applied (%d)", d.Load())
	}

	opts := testOptions()
	opts.HeadMaxItems, opts.HeadMaxBytes = 1<<30, 1<<40 // no flush
	e := openTest(t, t.TempDir(), opts)
	defer e.Close()
	ctx := context.Background()
	gen := refworkload.New(9, refworkload.Options{})
	raw := 0
	n := 0
	for raw < 2*headDecodedBudget/decodedFactor {
		ld := gen.NextLogs(512)
		b, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
		if err := e.WriteLogsRaw(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
		raw += len(b)
		n += ld.LogRecordCount()
	}
	got := 0
	for ld, err := range e.FindLogs(ctx, storage.LogQuery{Limit: n + 1}) {
		if err != nil {
			t.Fatal(err)
		}
		got += ld.LogRecordCount()
	}
	if got != n {
		t.Fatalf("found %d records, wrote %d", got, n)
	}
	if kept := e.active.decoded.Load(); kept > headDecodedBudget || kept == 0 {
		t.Fatalf("head keeps %d bytes decoded, budget %d", kept, headDecodedBudget)
	}
}

// TestEncodedFallsBackToPdata: an encoding the write's read in place refuses is replaced by td encoded (here
// the encoding does not even match td, which stands for an unusual encoding pdata accepts), and a replay
// gives the spans back.
func TestEncodedFallsBackToPdata(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.noCloseFlush = true
	e := openTest(t, dir, opts)
	ctx := context.Background()
	td := genTraces(rand.New(rand.NewPCG(5, 6)), 1, 7)[0]
	msg := func(field protowire.Number, content []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, field, protowire.BytesType), content)
	}
	unreadable := msg(1, msg(2, msg(2, msg(1, []byte{1, 2, 3}))))
	if err := e.WriteSpansEncoded(ctx, td, unreadable); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.active.size(); n != td.SpanCount() {
		t.Fatalf("head holds %d spans, want %d", n, td.SpanCount())
	}
	e.Close()
	e = openTest(t, dir, opts)
	defer e.Close()
	if n, _ := e.active.size(); n != td.SpanCount() {
		t.Fatalf("after replay the head holds %d spans, want %d", n, td.SpanCount())
	}
}
