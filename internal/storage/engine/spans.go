package engine

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// spanView is the rows of a unit as pdata spans (with every field), each with its resource and scope.
type spanView struct {
	groups   []group
	rowGroup []int32
	spans    []ptrace.Span
	ts       []int64
	keep     ptrace.Traces // owns the decoded spans of a part block
	// A view from the filter columns alone (spans nil) has trace IDs and durations.
	tids [][16]byte
	ends []int64
}

func headSpanView(b *spanBatch) *spanView {
	v := &spanView{}
	rss := b.traces().ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			g := int32(len(v.groups))
			v.groups = append(v.groups, group{res: rs.Resource(), resSchema: rs.SchemaUrl(), scope: ss.Scope(),
				scopeSchema: ss.SchemaUrl(), service: serviceOf(rs.Resource())})
			sl := ss.Spans()
			for k := range sl.Len() {
				sp := sl.At(k)
				v.rowGroup = append(v.rowGroup, g)
				v.spans = append(v.spans, sp)
				v.ts = append(v.ts, int64(sp.StartTimestamp()))
			}
		}
	}
	return v
}

const spanFilterCols = 1<<part.ColTS | 1<<part.ColAux | 1<<part.ColSet | 1<<part.ColName | 1<<part.ColCode

// readMissing adds to b the columns of mask it does not hold yet (b nil: a new block).
func readMissing(p *partHandle, blk int, b *part.Block, mask uint32) (*part.Block, error) {
	if b != nil {
		have := uint32(0)
		for c, ok := range map[int]bool{part.ColTS: b.TS != nil, part.ColAux: b.Aux != nil, part.ColTID: b.TID != nil,
			part.ColSet: b.Set != nil, part.ColName: b.Name != nil, part.ColCode: b.Code != nil,
			part.ColBody: b.Body != nil, part.ColBlob: b.Blob != nil, part.ColAttrs: b.Attrs != nil,
			part.ColSpanID: b.SpanID != nil, part.ColParent: b.ParentID != nil} {
			if ok {
				have |= 1 << c
			}
		}
		mask &^= have
		if mask == 0 {
			return b, nil
		}
	}
	nb, err := p.r.ReadBlock(blk, mask)
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", p.path, err)
	}
	if b == nil {
		return nb, nil
	}
	for _, c := range []struct {
		dst *[]int64
		src []int64
	}{{&b.TS, nb.TS}, {&b.Aux, nb.Aux}} {
		if c.src != nil {
			*c.dst = c.src
		}
	}
	for _, c := range []struct {
		dst *[]uint32
		src []uint32
	}{{&b.Set, nb.Set}, {&b.Name, nb.Name}, {&b.Code, nb.Code}} {
		if c.src != nil {
			*c.dst = c.src
		}
	}
	if nb.TID != nil {
		b.TID = nb.TID
	}
	if nb.Body != nil {
		b.Body = nb.Body
	}
	if nb.Blob != nil {
		b.Blob = nb.Blob
	}
	if nb.Attrs != nil {
		b.Attrs = nb.Attrs
	}
	if nb.SpanID != nil {
		b.SpanID = nb.SpanID
	}
	if nb.ParentID != nil {
		b.ParentID = nb.ParentID
	}
	return b, nil
}

// rawBufs holds buffers for block columns read only to copy a few rows out of them.
var rawBufs = sync.Pool{New: func() any { return new([]byte) }}

// blockRows returns the bytes of each row of a block's blob.
// selectBlockRows returns the protobuf blob of the given rows of block blk (every row when rows is nil), the
// number of rows it holds, and the block's attribute columns decoded for those rows only.
func selectBlockRows(p *partHandle, blk int, b *part.Block, rows []int) (blob []byte, want int, ad *attrColsDec, err error) {
	blob, want = b.Blob, b.N
	var sel []bool
	if rows != nil {
		raw, err := blockRows(p, blk, b)
		if err != nil {
			return nil, 0, nil, err
		}
		blob, want = selectRows(raw, rows), len(rows)
		sel = make([]bool, b.N)
		for _, i := range rows {
			sel[i] = true
		}
	}
	ad, err = decodeAttrCols(b.Attrs, b.N, sel, b.Set)
	if err != nil {
		return nil, 0, nil, corrupt(p, "block %d: %v", blk, err)
	}
	return blob, want, ad, nil
}

