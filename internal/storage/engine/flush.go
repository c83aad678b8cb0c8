package engine

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata/entity"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
	"github.com/otlpd/otlpd/internal/storage/engine/wal"
)

// maxTokenValue bounds the attribute values that go into token filters; longer ones are found by scanning.
const maxTokenValue = 256

func dayOf(ts int64) string { return time.Unix(0, ts).UTC().Format("2006-01-02") }

// dayNames caches the names of the days of a flush (formatting a date per item is costly).
type dayNames map[int64]string

func (d dayNames) of(ts int64) string {
	const nsPerDay = 86400 * int64(time.Second)
	k := ts / nsPerDay
	if ts%nsPerDay < 0 {
		k--
	}
	s, ok := d[k]
	if !ok {
		s = dayOf(ts)
		d[k] = s
	}
	return s
}

// flush writes the head to parts. It freezes the active head (rotating the WAL so the frozen head is exactly
// the closed segments), writes its parts, records the covered segment in the "flushed" file and deletes those
// segments. A frozen head whose flush failed is retried first.
func (e *Engine) flush() error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.mu.RLock()
	h := e.frozen
	e.mu.RUnlock()
	if h == nil {
		e.writeMu.Lock()
		e.mu.RLock()
		empty := e.active.items() == 0
		e.mu.RUnlock()
		if empty {
			e.writeMu.Unlock()
			return nil
		}
		seq, err := e.wal.Rotate()
		if err != nil {
			e.writeMu.Unlock()
			return fmt.Errorf("flush: %w", err)
		}
		e.mu.Lock()
		h = e.active
		h.walSeq = seq
		e.frozen = h
		e.active = newHead(e.opts.Now())
		e.wakeWriters()
		e.mu.Unlock()
		e.writeMu.Unlock()
	}
	handles, keys, err := e.writeHead(h)
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(e.dir, "flushed"), fmt.Appendf(nil, "%d\n", h.walSeq)); err != nil {
		for _, p := range handles {
			p.release()
			os.Remove(p.path)
		}
		return fmt.Errorf("flush: %w", err)
	}
	e.cat.addAttrKeys(keys)
	e.mu.Lock()
	for _, p := range handles {
		e.parts = append(e.parts, p)
		e.cat.addPart(p)
	}
	sortParts(e.parts)
	e.countUnmerged()
	e.frozen = nil
	e.wakeWriters()
	e.mu.Unlock()
	select {
	case e.mergeKick <- struct{}{}:
	default:
	}
	segs, _ := wal.Segments(e.walDir())
	for _, s := range segs {
		if s <= h.walSeq {
			if err := e.wal.Recycle(s); err != nil { // its file kept for a later segment, or removed
				e.log.Warn("engine: cannot remove flushed wal segment", "segment", s, "err", err)
			}
		}
	}
	return nil
}

func sortParts(ps []*partHandle) {
	slices.SortFunc(ps, func(a, b *partHandle) int { return cmp.Compare(a.meta.ID, b.meta.ID) })
}

// flushGroup is the context of rows being written: a resource and a scope.
type flushGroup struct {
	res         pcommon.Resource
	resSchema   string
	scope       pcommon.InstrumentationScope
	scopeSchema string
}

type spanItem struct {
	ts   int64
	grp  int32
	span ptrace.Span
}

type logItem struct {
	ts  int64
	grp int32
	rec plog.LogRecord
}

// writeHead writes the parts of a frozen head: spans and logs in one part per day, metrics in one part.
func (e *Engine) writeHead(h *head) ([]*partHandle, map[string]struct{}, error) {
	spans, logs, metrics := h.snapshot()
	keys := map[string]struct{}{}
	written, err := e.writeWire(h, spans, logs, keys)
	if err != nil {
		return nil, nil, err
	}
	if len(metrics) > 0 {
		p, err := e.writeMetricPart(h.walSeq, nil, metrics)
		if err != nil {
			for _, p := range written {
				p.release()
				os.Remove(p.path)
			}
			return nil, nil, err
		}
		written = append(written, p)
	}
	return written, keys, nil
}

