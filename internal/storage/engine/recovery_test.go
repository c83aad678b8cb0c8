package engine

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/wal"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func optsWithLog(buf *logBuf) Options {
	o := testOptions()
	o.Logger = slog.New(slog.NewTextHandler(buf, nil))
	return o
}

func countSpans(t *testing.T, e *Engine) int {
	t.Helper()
	n := 0
	for td, err := range e.FindSpans(context.Background(), storage.SpanQuery{Limit: 1 << 30}) {
		if err != nil {
			t.Fatal(err)
		}
		n += td.SpanCount()
	}
	return n
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

// TestReplayAfterCrash copies the data directory of a running engine (what a crash leaves behind: the engine is
// never closed) with data in parts and in the WAL, and opens the copy.
func TestReplayAfterCrash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	defer e.Close()
	ctx := context.Background()
	n := 0
	for i, td := range genTraces(r, 6, 20) {
		if err := e.WriteSpans(ctx, td); err != nil {
			t.Fatal(err)
		}
		n += td.SpanCount()
		if i == 2 {
			e.Flush(ctx)
		}
	}
	crashed := copyDir(t, dir)
	var lb logBuf
	e2 := openTest(t, crashed, optsWithLog(&lb))
	defer e2.Close()
	if got := countSpans(t, e2); got != n {
		t.Fatalf("after crash: %d spans, want %d", got, n)
	}
	if !strings.Contains(lb.String(), "replayed write-ahead log") {
		t.Fatalf("no replay reported: %s", lb.String())
	}
}

func TestTornWALTail(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	ctx := context.Background()
	n := 0
	for _, td := range genTraces(r, 3, 20) {
		e.WriteSpans(ctx, td)
		n += td.SpanCount()
	}
	crashed := copyDir(t, dir)
	e.Close()
	segs, _ := wal.Segments(filepath.Join(crashed, "wal"))
	seg := wal.SegmentPath(filepath.Join(crashed, "wal"), segs[len(segs)-1])
	f, _ := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0x20, 0, 0, 0, 1, 2, 3, 4, 1, 'x', 'y'}) // a record cut short
	f.Close()
	var lb logBuf
	e2 := openTest(t, crashed, optsWithLog(&lb))
	defer e2.Close()
	if got := countSpans(t, e2); got != n {
		t.Fatalf("after torn tail: %d spans, want %d", got, n)
	}
	if !strings.Contains(lb.String(), "torn record") {
		t.Fatalf("torn tail not reported: %s", lb.String())
	}
}

func TestCorruptPartQuarantined(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	ctx := context.Background()
	first := genTraces(r, 2, 20)
	for _, td := range first {
		e.WriteSpans(ctx, td)
	}
	e.Flush(ctx)
	parts1, _ := listPartFiles(filepath.Join(dir, "parts"))
	second := genTraces(r, 2, 20)
	n2 := 0
	for _, td := range second {
		e.WriteSpans(ctx, td)
		n2 += td.SpanCount()
	}
	e.Close()
	// Damage the footer of every part of the first flush.
	for _, p := range parts1 {
		data, _ := os.ReadFile(p)
		data[len(data)-20] ^= 0xff
		os.WriteFile(p, data, 0o644)
	}
	var lb logBuf
	e2 := openTest(t, dir, optsWithLog(&lb))
	defer e2.Close()
	if got := countSpans(t, e2); got != n2 {
		t.Fatalf("after quarantine: %d spans, want the %d of the intact parts", got, n2)
	}
	if !strings.Contains(lb.String(), "corrupt part quarantined") {
		t.Fatalf("quarantine not reported: %s", lb.String())
	}
	q, _ := os.ReadDir(filepath.Join(dir, "quarantine"))
	if len(q) != len(parts1) {
		t.Fatalf("%d files in quarantine, want %d", len(q), len(parts1))
	}
}

func TestCorruptBlockIsAnError(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	ctx := context.Background()
	for _, td := range genTraces(r, 2, 50) {
		e.WriteSpans(ctx, td)
	}
	e.Close()
	parts, _ := listPartFiles(filepath.Join(dir, "parts"))
	data, _ := os.ReadFile(parts[0])
	for i := 40; i < 80; i++ { // inside the first column blocks, footer intact
		data[i] ^= 0x5a
	}
	os.WriteFile(parts[0], data, 0o644)
	e2 := openTest(t, dir, testOptions())
	defer e2.Close()
	var sawErr bool
	for _, err := range e2.FindSpans(ctx, storage.SpanQuery{Limit: 1 << 20}) {
		if err != nil {
			sawErr = true
		}
	}
	if !sawErr {
		t.Fatal("reading a damaged block gave no error")
	}
}