func blockRows(p *partHandle, blk int, b *part.Block) ([][]byte, error) {
	rows, err := rowRanges(b.Blob, b.N)
	if err != nil {
		return nil, corrupt(p, "block %d: %v", blk, err)
	}
	return rows, nil
}

// partSpanView decodes the given rows (nil: all) of a block of a span part and puts the column fields back into
// the spans. b may hold some columns already.
func partSpanView(p *partHandle, blk int, b *part.Block, rows []int) (*spanView, error) {
	mask := uint32(spanFilterCols | 1<<part.ColTID | 1<<part.ColBlob | 1<<part.ColAttrs | 1<<part.ColSpanID | 1<<part.ColParent)
	if rows != nil {
		// Only copies of the selected rows outlive this call: the blob and attribute columns are read into
		// reused buffers.
		mask &^= 1<<part.ColBlob | 1<<part.ColAttrs
	}
	b, err := readMissing(p, blk, b, mask)
	if err != nil {
		return nil, err
	}
	if rows != nil {
		for _, c := range []struct {
			col int
			dst *[]byte
		}{{part.ColBlob, &b.Blob}, {part.ColAttrs, &b.Attrs}} {
			if *c.dst != nil {
				continue
			}
			buf := rawBufs.Get().(*[]byte)
			raw, err := p.r.ReadRaw(blk, c.col, *buf)
			if err != nil {
				rawBufs.Put(buf)
				return nil, fmt.Errorf("part %s: %w", p.path, err)
			}
			*c.dst = raw
			defer func() {
				*c.dst = nil
				*buf = raw[:0]
				rawBufs.Put(buf)
			}()
		}
	}
	blob, want, ad, err := selectBlockRows(p, blk, b, rows)
	if err != nil {
		return nil, err
	}
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(blob)
	if err != nil {
		return nil, corrupt(p, "block %d: %v", blk, err)
	}
	if td.ResourceSpans().Len() != 1 || td.ResourceSpans().At(0).ScopeSpans().Len() != 1 ||
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().Len() != want {
		return nil, corrupt(p, "block %d: span count does not match", blk)
	}
	sl := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	v := &spanView{groups: p.groups, rowGroup: make([]int32, b.N), spans: make([]ptrace.Span, b.N), ts: b.TS, keep: td}
	for k := range want {
		i := k
		if rows != nil {
			i = rows[k]
		}
		if int(b.Set[i]) >= len(p.groups) || int(b.Name[i]) >= len(p.meta.Names) {
			return nil, corrupt(p, "block %d row %d: dictionary index out of range", blk, i)
		}
		sp := sl.At(k)
		sp.SetTraceID(b.TID[i])
		sp.SetSpanID(b.SpanID[i])
		sp.SetParentSpanID(b.ParentID[i])
		sp.SetStartTimestamp(pcommonTS(b.TS[i]))
		sp.SetEndTimestamp(pcommonTS(b.TS[i] + b.Aux[i]))
		sp.SetName(p.meta.Names[b.Name[i]])
		sp.SetKind(ptrace.SpanKind(b.Code[i] & 0xf))
		sp.Status().SetCode(ptrace.StatusCode(b.Code[i] >> 4))
		ad.restore(i, sp.Attributes())
		v.rowGroup[i] = int32(b.Set[i])
		v.spans[i] = sp
	}
	return v, nil
}

// spanFilter is a SpanQuery prepared for evaluation.
type spanFilter struct {
	q        *storage.SpanQuery
	tr       tsRange
	needFull bool // conditions that need the whole span (attributes, matcher)
}

func newSpanFilter(q *storage.SpanQuery) *spanFilter {
	return &spanFilter{q: q, tr: queryRange(q.Start, q.End), needFull: len(q.Attributes) > 0 || q.Match != nil}
}

