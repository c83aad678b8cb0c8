package engine

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// logView is the rows of a unit as pdata log records, each with its resource and scope.
type logView struct {
	groups   []group
	rowGroup []int32
	recs     []plog.LogRecord
	ts       []int64
	keep     plog.Logs
}

func headLogView(b *logBatch) *logView {
	v := &logView{}
	rls := b.logs().ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			g := int32(len(v.groups))
			v.groups = append(v.groups, group{res: rl.Resource(), resSchema: rl.SchemaUrl(), scope: sl.Scope(),
				scopeSchema: sl.SchemaUrl(), service: serviceOf(rl.Resource())})
			recs := sl.LogRecords()
			for k := range recs.Len() {
				rec := recs.At(k)
				v.rowGroup = append(v.rowGroup, g)
				v.recs = append(v.recs, rec)
				v.ts = append(v.ts, logTS(rec))
			}
		}
	}
	return v
}

const logFilterCols = 1<<part.ColTS | 1<<part.ColSet | 1<<part.ColCode | 1<<part.ColTID | 1<<part.ColBody

// partLogView decodes the given rows (nil: all) of a block of a log part and puts the column fields back into
// the records. b may hold some columns already.
func partLogView(p *partHandle, blk int, b *part.Block, rows []int) (*logView, error) {
	b, err := readMissing(p, blk, b, logFilterCols|1<<part.ColAux|1<<part.ColBlob|1<<part.ColAttrs|1<<part.ColSpanID)
	if err != nil {
		return nil, err
	}
	blob, want, ad, err := selectBlockRows(p, blk, b, rows)
	if err != nil {
		return nil, err
	}
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(blob)
	if err != nil {
		return nil, corrupt(p, "block %d: %v", blk, err)
	}
	if ld.ResourceLogs().Len() != 1 || ld.ResourceLogs().At(0).ScopeLogs().Len() != 1 ||
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().Len() != want {
		return nil, corrupt(p, "block %d: record count does not match", blk)
	}
	recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	v := &logView{groups: p.groups, rowGroup: make([]int32, b.N), recs: make([]plog.LogRecord, b.N), ts: b.TS, keep: ld}
	for k := range want {
		i := k
		if rows != nil {
			i = rows[k]
		}
		if int(b.Set[i]) >= len(p.groups) {
			return nil, corrupt(p, "block %d row %d: attribute set out of range", blk, i)
		}
		rec := recs.At(k)
		if b.Code[i]&(1<<8) == 0 {
			rec.SetTimestamp(pcommonTS(b.TS[i]))
		}
		rec.SetObservedTimestamp(pcommonTS(b.TS[i] + b.Aux[i]))
		rec.SetSeverityNumber(plog.SeverityNumber(b.Code[i] & 0xff))
		rec.SetTraceID(b.TID[i])
		rec.SetSpanID(b.SpanID[i])
		if b.Body[i] != nil {
			rec.Body().SetStr(string(b.Body[i]))
		}
		ad.restore(i, rec.Attributes())
		v.rowGroup[i] = int32(b.Set[i])
		v.recs[i] = rec
	}
	return v, nil
}

type logFilter struct {
	q        *storage.LogQuery
	tr       tsRange
	words    []uint64 // token hashes every matching body holds
	needle   []byte
	body     bodyNeedle
	hasTID   bool // the query names a trace ID
	bodyFast bool // part.MatchBodies answers the body needle on the body column as stored
	needFull bool
}

func newLogFilter(q *storage.LogQuery) *logFilter {
	f := &logFilter{q: q, tr: queryRange(q.Start, q.End), needFull: len(q.Attributes) > 0 || q.Match != nil, needle: []byte(q.BodyContains)}
	f.body = newBodyNeedle(q.BodyContains)
	f.hasTID = !q.TraceID.IsEmpty()
	f.bodyFast = q.BodyContains != "" && part.BodyNeedleMatchable(f.needle)
	part.WholeTokens(q.BodyContains, func(tok string) {
		f.words = append(f.words, part.HashToken(part.TokenWord, tok, 0, ""))
	})
	return f
}

