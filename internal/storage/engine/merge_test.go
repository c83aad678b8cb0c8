package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// ctxSpec is a resource and scope of test items.
type ctxSpec struct{ svc, host, scope string }

// mkSpans makes n spans per context, named from names in turn, starting at t0 + (k*i + off) seconds for the
// i-th span of a context: parts written with the same k and different off interleave in time.
func mkSpans(ctxs []ctxSpec, names []string, n int, k, off int64, seed uint64) ptrace.Traces {
	r := rand.New(rand.NewPCG(seed, 3))
	td := ptrace.NewTraces()
	for ci, c := range ctxs {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", c.svc)
		rs.Resource().Attributes().PutStr("host.name", c.host)
		rs.SetSchemaUrl("https://example.com/res")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(c.scope)
		ss.Scope().SetVersion("1.0")
		ss.Scope().Attributes().PutStr("scope.k", c.scope+"-v")
		for i := range n {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID([16]byte{byte(r.IntN(30)), byte(ci), 7})
			sp.SetSpanID([8]byte{byte(i), byte(i >> 8), byte(ci), byte(seed), 1})
			if i%3 != 0 {
				sp.SetParentSpanID([8]byte{byte(i - 1), byte((i - 1) >> 8), byte(ci), byte(seed), 1})
			}
			start := base + (k*int64(i)+off)*int64(time.Second)
			sp.SetStartTimestamp(pcommon.Timestamp(start))
			sp.SetEndTimestamp(pcommon.Timestamp(start + int64(r.IntN(900))*int64(time.Millisecond)))
			sp.SetName(names[(i+ci)%len(names)])
			sp.SetKind(ptrace.SpanKind(1 + r.IntN(5)))
			sp.Status().SetCode(ptrace.StatusCode(r.IntN(3)))
			sp.Attributes().PutStr("http.route", fmt.Sprintf("/r/%d", r.IntN(10)))
			sp.Attributes().PutInt("n", int64(i))
			sp.Attributes().PutStr("code.file", c.svc+".go") // follows from the resource: coded by set
			if i%5 == 0 {
				sp.Attributes().PutStr(c.svc+".only", "x")
			}
		}
	}
	return td
}

func mkLogs(ctxs []ctxSpec, n int, k, off int64, seed uint64) plog.Logs {
	r := rand.New(rand.NewPCG(seed, 4))
	ld := plog.NewLogs()
	for _, c := range ctxs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", c.svc)
		rl.Resource().Attributes().PutStr("host.name", c.host)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(c.scope)
		sl.Scope().Attributes().PutStr("scope.k", c.scope+"-v")
		for i := range n {
			rec := sl.LogRecords().AppendEmpty()
			ts := base + (k*int64(i)+off)*int64(time.Second)
			rec.SetTimestamp(pcommon.Timestamp(ts))
			rec.SetObservedTimestamp(pcommon.Timestamp(ts + 3))
			rec.SetSeverityNumber(plog.SeverityNumber(1 + r.IntN(24)))
			rec.Body().SetStr(fmt.Sprintf("%s did %d things", c.svc, r.IntN(100)))
			rec.Attributes().PutStr("code.function", fmt.Sprintf("f%d", r.IntN(5)))
			rec.Attributes().PutStr("code.file", c.svc+".go") // follows from the resource: coded by set
		}
	}
	return ld
}