// match evaluates every condition on a span.
func (f *spanFilter) match(g *group, sp ptrace.Span) bool {
	q := f.q
	if !f.tr.has(int64(sp.StartTimestamp())) {
		return false
	}
	if q.Service != "" && g.service != q.Service {
		return false
	}
	if q.SpanName != "" && sp.Name() != q.SpanName {
		return false
	}
	if q.Kind != ptrace.SpanKindUnspecified && sp.Kind() != q.Kind {
		return false
	}
	if q.StatusSet && sp.Status().Code() != q.Status {
		return false
	}
	d := int64(sp.EndTimestamp()) - int64(sp.StartTimestamp())
	if (q.MinDuration > 0 && d < int64(q.MinDuration)) || (q.MaxDuration > 0 && d > int64(q.MaxDuration)) {
		return false
	}
	if !storage.MatchAll(q.Attributes, sp.Attributes(), g.scope.Attributes(), g.res.Attributes()) {
		return false
	}
	return q.Match == nil || q.Match.MatchSpan(g.res, g.scope, sp)
}

// matchColumns evaluates the conditions the filter columns can answer.
func (f *spanFilter) matchColumns(b *part.Block, i int, allowed []bool, nameID int) bool {
	q := f.q
	if !f.tr.has(b.TS[i]) || int(b.Set[i]) >= len(allowed) || !allowed[b.Set[i]] {
		return false
	}
	if nameID >= 0 && int(b.Name[i]) != nameID {
		return false
	}
	if q.Kind != ptrace.SpanKindUnspecified && ptrace.SpanKind(b.Code[i]&0xf) != q.Kind {
		return false
	}
	if q.StatusSet && ptrace.StatusCode(b.Code[i]>>4) != q.Status {
		return false
	}
	d := b.Aux[i]
	return (q.MinDuration <= 0 || d >= int64(q.MinDuration)) && (q.MaxDuration <= 0 || d <= int64(q.MaxDuration))
}

// spanUnits lists the units that may hold matching spans, pruned by time, service, name and token filters.
func (s *snapshot) spanUnits(f *spanFilter) []unit {
	var units []unit
	for hi, h := range s.heads {
		spans, _, _ := h.snapshot()
		for _, b := range spans {
			if f.tr.overlaps(b.minTS, b.maxTS) {
				units = append(units, unit{minTS: b.minTS, maxTS: b.maxTS, hs: b, class: s.classes[hi], order: b.arrival})
			}
		}
	}
	for _, p := range s.parts {
		if p.meta.Kind != part.KindSpans || !f.tr.overlaps(p.meta.MinTS, p.meta.MaxTS) {
			continue
		}
		if f.q.SpanName != "" {
			if _, ok := p.names[f.q.SpanName]; !ok {
				continue
			}
		}
		allowed, any := allowedGroups(p.groups, f.q.Service, f.q.Attributes)
		if !any {
			continue
		}
		for bi := range p.meta.Blocks {
			bm := &p.meta.Blocks[bi]
			if f.tr.overlaps(bm.MinTS, bm.MaxTS) && bloomOK(bm.TokenBloom, f.q.Attributes, p.groups, allowed) {
				units = append(units, unit{minTS: bm.MinTS, maxTS: bm.MaxTS, p: p, blk: bi, order: p.meta.ID})
			}
		}
	}
	return units
}