func (f *logFilter) match(g *group, rec plog.LogRecord, ts int64) bool {
	q := f.q
	if !f.tr.has(ts) {
		return false
	}
	if q.MinSeverity != 0 && rec.SeverityNumber() < q.MinSeverity {
		return false
	}
	if q.MaxSeverity != 0 && rec.SeverityNumber() > q.MaxSeverity {
		return false
	}
	if !q.TraceID.IsEmpty() && storage.TraceID(rec.TraceID()) != q.TraceID {
		return false
	}
	if q.Service != "" && g.service != q.Service {
		return false
	}
	if q.BodyContains != "" && !bodyContains(rec.Body(), q.BodyContains) {
		return false
	}
	if !storage.MatchAll(q.Attributes, rec.Attributes(), g.scope.Attributes(), g.res.Attributes()) {
		return false
	}
	return q.Match == nil || q.Match.MatchLog(g.res, g.scope, rec)
}

func bodyContains(v pcommon.Value, needle string) bool {
	if v.Type() == pcommon.ValueTypeStr {
		return strings.Contains(v.Str(), needle)
	}
	return strings.Contains(v.AsString(), needle)
}

// matchColumns evaluates the conditions the columns read answer (a column not read is not needed: see
// logScanCols). full is false when the body is not a string and the body condition must be checked on the
// decoded record.
func (f *logFilter) matchColumns(b *part.Block, bm *bodyMatch, i int, allowed []bool) (ok, full bool) {
	q := f.q
	if (b.TS != nil && !f.tr.has(b.TS[i])) || (b.Set != nil && (int(b.Set[i]) >= len(allowed) || !allowed[b.Set[i]])) {
		return false, false
	}
	if b.Code != nil {
		sev := plog.SeverityNumber(b.Code[i] & 0xff)
		if (q.MinSeverity != 0 && sev < q.MinSeverity) || (q.MaxSeverity != 0 && sev > q.MaxSeverity) {
			return false, false
		}
	}
	if f.hasTID && storage.TraceID(b.TID[i]) != q.TraceID {
		return false, false
	}
	if q.BodyContains != "" {
		if !bm.str(b, i) {
			return true, true
		}
		if !bm.has(b, i, f.needle) {
			return false, false
		}
	}
	return true, f.needFull
}

// bodyMatch is the answer of part.MatchBodies for a block; nil: the bodies are in Block.Body.
type bodyMatch struct{ strs, hits []bool }

// str reports whether row i has a string body.
func (m *bodyMatch) str(b *part.Block, i int) bool {
	if m == nil {
		return b.Body[i] != nil
	}
	return m.strs[i]
}

// has reports whether the string body of row i holds needle.
func (m *bodyMatch) has(b *part.Block, i int, needle []byte) bool {
	if m == nil {
		return bytes.Contains(b.Body[i], needle)
	}
	return m.hits[i]
}

// logScanCols returns the columns matchColumns needs for block bm, whose attribute sets allowed are. The
// times are not needed when the block lies within the range (they are read for the rows that match).
func (f *logFilter) logScanCols(bm *part.BlockMeta, allowed []bool) uint32 {
	mask := uint32(0)
	if !f.tr.has(bm.MinTS) || !f.tr.has(bm.MaxTS) {
		mask |= 1 << part.ColTS
	}
	if slices.Contains(allowed, false) {
		mask |= 1 << part.ColSet
	}
	if f.q.MinSeverity != 0 || f.q.MaxSeverity != 0 {
		mask |= 1 << part.ColCode
	}
	if f.hasTID {
		mask |= 1 << part.ColTID
	}
	if f.q.BodyContains != "" && !f.bodyFast {
		mask |= 1 << part.ColBody
	}
	return mask
}