// timeOrder returns 0..n-1 ordered by ts, ties by index (arrival): the order in which a flush writes items.
// It sorts pointer-free keys rather than the items: a stable sort of the items moves each many times, with a
// GC write barrier per move. When the times span less than 2^(64-bits(n))
// nanoseconds (a day and a half for a million items), each becomes one 64-bit key, its time less the oldest
// above its index, radix-sorted; otherwise a comparison sort orders (time, index) pairs.
func timeOrder(n int, ts func(int) int64) []int32 {
	order := make([]int32, n)
	if n == 0 {
		return order
	}
	lo, hi := ts(0), ts(0)
	for i := 1; i < n; i++ {
		t := ts(i)
		lo, hi = min(lo, t), max(hi, t)
	}
	idxBits := bits.Len(uint(n))
	if span := uint64(hi) - uint64(lo); idxBits < 64 && span < 1<<(64-idxBits) {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = (uint64(ts(i))-uint64(lo))<<idxBits | uint64(i)
		}
		keys = radixSort(keys, make([]uint64, n))
		mask := uint64(1)<<idxBits - 1
		for i, k := range keys {
			order[i] = int32(k & mask)
		}
		return order
	}
	type key struct {
		ts int64
		i  int32
	}
	keys := make([]key, n)
	for i := range keys {
		keys[i] = key{ts(i), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.i, b.i)) })
	for i, k := range keys {
		order[i] = k.i
	}
	return order
}