// scanSpans calls fn for each matching row of u, with the row's view.
func (f *spanFilter) scan(u *unit, fn func(v *spanView, row int)) error {
	if u.p == nil {
		v := headSpanView(u.hs)
		for i, sp := range v.spans {
			if f.match(&v.groups[v.rowGroup[i]], sp) {
				fn(v, i)
			}
		}
		return nil
	}
	p := u.p
	allowed, _ := allowedGroups(p.groups, f.q.Service, f.q.Attributes)
	nameID := -1
	if f.q.SpanName != "" {
		nameID = int(p.names[f.q.SpanName])
	}
	mask := uint32(spanFilterCols)
	if !f.needFull {
		mask |= 1 << part.ColTID
	}
	b, err := p.r.ReadBlock(u.blk, mask)
	if err != nil {
		return fmt.Errorf("part %s: %w", p.path, err)
	}
	var cand []int
	for i := range b.N {
		if f.matchColumns(b, i, allowed, nameID) {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return nil
	}
	if !f.needFull {
		// The columns answered every condition: no need to decode the spans.
		v := &spanView{ts: b.TS, tids: b.TID, ends: b.Aux}
		for _, i := range cand {
			fn(v, i)
		}
		return nil
	}
	if cand, err = prefilterAttrs(p, u.blk, b, cand, f.q.Attributes, allowed); err != nil || len(cand) == 0 {
		return err
	}
	v, err := partSpanView(p, u.blk, b, cand)
	if err != nil {
		return err
	}
	for _, i := range cand {
		if f.match(&v.groups[v.rowGroup[i]], v.spans[i]) {
			fn(v, i)
		}
	}
	return nil
}

// findSpanRefs returns the newest matching spans, at most limit, newest first.
func (s *snapshot) findSpanRefs(ctx context.Context, f *spanFilter, limit int) ([]unit, []ref, error) {
	units := s.spanUnits(f)
	sortUnits(units, true)
	top := &topK{k: limit, better: newer}
	err := scanOrdered(ctx, len(units), scanWorkers(),
		func(ui int) bool { return top.closed(units[ui].maxTS, true) },
		func(ui int) ([]ref, error) { return f.scanRefs(&units[ui], ui) },
		func(_ int, refs []ref) {
			for _, r := range refs {
				top.add(r)
			}
		})
	if err != nil {
		return nil, nil, err
	}
	return units, top.sorted(), nil
}

// scanRefs returns the refs of the spans of u (the ui-th unit) that match, in row order.
func (f *spanFilter) scanRefs(u *unit, ui int) ([]ref, error) {
	var refs []ref
	k1 := u.class<<62 | u.order
	err := f.scan(u, func(v *spanView, row int) {
		r := ref{ts: v.ts[row], unit: int32(ui), row: int32(row), k1: k1, k2: uint64(u.blk)<<32 | uint64(row)}
		if v.spans != nil {
			sp := v.spans[row]
			r.traceID, r.end = storage.TraceID(sp.TraceID()), int64(sp.EndTimestamp())
		} else {
			r.traceID, r.end = storage.TraceID(v.tids[row]), v.ts[row]+v.ends[row]
		}
		refs = append(refs, r)
	})
	return refs, err
}

// FindSpans yields the spans matching q, newest first (ties: latest written first), in pages.
func (e *Engine) FindSpans(ctx context.Context, q storage.SpanQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) {
		s, err := e.snapshot()
		if err != nil {
			yield(ptrace.NewTraces(), err)
			return
		}
		defer s.release()
		f := newSpanFilter(&q)
		units, refs, err := s.findSpanRefs(ctx, f, orDefault(q.Limit, DefaultSpanLimit))
		if err != nil {
			yield(ptrace.NewTraces(), fmt.Errorf("find spans: %w", err))
			return
		}
		for len(refs) > 0 {
			n := min(DefaultPageSize, len(refs))
			td, err := materializeSpans(ctx, units, refs[:n])
			if err != nil {
				yield(ptrace.NewTraces(), fmt.Errorf("find spans: %w", err))
				return
			}
			if !yield(td, nil) {
				return
			}
			refs = refs[n:]
		}
	}
}

// materializeSpans copies the spans of refs, in order, into a new ptrace.Traces, decoding only their rows.
func materializeSpans(ctx context.Context, units []unit, refs []ref) (ptrace.Traces, error) {
	page := newSpanPage()
	views, err := decodeSpanRefs(ctx, units, refs)
	if err != nil {
		return page.td, err
	}
	for _, r := range refs {
		page.add(views[r.unit], int(r.row))
	}
	return page.td, nil
}

// decodeSpanRefs decodes the rows of refs, each unit once.
func decodeSpanRefs(ctx context.Context, units []unit, refs []ref) (map[int32]*spanView, error) {
	rowsOf := map[int32][]int{}
	for _, r := range refs {
		rowsOf[r.unit] = append(rowsOf[r.unit], int(r.row))
	}
	views := map[int32]*spanView{}
	for ui, rows := range rowsOf {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		u := &units[ui]
		if u.p == nil {
			views[ui] = headSpanView(u.hs)
			continue
		}
		slices.Sort(rows)
		v, err := partSpanView(u.p, u.blk, nil, slices.Compact(rows))
		if err != nil {
			return nil, err
		}
		views[ui] = v
	}
	return views, nil
}

