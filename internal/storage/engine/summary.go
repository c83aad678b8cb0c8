package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

var _ storage.SpanSummaryScanner = (*Engine)(nil)

// Field numbers of the OTLP Span message read from a row without decoding it.
const (
	spanFieldAttributes = 9
	keyValueFieldKey    = 1
)

// ScanSpanSummaries calls fn with the summary of each span matching q. From a part it reads the filter
// columns and the trace, span and parent span ID columns; the attribute column (and the blob, for peer keys
// of other types than string and int) only when opts.PeerKeys is set and a block has client spans. Queries
// with attribute predicates or a matcher need whole spans and go through ScanSpans.
func (e *Engine) ScanSpanSummaries(ctx context.Context, q storage.SpanQuery, opts storage.SummaryOptions, fn func(*storage.SpanSummary) bool) (truncated bool, err error) {
	limit := orDefault(q.Limit, DefaultSpanLimit)
	f := newSpanFilter(&q)
	if f.needFull {
		q.Limit = limit + 1 // one more, to know whether there are more
		var sum storage.SpanSummary
		n := 0
		err := e.ScanSpans(ctx, q, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
			if n == limit {
				truncated = true
				return false
			}
			n++
			storage.Summarize(&sum, serviceOf(res), sp, opts)
			return fn(&sum)
		})
		if err != nil {
			return false, err
		}
		return truncated, nil
	}
	s, err := e.snapshot()
	if err != nil {
		return false, err
	}
	defer s.release()
	units := s.spanUnits(f)
	rows := 0
	for i := range units {
		if u := &units[i]; u.p == nil {
			rows += u.hs.n
		} else {
			rows += u.p.meta.Blocks[u.blk].Rows
		}
	}
	sc := &summaryScan{f: f, opts: opts, fn: fn}
	if rows <= limit {
		// Every matching span is visited: no need to rank them.
		for ui := range units {
			if err := ctxCheck(ctx, ui); err != nil {
				return false, fmt.Errorf("scan span summaries: %w", err)
			}
			if stop, err := sc.unit(&units[ui], nil); err != nil || stop {
				return false, wrapSummaryErr(err)
			}
		}
		return false, nil
	}
	// More rows than the limit: rank the candidates by the columns alone, as ScanSpans does (one more than
	// the limit, to know whether there are more), then summarize the kept rows unit by unit.
	units, refs, err := s.findSpanRefs(ctx, f, limit+1)
	if err != nil {
		return false, fmt.Errorf("scan span summaries: %w", err)
	}
	if len(refs) > limit {
		refs, truncated = refs[:limit], true // newest first: drop the oldest
	}
	byUnit := map[int32][]int{}
	for _, r := range refs {
		byUnit[r.unit] = append(byUnit[r.unit], int(r.row))
	}
	order := make([]int32, 0, len(byUnit))
	for ui := range byUnit {
		order = append(order, ui)
	}
	slices.Sort(order)
	for i, ui := range order {
		if err := ctxCheck(ctx, i); err != nil {
			return false, fmt.Errorf("scan span summaries: %w", err)
		}
		rs := byUnit[ui]
		slices.Sort(rs)
		if stop, err := sc.unit(&units[ui], rs); err != nil || stop {
			return false, wrapSummaryErr(err)
		}
	}
	return truncated, nil
}

func wrapSummaryErr(err error) error {
	if err != nil {
		return fmt.Errorf("scan span summaries: %w", err)
	}
	return nil
}

// summaryScan summarizes the rows of units for one ScanSpanSummaries call.
type summaryScan struct {
	f    *spanFilter
	opts storage.SummaryOptions
	fn   func(*storage.SpanSummary) bool
	sum  storage.SpanSummary
	sel  []bool
}