func (s *snapshot) logUnits(f *logFilter) []unit {
	var units []unit
	for hi, h := range s.heads {
		_, logs, _ := h.snapshot()
		for _, b := range logs {
			if f.tr.overlaps(b.minTS, b.maxTS) {
				units = append(units, unit{minTS: b.minTS, maxTS: b.maxTS, hl: b, class: s.classes[hi], order: b.arrival})
			}
		}
	}
	tid := f.q.TraceID
	th := part.HashBytes(tid[:])
	for _, p := range s.parts {
		if p.meta.Kind != part.KindLogs || !f.tr.overlaps(p.meta.MinTS, p.meta.MaxTS) {
			continue
		}
		allowed, any := allowedGroups(p.groups, f.q.Service, f.q.Attributes)
		if !any {
			continue
		}
	blocks:
		for bi := range p.meta.Blocks {
			bm := &p.meta.Blocks[bi]
			if !f.tr.overlaps(bm.MinTS, bm.MaxTS) || !bloomOK(bm.TokenBloom, f.q.Attributes, p.groups, allowed) {
				continue
			}
			if !tid.IsEmpty() && !bm.TraceBloom.Has(th) {
				continue
			}
			for _, w := range f.words {
				if !bm.TokenBloom.Has(w) {
					continue blocks
				}
			}
			units = append(units, unit{minTS: bm.MinTS, maxTS: bm.MaxTS, p: p, blk: bi, order: p.meta.ID})
		}
	}
	return units
}

func (f *logFilter) scan(u *unit, fn func(v *logView, row int)) error {
	if u.p == nil {
		v := headLogView(u.hl)
		for i, rec := range v.recs {
			if f.match(&v.groups[v.rowGroup[i]], rec, v.ts[i]) {
				fn(v, i)
			}
		}
		return nil
	}
	p := u.p
	allowed, _ := allowedGroups(p.groups, f.q.Service, f.q.Attributes)
	b, err := p.r.ReadBlock(u.blk, f.logScanCols(&p.meta.Blocks[u.blk], allowed))
	if err != nil {
		return fmt.Errorf("part %s: %w", p.path, err)
	}
	var bm *bodyMatch
	if f.bodyFast {
		raw, err := p.r.ReadRaw(u.blk, part.ColBody, nil)
		if err != nil {
			return fmt.Errorf("part %s: %w", p.path, err)
		}
		strs, hits, ok, err := part.MatchBodies(raw, b.N, f.needle)
		switch {
		case err != nil:
			return corrupt(p, "block %d: %v", u.blk, err)
		case ok:
			bm = &bodyMatch{strs: strs, hits: hits}
		default:
			if b, err = readMissing(p, u.blk, b, 1<<part.ColBody); err != nil {
				return err
			}
		}
	}
	var sure, check, opaque []int
	for i := range b.N {
		ok, full := f.matchColumns(b, bm, i, allowed)
		switch {
		case ok && full && f.q.BodyContains != "" && !bm.str(b, i) && !f.body.structural:
			opaque = append(opaque, i)
		case ok && full:
			check = append(check, i)
		case ok:
			sure = append(sure, i)
		}
	}
	if len(opaque) > 0 {
		// Bodies that are not strings: rule out, from their encoding, those that cannot hold the needle.
		if b, err = readMissing(p, u.blk, b, 1<<part.ColBlob); err != nil {
			return err
		}
		rows, err := blockRows(p, u.blk, b)
		if err != nil {
			return err
		}
		for _, i := range opaque {
			if av, ok := logRecordBody(rows[i]); !ok || f.body.mayContain(av) {
				check = append(check, i)
			}
		}
		slices.Sort(check)
	}
	if len(check) == 0 && len(sure) == 0 {
		return nil
	}
	if b, err = readMissing(p, u.blk, b, 1<<part.ColTS); err != nil {
		return err
	}
	if len(check) == 0 {
		v := &logView{ts: b.TS} // the columns answered every condition
		for _, i := range sure {
			fn(v, i)
		}
		return nil
	}
	if check, err = prefilterAttrs(p, u.blk, b, check, f.q.Attributes, allowed); err != nil {
		return err
	}
	v, err := partLogView(p, u.blk, b, check)
	if err != nil {
		return err
	}
	// Rows are reported in row order, merging the two lists.
	ci, si := 0, 0
	for ci < len(check) || si < len(sure) {
		if si < len(sure) && (ci >= len(check) || sure[si] < check[ci]) {
			fn(v, sure[si])
			si++
			continue
		}
		i := check[ci]
		ci++
		if f.match(&v.groups[v.rowGroup[i]], v.recs[i], v.ts[i]) {
			fn(v, i)
		}
	}
	return nil
}