// FindTraceIDs returns the traces with a span matching q, newest first by their newest matching span. Start
// and End cover the matching spans found among the newest matches the search had to look at.
func (e *Engine) FindTraceIDs(ctx context.Context, q storage.SpanQuery) ([]storage.TraceRef, error) {
	s, err := e.snapshot()
	if err != nil {
		return nil, err
	}
	defer s.release()
	f := newSpanFilter(&q)
	limit := orDefault(q.Limit, DefaultTraceLimit)
	units := s.spanUnits(f)
	sortUnits(units, true)
	byID := map[storage.TraceID]*found{}
	stopped := false
	// best holds the newest ref of each trace; a trace whose newest ref is worse than the limit-th is out.
	err = scanOrdered(ctx, len(units), scanWorkers(),
		func(ui int) bool {
			stopped = len(byID) >= limit && units[ui].maxTS < kthNewest(byID, limit)
			return stopped
		},
		func(ui int) ([]ref, error) { return f.scanRefs(&units[ui], ui) },
		func(_ int, refs []ref) {
			for _, r := range refs {
				t := byID[r.traceID]
				if t == nil {
					byID[r.traceID] = &found{ref: storage.TraceRef{TraceID: r.traceID, Start: utc(r.ts), End: utc(r.end)}, newest: r}
					continue
				}
				if st := utc(r.ts); st.Before(t.ref.Start) {
					t.ref.Start = st
				}
				if en := utc(r.end); en.After(t.ref.End) {
					t.ref.End = en
				}
				if newer(&r, &t.newest) {
					t.newest = r
				}
			}
		})
	if err != nil {
		return nil, fmt.Errorf("find trace ids: %w", err)
	}
	all := make([]*found, 0, len(byID))
	for _, t := range byID {
		all = append(all, t)
	}
	sortFound(all, func(a, b *found) bool { return newer(&a.newest, &b.newest) })
	if len(all) > limit {
		all = all[:limit]
	}
	if stopped {
		// Older matching spans of the chosen traces may sit in units the search did not read: look the
		// traces up by ID for the exact time span of their matching spans.
		// The traces are looked up on every core, each by one goroutine.
		err := forEachParallel(len(all), scanWorkers(), func(i int) error {
			t := all[i]
			return s.traceSpans(ctx, t.ref.TraceID, f.tr, func(v *spanView, row int) bool {
				sp := v.spans[row]
				if f.match(&v.groups[v.rowGroup[row]], sp) {
					if st := utc(int64(sp.StartTimestamp())); st.Before(t.ref.Start) {
						t.ref.Start = st
					}
					if en := utc(int64(sp.EndTimestamp())); en.After(t.ref.End) {
						t.ref.End = en
					}
				}
				return true
			})
		})
		if err != nil {
			return nil, fmt.Errorf("find trace ids: %w", err)
		}
	}
	out := make([]storage.TraceRef, len(all))
	for i, t := range all {
		out[i] = t.ref
	}
	return out, nil
}

// GetTrace yields the spans of one trace in pages. Part blocks are found by their trace-ID filters, so no time
// range is needed.
func (e *Engine) GetTrace(ctx context.Context, q storage.TraceQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) {
		s, err := e.snapshot()
		if err != nil {
			yield(ptrace.NewTraces(), err)
			return
		}
		defer s.release()
		pageSize := orDefault(q.PageSize, DefaultPageSize)
		tr := tsRange{lo: -1 << 63, hi: 1<<63 - 1}
		if !q.Start.IsZero() || !q.End.IsZero() {
			tr = queryRange(q.Start, q.End)
		}
		found := 0
		page := newSpanPage()
		stopped := false
		err = s.traceSpans(ctx, q.TraceID, tr, func(v *spanView, row int) bool {
			page.add(v, row)
			found++
			if page.n >= pageSize {
				ok := yield(page.td, nil)
				page = newSpanPage()
				stopped = !ok
				return ok
			}
			return true
		})
		switch {
		case stopped:
		case err != nil:
			yield(ptrace.NewTraces(), fmt.Errorf("get trace: %w", err))
		case found == 0:
			yield(ptrace.NewTraces(), storage.ErrNotFound)
		case page.n > 0:
			yield(page.td, nil)
		}
	}
}