// unit calls fn for the given rows of u (nil: every row matching the filter); stop reports fn returned false.
func (sc *summaryScan) unit(u *unit, rows []int) (stop bool, err error) {
	if u.p == nil {
		v := headSpanView(u.hs)
		visit := func(i int) bool {
			g := &v.groups[v.rowGroup[i]]
			storage.Summarize(&sc.sum, g.service, v.spans[i], sc.opts)
			return sc.fn(&sc.sum)
		}
		if rows != nil {
			for _, i := range rows {
				if !visit(i) {
					return true, nil
				}
			}
			return false, nil
		}
		for i, sp := range v.spans {
			if sc.f.match(&v.groups[v.rowGroup[i]], sp) && !visit(i) {
				return true, nil
			}
		}
		return false, nil
	}
	p := u.p
	b, err := p.r.ReadBlock(u.blk, spanFilterCols|1<<part.ColTID|1<<part.ColSpanID|1<<part.ColParent)
	if err != nil {
		return false, fmt.Errorf("part %s: %w", p.path, err)
	}
	cand := rows
	if cand == nil {
		allowed, _ := allowedGroups(p.groups, sc.f.q.Service, sc.f.q.Attributes)
		nameID := -1
		if sc.f.q.SpanName != "" {
			nameID = int(p.names[sc.f.q.SpanName])
		}
		cand = make([]int, 0, b.N)
		for i := range b.N {
			if sc.f.matchColumns(b, i, allowed, nameID) {
				cand = append(cand, i)
			}
		}
	}
	if len(cand) == 0 {
		return false, nil
	}
	var raw [][]byte
	var peers *peerCols
	if len(sc.opts.PeerKeys) > 0 {
		if peers, err = sc.peerCols(p, u.blk, b, cand); err != nil {
			return false, err
		}
		if peers != nil {
			// Peer keys of other types than string and int are in the rows' blob.
			if b, err = readMissing(p, u.blk, b, 1<<part.ColBlob); err != nil {
				return false, err
			}
			if raw, err = blockRows(p, u.blk, b); err != nil {
				return false, err
			}
		}
	}
	sum := &sc.sum
	for _, i := range cand {
		if i >= b.N || int(b.Set[i]) >= len(p.groups) || int(b.Name[i]) >= len(p.meta.Names) {
			return false, corrupt(p, "block %d row %d: dictionary index out of range", u.blk, i)
		}
		*sum = storage.SpanSummary{
			TraceID:      storage.TraceID(b.TID[i]),
			Service:      p.groups[b.Set[i]].service,
			Name:         p.meta.Names[b.Name[i]],
			Kind:         ptrace.SpanKind(b.Code[i] & 0xf),
			StatusCode:   ptrace.StatusCode(b.Code[i] >> 4),
			Start:        b.TS[i],
			End:          b.TS[i] + b.Aux[i],
			SpanID:       b.SpanID[i],
			ParentSpanID: b.ParentID[i],
		}
		if peers != nil && sum.Kind == ptrace.SpanKindClient {
			if sum.Peer, err = peers.peer(i, raw[i]); err != nil {
				return false, corrupt(p, "block %d row %d: %v", u.blk, i, err)
			}
		}
		if !sc.fn(sum) {
			return true, nil
		}
	}
	return false, nil
}

// peerCols finds the peer of the client spans of a block: the string and int attributes are in the
// attribute column, the others (rare for peer keys) in the rows.
type peerCols struct {
	keys []string
	col  *attrColsDec
	idx  []int // per key, its index in col.keys, or -1
}

func (sc *summaryScan) peerCols(p *partHandle, blk int, b *part.Block, cand []int) (*peerCols, error) {
	if cap(sc.sel) < b.N {
		sc.sel = make([]bool, b.N)
	}
	sel := sc.sel[:b.N]
	clear(sel)
	has := false
	for _, i := range cand {
		if i < b.N && ptrace.SpanKind(b.Code[i]&0xf) == ptrace.SpanKindClient {
			sel[i], has = true, true
		}
	}
	if !has {
		return nil, nil
	}
	b, err := readMissing(p, blk, b, 1<<part.ColAttrs|1<<part.ColSet)
	if err != nil {
		return nil, err
	}
	d, err := decodeAttrCols(b.Attrs, b.N, sel, b.Set)
	if err != nil {
		return nil, corrupt(p, "block %d: %v", blk, err)
	}
	pc := &peerCols{keys: sc.opts.PeerKeys, col: d, idx: make([]int, len(sc.opts.PeerKeys))}
	for k, key := range pc.keys {
		pc.idx[k] = slices.Index(d.keys, key)
	}
	return pc, nil
}

// peer returns the string form of the first peer key present and not empty on row i, or "".
func (pc *peerCols) peer(i int, row []byte) (string, error) {
	for k, key := range pc.keys {
		if ki := pc.idx[k]; ki >= 0 {
			switch e := pc.col.value(i, ki); e.tag {
			case attrStr:
				if e.s != "" {
					return e.s, nil
				}
				continue
			case attrInt:
				return strconv.FormatInt(e.i, 10), nil
			}
		}
		s, err := rowAttrString(row, key)
		if err != nil {
			return "", err
		}
		if s != "" {
			return s, nil
		}
	}
	return "", nil
}

// rowAttrString returns the string form of the attribute key left in a row (one the attribute column does not
// hold: a boolean, double, bytes, array or map), or "" when the row has none. Only that attribute is decoded.
func rowAttrString(row []byte, key string) (string, error) {
	for len(row) > 0 {
		field, wire, val, rest, err := protoField(row)
		if err != nil {
			return "", err
		}
		row = rest
		if field != spanFieldAttributes || wire != 2 {
			continue
		}
		if is, err := keyValueKeyIs(val, key); err != nil || !is {
			if err != nil {
				return "", err
			}
			continue
		}
		// A span holding only this attribute, in a blob of one row.
		one := appendLenField(nil, spanFieldAttributes, len(val))
		one = append(one, val...)
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(selectRows([][]byte{one}, []int{0}))
		if err != nil {
			return "", err
		}
		sp := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		if v, ok := sp.Attributes().Get(key); ok {
			return v.AsString(), nil
		}
		return "", nil
	}
	return "", nil
}

// keyValueKeyIs reports whether the key of an OTLP KeyValue message is key.
func keyValueKeyIs(kv []byte, key string) (bool, error) {
	for len(kv) > 0 {
		field, wire, val, rest, err := protoField(kv)
		if err != nil {
			return false, err
		}
		if field == keyValueFieldKey && wire == 2 {
			return string(val) == key, nil
		}
		kv = rest
	}
	return key == "", nil
}