// radixSort sorts a (using buf, of the same length) by 8-bit digits from the lowest, skipping digits that
// are equal in every key, and returns the sorted slice (a or buf).
func radixSort(a, buf []uint64) []uint64 {
	and, or := ^uint64(0), uint64(0)
	for _, k := range a {
		and &= k
		or |= k
	}
	differ := and ^ or
	for shift := 0; shift < 64; shift += 8 {
		if (differ>>shift)&0xff == 0 {
			continue
		}
		var count [256]int
		for _, k := range a {
			count[(k>>shift)&0xff]++
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for _, k := range a {
			d := (k >> shift) & 0xff
			buf[count[d]] = k
			count[d]++
		}
		a, buf = buf, a
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// partBuilder collects the dictionaries of one part being written.
type partBuilder struct {
	meta    part.Meta
	setOf   map[int32]uint32  // flush group -> set index
	setKey  map[string]uint32 // encoded set -> set index
	nameOf  map[string]uint32
	ops     map[part.Op]struct{}
	keys    map[string]struct{}
	tokens  *hashSet
	traceID map[storage.TraceID]struct{}
	setFP   map[string]uint32 // groupKey -> set index
	// setOfGroup holds the sets of the groups read in place (setWire) by the hash of their messages.
	setOfGroup map[uint64][]groupSet
	fp         []byte
}

// groupSet is a group read in place and its set.
type groupSet struct {
	g   *wireGroup
	set uint32
}

func newPartBuilder(meta part.Meta, keys map[string]struct{}) *partBuilder {
	return &partBuilder{meta: meta, setOf: map[int32]uint32{}, setKey: map[string]uint32{}, nameOf: map[string]uint32{},
		ops: map[part.Op]struct{}{}, keys: keys, tokens: &hashSet{}, traceID: map[storage.TraceID]struct{}{},
		setFP: map[string]uint32{}, setOfGroup: map[uint64][]groupSet{}}
}

func (pb *partBuilder) set(g int32, groups []flushGroup) uint32 {
	if s, ok := pb.setOf[g]; ok {
		return s
	}
	fg := groups[g]
	// Each batch of a head has its own resources, mostly equal to those of other batches: a key written
	// without copying them finds those seen before. (Resources with entity references, which the key does not
	// hold, are always encoded.)
	keyed := entity.ResourceEntityRefs(fg.res).Len() == 0
	if keyed {
		pb.fp = groupKey(pb.fp[:0], &fg)
		if s, ok := pb.setFP[string(pb.fp)]; ok {
			pb.setOf[g] = s
			return s
		}
	}
	raw := encodeGroup(fg.res, fg.resSchema, fg.scope, fg.scopeSchema)
	s, ok := pb.setKey[string(raw)]
	if !ok {
		s = uint32(len(pb.meta.Sets))
		pb.meta.Sets = append(pb.meta.Sets, raw)
		pb.setKey[string(raw)] = s
		for k := range fg.res.Attributes().All() {
			pb.keys[k] = struct{}{}
		}
		for k := range fg.scope.Attributes().All() {
			pb.keys[k] = struct{}{}
		}
	}
	pb.setOf[g] = s
	if keyed {
		pb.setFP[string(pb.fp)] = s
	}
	return s
}

// groupKey writes what identifies a group apart from entity references: resource and scope attributes,
// dropped counts, names and schemas.
func groupKey(dst []byte, fg *flushGroup) []byte {
	dst = appendAttrs(dst, 1, fg.res.Attributes())
	dst = binary.AppendUvarint(appendTag(dst, 2, wireVarint), uint64(fg.res.DroppedAttributesCount()))
	dst = appendStr(appendTag(dst, 3, wireLen), fg.resSchema)
	dst = appendStr(appendTag(dst, 4, wireLen), fg.scope.Name())
	dst = appendStr(appendTag(dst, 5, wireLen), fg.scope.Version())
	dst = appendAttrs(dst, 6, fg.scope.Attributes())
	dst = binary.AppendUvarint(appendTag(dst, 7, wireVarint), uint64(fg.scope.DroppedAttributesCount()))
	return appendStr(appendTag(dst, 8, wireLen), fg.scopeSchema)
}

func (pb *partBuilder) name(n string) uint32 {
	if i, ok := pb.nameOf[n]; ok {
		return i
	}
	i := uint32(len(pb.meta.Names))
	pb.meta.Names = append(pb.meta.Names, n)
	pb.nameOf[n] = i
	return i
}

func (pb *partBuilder) blooms() (part.Bloom, part.Bloom) { return bloomsOf(pb.traceID, pb.tokens) }

// bloomsOf returns a block's trace ID and token filters, and clears the sets they hold.
func bloomsOf(traceID map[storage.TraceID]struct{}, tokens *hashSet) (part.Bloom, part.Bloom) {
	tb := part.NewBloom(len(traceID), part.TraceBloomBits)
	tb.AddAll(func(add func(uint64)) {
		for id := range traceID {
			add(part.HashBytes(id[:]))
		}
	})
	kb := part.NewBloom(tokens.len(), part.TokenBloomBits)
	kb.AddAll(tokens.each)
	clear(traceID)
	tokens.reset()
	return tb, kb
}

func (e *Engine) createPart(day string, meta part.Meta) (*part.Writer, string, error) {
	dir := filepath.Join(e.partsDir(), day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create partition %s: %w", day, err)
	}
	path := filepath.Join(dir, partName(meta.ID, meta.Kind))
	w, err := part.Create(path, meta)
	switch {
	case err != nil:
	case len(meta.Sources) > 0:
		w.Level = part.LevelBest // a merge, in the background
	case meta.Kind != part.KindMetrics && !e.isClosed():
		// A flush of spans or logs: a merge compresses the block soon after (merges and mergeFlushed),
		// so the flush stores most columns as they are and the work is done once, in the background.
		// The flush of Close compresses (at the fast level): no merge follows it in this process.
		w.Level = part.LevelStore
	}
	return w, path, err
}

// finishPart writes the footer and opens the part for reading.
func finishPart(w *part.Writer, path string) (*partHandle, error) {
	if _, err := w.Finish(); err != nil {
		return nil, err
	}
	return openPart(path)
}

// writeSpanPart writes the spans next yields (sorted by time) as one part. groups holds the context of
// every item.
func (e *Engine) writeSpanPart(day string, walSeq uint64, sources []uint64, groups []flushGroup, next func() (spanItem, bool), keys map[string]struct{}) (*partHandle, error) {
	pb := newPartBuilder(part.Meta{ID: e.nextID.Add(1) - 1, Kind: part.KindSpans, WALSeq: walSeq, Sources: sources}, keys)
	blockRows := e.opts.BlockRows
	rows := make([]part.Row, 0, blockRows)
	w, path, err := e.createPart(day, pb.meta)
	if err != nil {
		return nil, err
	}
	services := map[int32]string{}
	// Operations seen, by group, name index and kind: cheaper to look up than part.Op.
	type opKey struct {
		grp  int32
		name uint32
		kind ptrace.SpanKind
	}
	opSeen := map[opKey]bool{}
	ac := attrCols{tokens: pb.tokens, catalog: pb.keys}
	var attrBuf, blobBuf []byte
	var start int
	for done := false; !done; {
		ac.reset()
		blobBuf, start = beginBlob(blobBuf[:0])
		rows = rows[:0]
		for len(rows) < blockRows {
			it, ok := next()
			if !ok {
				done = true
				break
			}
			sp := it.span
			id := storage.TraceID(sp.TraceID())
			svc, ok := services[it.grp]
			if !ok {
				svc = serviceOf(groups[it.grp].res)
				services[it.grp] = svc
			}
			name := pb.name(sp.Name())
			if ok := opSeen[opKey{it.grp, name, sp.Kind()}]; !ok {
				opSeen[opKey{it.grp, name, sp.Kind()}] = true
				pb.ops[part.Op{Service: svc, Name: sp.Name(), Kind: uint8(sp.Kind())}] = struct{}{}
			}
			rows = append(rows, part.Row{
				TS: it.ts, Aux: int64(sp.EndTimestamp()) - it.ts, TraceID: id, Set: pb.set(it.grp, groups),
				Name: name, Code: uint32(sp.Kind()) | uint32(sp.Status().Code())<<4,
				SpanID: sp.SpanID(), ParentID: sp.ParentSpanID(),
			})
			pb.traceID[id] = struct{}{}
			blobBuf = appendSpanRow(blobBuf, sp, ac.add(sp.Attributes()))
		}
		if len(rows) == 0 {
			break
		}
		blob := endBlob(blobBuf, start)
		tb, kb := pb.blooms()
		attrBuf = ac.encode(attrBuf[:0])
		if err := w.AddBlock(rows, blob, attrBuf, tb, kb); err != nil {
			w.Abort()
			return nil, err
		}
	}
	w.SetDicts(pb.meta.Sets, pb.meta.Names, opsList(pb.ops), keyList(pb.keys))
	return finishPart(w, path)
}

// writeLogPart writes the records next yields (sorted by time) as one part.
func (e *Engine) writeLogPart(day string, walSeq uint64, sources []uint64, groups []flushGroup, next func() (logItem, bool), keys map[string]struct{}) (*partHandle, error) {
	pb := newPartBuilder(part.Meta{ID: e.nextID.Add(1) - 1, Kind: part.KindLogs, WALSeq: walSeq, Sources: sources}, keys)
	w, path, err := e.createPart(day, pb.meta)
	if err != nil {
		return nil, err
	}
	blockRows := e.opts.BlockRows
	rows := make([]part.Row, 0, blockRows)
	ac := attrCols{tokens: pb.tokens, catalog: pb.keys}
	var attrBuf, blobBuf []byte
	var start int
	wordTok := func(tok string) { pb.tokens.add(part.HashToken(part.TokenWord, tok, 0, "")) }
	for done := false; !done; {
		ac.reset()
		blobBuf, start = beginBlob(blobBuf[:0])
		rows = rows[:0]
		for len(rows) < blockRows {
			it, ok := next()
			if !ok {
				done = true
				break
			}
			rec := it.rec
			id := storage.TraceID(rec.TraceID())
			code := uint32(rec.SeverityNumber()) & 0xff
			if rec.Timestamp() == 0 {
				code |= 1 << 8
			}
			r := part.Row{TS: it.ts, Aux: int64(rec.ObservedTimestamp()) - it.ts, TraceID: id, Set: pb.set(it.grp, groups), Code: code,
				SpanID: rec.SpanID()}
			body := rec.Body()
			if body.Type() == pcommon.ValueTypeStr {
				// AddBlock only reads the row's body: no copy of the string.
				r.Body = unsafe.Slice(unsafe.StringData(body.Str()), len(body.Str()))
				if r.Body == nil {
					r.Body = []byte{} // an empty string body is still a string body
				}
				part.Tokens(body.Str(), wordTok)
			} else if body.Type() != pcommon.ValueTypeEmpty {
				part.Tokens(body.AsString(), wordTok)
			}
			rows = append(rows, r)
			if !id.IsEmpty() {
				pb.traceID[id] = struct{}{}
			}
			blobBuf = appendLogRow(blobBuf, rec, ac.add(rec.Attributes()))
		}
		if len(rows) == 0 {
			break
		}
		blob := endBlob(blobBuf, start)
		tb, kb := pb.blooms()
		attrBuf = ac.encode(attrBuf[:0])
		if err := w.AddBlock(rows, blob, attrBuf, tb, kb); err != nil {
			w.Abort()
			return nil, err
		}
	}
	w.SetDicts(pb.meta.Sets, nil, nil, keyList(pb.keys))
	return finishPart(w, path)
}

// writeMetricPart writes metric batches as one part of one row per batch.
func (e *Engine) writeMetricPart(walSeq uint64, sources []uint64, batches []*metricBatch) (*partHandle, error) {
	batches = slices.Clone(batches)
	slices.SortStableFunc(batches, func(a, b *metricBatch) int { return cmp.Compare(a.minTS, b.minTS) })
	meta := part.Meta{ID: e.nextID.Add(1) - 1, Kind: part.KindMetrics, WALSeq: walSeq, Sources: sources}
	names := map[string]struct{}{}
	for _, b := range batches {
		forEachPoint(b.md, func(m pmetric.Metric, _ int, _ int64) { names[m.Name()] = struct{}{} })
	}
	w, path, err := e.createPart(dayOf(batches[0].minTS), meta)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(batches); start += 256 {
		var rows []part.Row
		for _, b := range batches[start:min(len(batches), start+256)] {
			raw, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(b.md)
			if err != nil {
				w.Abort()
				return nil, fmt.Errorf("encode metrics: %w", err)
			}
			rows = append(rows, part.Row{TS: b.minTS, Aux: b.maxTS - b.minTS, Body: raw})
		}
		if err := w.AddBlock(rows, nil, nil, nil, nil); err != nil {
			w.Abort()
			return nil, err
		}
	}
	w.SetDicts(nil, sortedKeys(names), nil, nil)
	return finishPart(w, path)
}

func opsList(m map[part.Op]struct{}) []part.Op {
	out := make([]part.Op, 0, len(m))
	for o := range m {
		out = append(out, o)
	}
	slices.SortFunc(out, compareOps)
	return out
}

// compareOps orders operations by service, name and kind, each field compared only when the ones before are
// equal (cmp.Or would compare all three): a part lists thousands of operations (12,597 in a head of the
// reference workload's spans), and every flush and merge sorts them (BenchmarkOpsList 540 -> 400 us).
func compareOps(a, b part.Op) int {
	if c := strings.Compare(a.Service, b.Service); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.Kind, b.Kind)
}

func keyList(m map[string]struct{}) []string { return sortedKeys(m) }