// traceSpans calls fn for each span of trace id whose start is in tr, until fn returns false.
func (s *snapshot) traceSpans(ctx context.Context, id storage.TraceID, tr tsRange, fn func(v *spanView, row int) bool) error {
	h := part.HashBytes(id[:])
	for _, hd := range s.heads {
		for _, b := range hd.traceBatches(id) {
			v := headSpanView(b)
			for i, sp := range v.spans {
				if storage.TraceID(sp.TraceID()) == id && tr.has(v.ts[i]) && !fn(v, i) {
					return nil
				}
			}
		}
	}
	for _, p := range s.parts {
		if p.meta.Kind != part.KindSpans || !tr.overlaps(p.meta.MinTS, p.meta.MaxTS) {
			continue
		}
		for bi := range p.meta.Blocks {
			bm := &p.meta.Blocks[bi]
			if !tr.overlaps(bm.MinTS, bm.MaxTS) || !bm.TraceBloom.Has(h) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			b, err := p.r.ReadBlock(bi, 1<<part.ColTID|1<<part.ColTS)
			if err != nil {
				return fmt.Errorf("part %s: %w", p.path, err)
			}
			var rows []int
			for i := range b.N {
				if b.TID[i] == id && tr.has(b.TS[i]) {
					rows = append(rows, i)
				}
			}
			if len(rows) == 0 {
				continue
			}
			v, err := partSpanView(p, bi, b, rows)
			if err != nil {
				return err
			}
			for _, i := range rows {
				if !fn(v, i) {
					return nil
				}
			}
		}
	}
	return nil
}

// spanPage builds one page of spans, grouping consecutive spans of one resource and scope.
type spanPage struct {
	td        ptrace.Traces
	n         int
	cur       ptrace.SpanSlice
	lastView  *spanView
	lastGroup int32
}

func newSpanPage() *spanPage { return &spanPage{td: ptrace.NewTraces(), lastGroup: -1} }

func (p *spanPage) add(v *spanView, row int) {
	g := v.rowGroup[row]
	if v != p.lastView || g != p.lastGroup {
		gr := &v.groups[g]
		rs := p.td.ResourceSpans().AppendEmpty()
		gr.res.CopyTo(rs.Resource())
		rs.SetSchemaUrl(gr.resSchema)
		ss := rs.ScopeSpans().AppendEmpty()
		gr.scope.CopyTo(ss.Scope())
		ss.SetSchemaUrl(gr.scopeSchema)
		p.cur = ss.Spans()
		p.lastView, p.lastGroup = v, g
	}
	v.spans[row].CopyTo(p.cur.AppendEmpty())
	p.n++
}

// kthNewest returns the start of the k-th newest trace of byID (by its newest matching span).
func kthNewest[T interface{ newestTS() int64 }](byID map[storage.TraceID]T, k int) int64 {
	ts := make([]int64, 0, len(byID))
	for _, t := range byID {
		ts = append(ts, t.newestTS())
	}
	slices.Sort(ts)
	return ts[len(ts)-k]
}

type found struct {
	ref    storage.TraceRef
	newest ref
}

func (f *found) newestTS() int64 { return f.newest.ts }

var _ storage.SpanScanner = (*Engine)(nil)

// ScanSpans calls fn for each span matching q, newest first, at most q.Limit (0: DefaultSpanLimit), without
// copying: the spans are decoded a page at a time and handed to fn as they are.
func (e *Engine) ScanSpans(ctx context.Context, q storage.SpanQuery, fn func(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool) error {
	s, err := e.snapshot()
	if err != nil {
		return err
	}
	defer s.release()
	units, refs, err := s.findSpanRefs(ctx, newSpanFilter(&q), orDefault(q.Limit, DefaultSpanLimit))
	if err != nil {
		return fmt.Errorf("scan spans: %w", err)
	}
	for len(refs) > 0 {
		n := min(DefaultPageSize, len(refs))
		views, err := decodeSpanRefs(ctx, units, refs[:n])
		if err != nil {
			return fmt.Errorf("scan spans: %w", err)
		}
		for _, r := range refs[:n] {
			v := views[r.unit]
			g := &v.groups[v.rowGroup[r.row]]
			if !fn(g.res, g.scope, v.spans[r.row]) {
				return nil
			}
		}
		refs = refs[n:]
	}
	return nil
}