func TestUnknownFormatRefused(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	e.Close()
	os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("otlpd-engine 7\n"), 0o644)
	_, err := Open(dir, testOptions())
	if err == nil || !strings.Contains(err.Error(), "format version 7") {
		t.Fatalf("Open of a version 7 directory: %v", err)
	}
}

// TestUnfinishedFlushIsReplayed builds what a crash between writing a flush's parts and recording the flush
// leaves: the parts and the WAL they came from. The parts must be dropped and the WAL replayed, once.
func TestUnfinishedFlushIsReplayed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	ctx := context.Background()
	n := 0
	for _, td := range genTraces(r, 3, 20) {
		e.WriteSpans(ctx, td)
		n += td.SpanCount()
	}
	crashed := copyDir(t, dir) // WAL only
	e.Flush(ctx)
	e.Close()
	if out, err := exec.Command("cp", "-a", filepath.Join(dir, "parts")+"/.", filepath.Join(crashed, "parts")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	var lb logBuf
	e2 := openTest(t, crashed, optsWithLog(&lb))
	defer e2.Close()
	if got := countSpans(t, e2); got != n {
		t.Fatalf("%d spans, want %d", got, n)
	}
	if !strings.Contains(lb.String(), "unfinished flush") {
		t.Fatalf("orphan parts not reported: %s", lb.String())
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(0, base).Add(48 * time.Hour)
	t.Run("age", func(t *testing.T) {
		o := testOptions()
		o.Now = func() time.Time { return now }
		o.MaxAge = 30 * time.Hour
		e := openTest(t, t.TempDir(), o)
		defer e.Close()
		td := ptrace.NewTraces()
		ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
		for i, age := range []time.Duration{72 * time.Hour, 40 * time.Hour, 20 * time.Hour, time.Hour} {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID([16]byte{byte(i + 1)})
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-age)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(-age + time.Second)))
		}
		e.WriteSpans(ctx, td)
		e.Flush(ctx)
		if err := e.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
		if got := countSpans(t, e); got != 2 {
			t.Fatalf("%d spans after retention, want the 2 younger than 30h", got)
		}
		for i := range 2 {
			for _, err := range e.GetTrace(ctx, storage.TraceQuery{TraceID: storage.TraceID{byte(i + 1)}}) {
				if err != storage.ErrNotFound {
					t.Fatalf("old trace %d still found", i+1)
				}
			}
		}
	})
	t.Run("size", func(t *testing.T) {
		o := testOptions()
		o.Now = func() time.Time { return now }
		o.MaxBytes = 40 << 10 // less than the parts of the 12,000 records written take
		dir := t.TempDir()
		e := openTest(t, dir, o)
		defer e.Close()
		r := rand.New(rand.NewPCG(6, 6))
		var wrote int
		for round := range 30 {
			ld := genLogs(r, 1, 400)[0]
			// Each round a later time, so that the oldest data is well defined.
			recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for i := range recs.Len() {
				recs.At(i).SetTimestamp(pcommon.Timestamp(base + int64(round)*int64(time.Hour) + int64(i)))
			}
			e.WriteLogs(ctx, ld)
			wrote += recs.Len()
			e.Flush(ctx)
			if err := e.Maintain(ctx); err != nil {
				t.Fatal(err)
			}
			if b := e.DiskBytes(); b > o.MaxBytes*11/10 {
				t.Fatalf("round %d: %d bytes of parts, cap %d", round, b, o.MaxBytes)
			}
		}
		var onDisk int64
		filepath.Walk(filepath.Join(dir, "parts"), func(_ string, fi os.FileInfo, _ error) error {
			if fi != nil && !fi.IsDir() {
				onDisk += fi.Size()
			}
			return nil
		})
		if onDisk > o.MaxBytes*11/10 {
			t.Fatalf("%d bytes in parts/, cap %d", onDisk, o.MaxBytes)
		}
		// The newest data is kept, the oldest is gone.
		var newest, oldest int64
		first := true
		n := 0
		for ld, err := range e.FindLogs(ctx, storage.LogQuery{Limit: 1 << 30}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range flattenLogs([]plog.Logs{ld}) {
				ts := logTS(l.rec)
				if first {
					newest, first = ts, false
				}
				oldest = ts
				n++
			}
		}
		if newest != base+29*int64(time.Hour)+399 {
			t.Fatalf("newest record %d was dropped", newest)
		}
		if oldest <= base || n >= wrote {
			t.Fatalf("oldest record %d, %d of %d kept: nothing was dropped", oldest, n, wrote)
		}
	})
}

func TestDirectoryLocked(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	if _, err := Open(dir, testOptions()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open of a directory in use: %v", err)
	}
	e.Close()
	e2 := openTest(t, dir, testOptions())
	e2.Close()
}