// partsOf returns the engine's parts of a kind.
func partsOf(e *Engine, kind part.Kind) []*partHandle {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*partHandle
	for _, p := range e.parts {
		if p.meta.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// frames returns every column frame of every block of p, in block order.
func frames(t *testing.T, p *partHandle) [][part.NumCols][]byte {
	t.Helper()
	out := make([][part.NumCols][]byte, len(p.meta.Blocks))
	for bi := range p.meta.Blocks {
		for c := range part.NumCols {
			f, err := p.r.ReadFrame(bi, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			out[bi][c] = f
		}
	}
	return out
}

// storeFlushedColumns rewrites flushed part p of e as a flush stored its columns before flushes compressed
// some (flushCompresses): those columns stored (part.LevelStore), the others as they are.
func storeFlushedColumns(t *testing.T, e *Engine, p *partHandle) {
	t.Helper()
	tmp := p.path + ".older"
	w, err := part.Create(tmp, *p.meta)
	if err != nil {
		t.Fatal(err)
	}
	for bi, cols := range frames(t, p) {
		for c, f := range cols {
			if flushCompresses(p.meta.Kind, c) {
				raw, err := part.Decompress(f, nil)
				if err != nil {
					t.Fatal(err)
				}
				cols[c] = part.Compress(part.LevelStore, nil, raw)
			}
		}
		if err := w.AddFrames(p.meta.Blocks[bi], &cols); err != nil {
			t.Fatal(err)
		}
	}
	w.SetDicts(p.meta.Sets, p.meta.Names, p.meta.Ops, p.meta.AttrKeys)
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p.path); err != nil {
		t.Fatal(err)
	}
	np, err := openPart(p.path)
	if err != nil {
		t.Fatal(err)
	}
	np.opened = p.opened
	e.mu.Lock()
	e.parts[slices.Index(e.parts, p)] = np
	e.mu.Unlock()
	p.release()
}

// overlapping reports whether two blocks of p overlap in time.
func overlapping(p *partHandle) bool {
	for i, a := range p.meta.Blocks {
		for _, b := range p.meta.Blocks[i+1:] {
			if a.MinTS <= b.MaxTS && b.MinTS <= a.MaxTS {
				return true
			}
		}
	}
	return false
}

func mergeTestOptions() Options {
	o := testOptions()
	o.BlockRows = 16
	o.MergeMinParts = 1 << 20 // merges only when the test asks
	return o
}

// TestMergeRemapsDictionaries merges span and log parts whose attribute sets and span names overlap in part
// and sit at other indexes in each, with interleaved times: every item reads back as written (resource,
// scope, name and all), every query answers as over the items written, and the merged footer holds the union
// of the inputs' dictionaries and catalogs, each entry once.
func TestMergeRemapsDictionaries(t *testing.T) {
	e := openTest(t, t.TempDir(), mergeTestOptions())
	defer e.Close()
	ctx := context.Background()
	a, b, c := ctxSpec{"svc-a", "h1", "lib-a"}, ctxSpec{"svc-b", "h2", "lib-b"}, ctxSpec{"svc-c", "h1", "lib-a"}
	tds := []ptrace.Traces{
		mkSpans([]ctxSpec{a, b}, []string{"alpha", "beta"}, 50, 3, 0, 1),
		mkSpans([]ctxSpec{c, b}, []string{"gamma", "beta", "alpha"}, 50, 3, 1, 2), // b at another index
		mkSpans([]ctxSpec{a}, []string{"delta", "alpha"}, 40, 3, 2, 3),
	}
	lds := []plog.Logs{
		mkLogs([]ctxSpec{a, b}, 40, 3, 0, 1),
		mkLogs([]ctxSpec{c, a}, 40, 3, 1, 2),
	}
	for i := range max(len(tds), len(lds)) {
		if i < len(tds) {
			if err := e.WriteSpans(ctx, tds[i]); err != nil {
				t.Fatal(err)
			}
		}
		if i < len(lds) {
			if err := e.WriteLogs(ctx, lds[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := map[part.Kind]struct {
		sets  map[string]bool
		names map[string]bool
		ops   map[part.Op]bool
		keys  map[string]bool
		ids   []uint64
		tid   [][]byte // the trace ID column's frames, which a merge copies
	}{}
	for _, kind := range []part.Kind{part.KindSpans, part.KindLogs} {
		w := want[kind]
		w.sets, w.names, w.ops, w.keys = map[string]bool{}, map[string]bool{}, map[part.Op]bool{}, map[string]bool{}
		for _, p := range partsOf(e, kind) {
			for _, s := range p.meta.Sets {
				w.sets[string(s)] = true
			}
			for _, n := range p.meta.Names {
				w.names[n] = true
			}
			for _, o := range p.meta.Ops {
				w.ops[o] = true
			}
			for _, k := range p.meta.AttrKeys {
				w.keys[k] = true
			}
			w.ids = append(w.ids, p.meta.ID)
			for _, f := range frames(t, p) {
				w.tid = append(w.tid, f[part.ColTID])
			}
		}
		want[kind] = w
	}
	if n := len(partsOf(e, part.KindSpans)); n != 3 {
		t.Fatalf("%d span parts before the merge, want 3", n)
	}
	if len(want[part.KindSpans].sets) != 3 || len(want[part.KindSpans].names) != 4 {
		t.Fatalf("test data: %d sets and %d names, want 3 and 4", len(want[part.KindSpans].sets), len(want[part.KindSpans].names))
	}
	if err := e.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []part.Kind{part.KindSpans, part.KindLogs} {
		ps := partsOf(e, kind)
		if len(ps) != 1 {
			t.Fatalf("kind %d: %d parts after Compact, want 1", kind, len(ps))
		}
		p, w := ps[0], want[kind]
		if !slices.Equal(p.meta.Sources, w.ids) {
			t.Errorf("kind %d: sources %v, want %v", kind, p.meta.Sources, w.ids)
		}
		if !overlapping(p) {
			t.Fatalf("kind %d: the merged part's blocks do not overlap in time: the test tests nothing", kind)
		}
		check := func(what string, got []string, want map[string]bool) {
			t.Helper()
			seen := map[string]bool{}
			for _, g := range got {
				if seen[g] || !want[g] {
					t.Errorf("kind %d: %s %q duplicated or not in an input", kind, what, g)
				}
				seen[g] = true
			}
			if len(seen) != len(want) {
				t.Errorf("kind %d: %d %s, want %d", kind, len(seen), what, len(want))
			}
		}
		var sets []string
		for _, s := range p.meta.Sets {
			sets = append(sets, string(s))
		}
		check("sets", sets, w.sets)
		check("names", p.meta.Names, w.names)
		check("attribute keys", p.meta.AttrKeys, w.keys)
		var ops []string
		opsWant := map[string]bool{}
		for _, o := range p.meta.Ops {
			ops = append(ops, fmt.Sprint(o))
		}
		for o := range w.ops {
			opsWant[fmt.Sprint(o)] = true
		}
		check("operations", ops, opsWant)
		var tid [][]byte
		for _, f := range frames(t, p) {
			tid = append(tid, f[part.ColTID])
		}
		if !slices.EqualFunc(tid, w.tid, bytes.Equal) {
			t.Errorf("kind %d: the trace ID frames were not copied as stored", kind)
		}
	}
	m := &spanModel{spans: flattenSpans(tds)}
	checkSpans(t, e, m, rand.New(rand.NewPCG(9, 9)), "merged")
	checkSummaries(t, e, m)
	checkLogs(t, e, flattenLogs(lds), "merged")
	checkWindows(t, e, m, flattenLogs(lds))
}

// checkWindows compares searches over time windows within the data, with limits that stop the scan early,
// newest and oldest first, with the models.
func checkWindows(t *testing.T, e *Engine, m *spanModel, logs []flatLog) {
	t.Helper()
	ctx := context.Background()
	for _, w := range [][2]int64{{0, 20}, {20, 60}, {100, 200}, {130, 200}, {149, 149}} {
		start, end := time.Unix(0, base+w[0]*int64(time.Second)), time.Unix(0, base+w[1]*int64(time.Second))
		for _, limit := range []int{1, 4, 25, 0} {
			q := storage.SpanQuery{Start: start, End: end, Limit: limit}
			if got, want := collectSpans(t, e.FindSpans(ctx, q)), m.find(q); !slices.Equal(got, want) {
				t.Fatalf("FindSpans %v..%v limit %d: %d spans, want %d (or other spans)", w[0], w[1], limit, len(got), len(want))
			}
			for _, order := range []storage.Order{storage.NewestFirst, storage.OldestFirst} {
				q := storage.LogQuery{Start: start, End: end, Limit: limit, Order: order}
				var got []string
				for ld, err := range e.FindLogs(ctx, q) {
					if err != nil {
						t.Fatal(err)
					}
					for _, l := range flattenLogs([]plog.Logs{ld}) {
						got = append(got, logKey(l.res, l.sc, l.rec))
					}
				}
				if want := modelLogs(logs, q); !slices.Equal(got, want) {
					t.Fatalf("FindLogs %v..%v limit %d order %v: %d records, want %d (or other records)", w[0], w[1], limit, order, len(got), len(want))
				}
			}
		}
	}
}

// checkSummaries compares the newest span summaries, with limits that stop the scan early, with the model.
func checkSummaries(t *testing.T, e *Engine, m *spanModel) {
	t.Helper()
	for _, limit := range []int{1, 5, 37, 1000} {
		var got []string
		_, err := e.ScanSpanSummaries(context.Background(), storage.SpanQuery{Limit: limit}, storage.SummaryOptions{}, func(s *storage.SpanSummary) bool {
			got = append(got, fmt.Sprint(s.TraceID, s.SpanID, s.Service, s.Name, s.Start))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		hits := slices.Clone(m.spans)
		slices.SortStableFunc(hits, func(a, b flatSpan) int {
			if a.span.StartTimestamp() != b.span.StartTimestamp() {
				return -int(a.span.StartTimestamp()) + int(b.span.StartTimestamp())
			}
			return b.seq - a.seq
		})
		for _, s := range hits[:min(limit, len(hits))] {
			want = append(want, fmt.Sprint(storage.TraceID(s.span.TraceID()), s.span.SpanID(), serviceOf(s.res), s.span.Name(), int64(s.span.StartTimestamp())))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("ScanSpanSummaries limit %d: %d summaries, want %d (or other spans)", limit, len(got), len(want))
		}
	}
}

// TestMergeOfMergedParts merges parts that merges wrote: their blocks are copied as stored (set and name
// columns aside, whose dictionaries differ), and every item reads back as written.
func TestMergeOfMergedParts(t *testing.T) {
	e := openTest(t, t.TempDir(), mergeTestOptions())
	defer e.Close()
	ctx := context.Background()
	ctxs := []ctxSpec{{"svc-a", "h1", "lib"}, {"svc-b", "h1", "lib"}, {"svc-c", "h2", "lib"}, {"svc-d", "h2", "lib"}}
	names := []string{"n0", "n1", "n2", "n3", "n4"}
	var tds []ptrace.Traces
	var lds []plog.Logs
	var merged []*partHandle
	for i := range 4 {
		cs := []ctxSpec{ctxs[(i+1)%4], ctxs[i]} // another first set in each part
		td := mkSpans(cs, names[i:], 30, 4, int64(i), uint64(10+i))
		ld := mkLogs(cs, 30, 4, int64(i), uint64(10+i))
		tds, lds = append(tds, td), append(lds, ld)
		if err := e.WriteSpans(ctx, td); err != nil {
			t.Fatal(err)
		}
		if err := e.WriteLogs(ctx, ld); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			for _, kind := range []part.Kind{part.KindSpans, part.KindLogs} {
				ps := partsOf(e, kind)
				if err := e.mergeParts(ps[len(ps)-2:]); err != nil {
					t.Fatal(err)
				}
			}
			merged = append(merged, partsOf(e, part.KindSpans)[len(partsOf(e, part.KindSpans))-1])
		}
	}
	if len(merged) != 2 || len(merged[0].meta.Sources) != 2 || len(merged[1].meta.Sources) != 2 {
		t.Fatalf("test setup: want two span parts merged from two each")
	}
	var inFrames [][part.NumCols][]byte
	for _, p := range merged {
		inFrames = append(inFrames, frames(t, p)...)
	}
	checkSpans(t, e, &spanModel{spans: flattenSpans(tds)}, rand.New(rand.NewPCG(1, 2)), "merged once")
	if err := e.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	ps := partsOf(e, part.KindSpans)
	if len(ps) != 1 || !slices.Equal(ps[0].meta.Sources, []uint64{merged[0].meta.ID, merged[1].meta.ID}) {
		t.Fatalf("after Compact: %d span parts, want 1 merged from %d and %d", len(ps), merged[0].meta.ID, merged[1].meta.ID)
	}
	out := frames(t, ps[0])
	if len(out) != len(inFrames) {
		t.Fatalf("%d blocks, want %d", len(out), len(inFrames))
	}
	for bi := range out {
		for c := range part.NumCols {
			if c != part.ColSet && c != part.ColName && !bytes.Equal(out[bi][c], inFrames[bi][c]) {
				t.Fatalf("block %d column %d: not copied as stored from a merged part", bi, c)
			}
		}
	}
	checkSpans(t, e, &spanModel{spans: flattenSpans(tds)}, rand.New(rand.NewPCG(3, 4)), "merged twice")
	checkLogs(t, e, flattenLogs(lds), "merged twice")
}

// TestMergeCrashBeforeInputsRemoved leaves a merged part next to its inputs, as a crash between writing it and
// removing them does: at start-up the inputs are deleted and no item is stored twice.
func TestMergeCrashBeforeInputsRemoved(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, mergeTestOptions())
	ctx := context.Background()
	var tds []ptrace.Traces
	for i := range 3 {
		td := mkSpans([]ctxSpec{{"svc", "h", "lib"}}, []string{"x", "y"}, 40, 3, int64(i), uint64(i))
		tds = append(tds, td)
		if err := e.WriteSpans(ctx, td); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	saved := map[string][]byte{}
	for _, p := range partsOf(e, part.KindSpans) {
		raw, err := os.ReadFile(p.path)
		if err != nil {
			t.Fatal(err)
		}
		saved[p.path] = raw
	}
	if err := e.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for path, raw := range saved { // the inputs, back as the crash left them
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e = openTest(t, dir, mergeTestOptions())
	defer e.Close()
	if n := len(partsOf(e, part.KindSpans)); n != 1 {
		t.Fatalf("%d span parts after restart, want the merged one", n)
	}
	for path := range saved {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("input %s still on disk (%v)", filepath.Base(path), err)
		}
	}
	checkSpans(t, e, &spanModel{spans: flattenSpans(tds)}, rand.New(rand.NewPCG(5, 6)), "restarted")
}

// TestSmallFlushesRewritten: parts of small flushes (blocks under half full) are merged row by row into full
// blocks, and parts of full blocks are merged by copying them; both read back every item.
func TestSmallFlushesRewritten(t *testing.T) {
	for _, tc := range []struct {
		name          string
		perFlush      int
		wantBlocks    int
		wantRewritten bool
	}{
		{"small", 5, 1, true},   // 10 flushes x 5 spans into one block of 64 rows
		{"full", 64, 10, false}, // 10 flushes x 64 spans: 10 full blocks copied
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions() // 64 rows per block
			o.MergeMinParts = 1 << 20
			e := openTest(t, t.TempDir(), o)
			defer e.Close()
			ctx := context.Background()
			for i := range 10 {
				td := mkSpans([]ctxSpec{{"svc", "h", "lib"}}, []string{"op"}, tc.perFlush, 1, int64(i), uint64(i))
				if err := e.WriteSpans(ctx, td); err != nil {
					t.Fatal(err)
				}
				if err := e.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			e.mu.RLock()
			small := smallBlocks(e.parts, o.BlockRows)
			e.mu.RUnlock()
			if small != tc.wantRewritten {
				t.Fatalf("smallBlocks = %v, want %v", small, tc.wantRewritten)
			}
			if err := e.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			e.mu.RLock()
			ps := slices.Clone(e.parts)
			e.mu.RUnlock()
			if len(ps) != 1 || len(ps[0].meta.Blocks) != tc.wantBlocks {
				t.Fatalf("%d parts, first with %d blocks; want 1 part of %d blocks", len(ps), len(ps[0].meta.Blocks), tc.wantBlocks)
			}
			refs, err := e.FindTraceIDs(ctx, storage.SpanQuery{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) == 0 {
				t.Fatal("no trace found after the merge")
			}
			if got := int(ps[0].meta.Rows); got != 10*tc.perFlush {
				t.Fatalf("merged part holds %d rows, want %d", got, 10*tc.perFlush)
			}
		})
	}
}

// TestFlushedPartsMerged checks that flushes store the columns merges compress (all but the IDs, the integer
// columns and those the flush compresses, flushCompresses) as they are, and that mergeFlushed merges the
// flushed parts of a day and kind (a lone one too) into a compressed part with the same items, leaving merged
// parts alone; a part an older version flushed (those columns stored too) gets attribute sections coded by
// set.
func TestFlushedPartsMerged(t *testing.T) {
	e := openTest(t, t.TempDir(), mergeTestOptions())
	defer e.Close()
	ctx := context.Background()
	ctxs := []ctxSpec{{"a", "h1", "lib"}, {"b", "h2", "lib"}}
	var logs []plog.Logs
	for i := range 3 {
		ld := mkLogs(ctxs, 40, 3, int64(i), uint64(i))
		logs = append(logs, ld)
		if err := e.WriteLogs(ctx, ld); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.WriteSpans(ctx, mkSpans(ctxs, []string{"op"}, 40, 1, 0, 9)); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	flushed := partsOf(e, part.KindLogs)
	if len(flushed) != 3 {
		t.Fatalf("%d log parts, want 3", len(flushed))
	}
	var flushedBytes int64
	for _, p := range flushed {
		flushedBytes += p.r.Size
		for _, cols := range frames(t, p) {
			for c, f := range cols {
				want := c != part.ColTID && c != part.ColSpanID && c != part.ColTS && c != part.ColAux &&
					!flushCompresses(part.KindLogs, c)
				if part.Stored(f) != want {
					t.Fatalf("flushed part, column %d: stored %v, want %v", c, part.Stored(f), want)
				}
			}
		}
	}
	for _, cols := range frames(t, partsOf(e, part.KindSpans)[0]) {
		for c, f := range cols {
			want := c != part.ColTID && c != part.ColSpanID && c != part.ColTS && c != part.ColAux &&
				!flushCompresses(part.KindSpans, c)
			if part.Stored(f) != want {
				t.Fatalf("flushed span part, column %d: stored %v, want %v", c, part.Stored(f), want)
			}
		}
	}
	// The first log part as an older version flushed it, every column stored but the IDs and times: its
	// merge compresses the columns and codes attribute sections by set where that pays.
	storeFlushedColumns(t, e, flushed[0])
	// Opened after the cutoff: nothing merged.
	if err := e.mergeFlushed(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(partsOf(e, part.KindLogs)) + len(partsOf(e, part.KindSpans)); n != 4 {
		t.Fatalf("%d parts after a merge of no stale part, want 4", n)
	}
	if err := e.mergeFlushed(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []part.Kind{part.KindLogs, part.KindSpans} {
		ps := partsOf(e, kind)
		if len(ps) != 1 || len(ps[0].meta.Sources) == 0 {
			t.Fatalf("kind %d: %d parts after mergeFlushed, want 1 merged part", kind, len(ps))
		}
		for _, cols := range frames(t, ps[0]) {
			for c, f := range cols {
				if part.Stored(f) {
					t.Fatalf("kind %d: merged part, column %d still stored", kind, c)
				}
			}
		}
	}
	merged := partsOf(e, part.KindLogs)[0]
	bySet := false // some section of the merged part is coded by set (code.file follows from the resource)
	for bi := range merged.meta.Blocks {
		b, err := merged.r.ReadBlock(bi, 1<<part.ColAttrs)
		if err != nil {
			t.Fatal(err)
		}
		r := &attrReader{raw: b.Attrs}
		h, err := readAttrHeader(r, b.N)
		if err != nil {
			t.Fatal(err)
		}
		for k := range h.keys {
			i, j := r.span()
			sr := &attrReader{raw: b.Attrs[i:j]}
			sr.uvarint()
			sr.uvarint()
			if h.strs[k] > 0 && b.Attrs[i+sr.off] == attrModeDictBySet {
				bySet = true
			}
		}
	}
	if !bySet {
		t.Fatal("no attribute section of the merged part is coded by set")
	}
	if merged.r.Size >= flushedBytes {
		t.Fatalf("merged part of %d bytes, flushed parts %d", merged.r.Size, flushedBytes)
	}
	checkLogs(t, e, flattenLogs(logs), "after mergeFlushed")
	// A merged part is not merged again by mergeFlushed.
	id := merged.meta.ID
	if err := e.mergeFlushed(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ps := partsOf(e, part.KindLogs); len(ps) != 1 || ps[0].meta.ID != id {
		t.Fatal("mergeFlushed merged a merged part again")
	}
}

// TestWritersWaitForMerges checks that writers wait while maxUnmerged flushed parts wait for a merge, and go
// on once merges took them; and that the background merger keeps the flushed parts under that bound while
// flushes come faster than MergeMinParts per maintenance interval.
func TestWritersWaitForMerges(t *testing.T) {
	o := testOptions()
	o.MergeMinParts = 2 // maxUnmerged 8
	o.MaintenanceInterval = time.Hour
	e := openTest(t, t.TempDir(), o)
	defer e.Close()
	ctx := context.Background()
	ctxs := []ctxSpec{{"a", "h1", "lib"}}
	e.mu.Lock()
	e.unmerged = e.maxUnmerged()
	e.mu.Unlock()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := e.WriteLogs(short, mkLogs(ctxs, 10, 1, 1000, 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write with merges behind: %v, want to wait until the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- e.WriteLogs(ctx, mkLogs(ctxs, 10, 1, 1010, 2)) }()
	select {
	case err := <-done:
		t.Fatalf("write went through while merges were behind: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	e.mu.Lock()
	e.countUnmerged() // the real count: no part yet
	e.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := e.WriteLogs(ctx, mkLogs(ctxs, 10, 1, int64(10*i), uint64(i))); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		e.mu.RLock()
		n := e.unmerged
		e.mu.RUnlock()
		if n > e.maxUnmerged()+1 {
			t.Fatalf("after flush %d: %d flushed parts wait for a merge, bound %d", i, n, e.maxUnmerged())
		}
	}
	if err := e.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	var all []plog.Logs
	all = append(all, mkLogs(ctxs, 10, 1, 1010, 2))
	for i := range 40 {
		all = append(all, mkLogs(ctxs, 10, 1, int64(10*i), uint64(i)))
	}
	checkLogs(t, e, flattenLogs(all), "after the flushes")
}

// TestCloseFlushCompresses checks that the flush of Close, which no merge follows, compresses its columns.
func TestCloseFlushCompresses(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, mergeTestOptions())
	if err := e.WriteLogs(context.Background(), mkLogs([]ctxSpec{{"a", "h1", "lib"}}, 40, 1, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, mergeTestOptions())
	defer e.Close()
	ps := partsOf(e, part.KindLogs)
	if len(ps) != 1 {
		t.Fatalf("%d log parts after Close, want 1", len(ps))
	}
	for _, cols := range frames(t, ps[0]) {
		for c, f := range cols {
			if part.Stored(f) {
				t.Fatalf("column %d of the part Close flushed is stored uncompressed", c)
			}
		}
	}
}