// scanRefs returns the refs of the rows of u (the ui-th unit) that match, in row order.
func (f *logFilter) scanRefs(u *unit, ui int) ([]ref, error) {
	var refs []ref
	k1 := u.class<<62 | u.order
	err := f.scan(u, func(v *logView, row int) {
		refs = append(refs, ref{ts: v.ts[row], unit: int32(ui), row: int32(row), k1: k1, k2: uint64(u.blk)<<32 | uint64(row)})
	})
	return refs, err
}

func older(a, b *ref) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.k1 != b.k1 {
		return a.k1 < b.k1
	}
	return a.k2 < b.k2
}

// FindLogs yields the records matching q in q.Order on their time (ties: by arrival), in pages. Only the
// positions of the matches are held while searching; records are decoded page by page.
func (e *Engine) FindLogs(ctx context.Context, q storage.LogQuery) iter.Seq2[plog.Logs, error] {
	return func(yield func(plog.Logs, error) bool) {
		s, err := e.snapshot()
		if err != nil {
			yield(plog.NewLogs(), err)
			return
		}
		defer s.release()
		f := newLogFilter(&q)
		newestFirst := q.Order != storage.OldestFirst
		units := s.logUnits(f)
		sortUnits(units, newestFirst)
		better := newer
		if !newestFirst {
			better = older
		}
		top := &topK{k: orDefault(q.Limit, DefaultLogLimit), better: better}
		err = scanOrdered(ctx, len(units), scanWorkers(),
			func(ui int) bool {
				bound := units[ui].maxTS
				if !newestFirst {
					bound = units[ui].minTS
				}
				return top.closed(bound, newestFirst)
			},
			func(ui int) ([]ref, error) { return f.scanRefs(&units[ui], ui) },
			func(_ int, refs []ref) {
				for _, r := range refs {
					top.add(r)
				}
			})
		if err != nil {
			yield(plog.NewLogs(), fmt.Errorf("find logs: %w", err))
			return
		}
		refs := top.sorted()
		top = nil
		for len(refs) > 0 {
			n := min(DefaultPageSize, len(refs))
			ld, err := materializeLogs(ctx, units, refs[:n])
			if err != nil {
				yield(plog.NewLogs(), fmt.Errorf("find logs: %w", err))
				return
			}
			if !yield(ld, nil) {
				return
			}
			refs = refs[n:]
		}
	}
}

// materializeLogs copies the records of refs, in order, into a new plog.Logs, decoding only their rows.
func materializeLogs(ctx context.Context, units []unit, refs []ref) (plog.Logs, error) {
	ld := plog.NewLogs()
	rowsOf := map[int32][]int{}
	for _, r := range refs {
		rowsOf[r.unit] = append(rowsOf[r.unit], int(r.row))
	}
	views := map[int32]*logView{}
	for ui, rows := range rowsOf {
		if err := ctx.Err(); err != nil {
			return ld, err
		}
		u := &units[ui]
		if u.p == nil {
			views[ui] = headLogView(u.hl)
			continue
		}
		slices.Sort(rows)
		v, err := partLogView(u.p, u.blk, nil, slices.Compact(rows))
		if err != nil {
			return ld, err
		}
		views[ui] = v
	}
	var cur plog.LogRecordSlice
	var lastView *logView
	lastGroup := int32(-1)
	for _, r := range refs {
		v := views[r.unit]
		g := v.rowGroup[r.row]
		if v != lastView || g != lastGroup {
			gr := &v.groups[g]
			rl := ld.ResourceLogs().AppendEmpty()
			gr.res.CopyTo(rl.Resource())
			rl.SetSchemaUrl(gr.resSchema)
			sl := rl.ScopeLogs().AppendEmpty()
			gr.scope.CopyTo(sl.Scope())
			sl.SetSchemaUrl(gr.scopeSchema)
			cur = sl.LogRecords()
			lastView, lastGroup = v, g
		}
		v.recs[r.row].CopyTo(cur.AppendEmpty())
	}
	return ld, nil
}
