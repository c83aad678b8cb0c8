package engine

import (
	"encoding/binary"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// A flush writes span and log batches from their protobuf encoding, read in place: rows are never decoded
// into pdata. Strings taken from a batch are views of it, valid while the frozen head is.

// valueString is pcommon.Value.AsString of an AnyValue read in place.
func valueString(v otlpwire.Value) string {
	switch v.Kind {
	case otlpwire.KindString:
		return v.Str()
	case otlpwire.KindEmpty:
		return ""
	case otlpwire.KindBool:
		return strconv.FormatBool(v.Num != 0)
	}
	pv := pcommon.NewValueEmpty()
	if err := v.CopyTo(pv); err != nil {
		return ""
	}
	return pv.AsString()
}

// valueTokens calls fn with the words of v's string form (valueString: JSON for maps and arrays) without
// building it, when it can: a map or array of strings without characters JSON escapes, ints, bools and empty
// values. Their words in the JSON text are exactly the words of each key and value, since the JSON
// punctuation around them is not part of a word (a key repeated in a map gives its every value's words: more
// than the text has, which a filter may hold). It returns false, having called fn for some words perhaps, when
// v holds something else (doubles, bytes, escaped characters, deep nesting): the caller tokenizes the string
// form then.
func valueTokens(v otlpwire.Value, fn func(string), depth int) bool {
	switch v.Kind {
	case otlpwire.KindString:
		if jsonEscapes(v.Bytes) {
			return false
		}
		part.Tokens(v.Str(), fn)
		return true
	case otlpwire.KindInt:
		var b [20]byte
		part.Tokens(wireStr(strconv.AppendInt(b[:0], v.Int(), 10)), fn)
		return true
	case otlpwire.KindBool:
		fn(strconv.FormatBool(v.Num != 0))
		return true
	case otlpwire.KindEmpty:
		if depth > 0 {
			fn("null")
		}
		return true
	case otlpwire.KindArray, otlpwire.KindKvlist:
		if depth >= 8 {
			return false
		}
		r := otlpwire.NewReader(v.Bytes)
		var f otlpwire.Field
		for r.Next(&f) {
			if f.Num != otlpwire.ListValues || f.Type != otlpwire.Bytes {
				return false
			}
			ev := f.Bytes
			if v.Kind == otlpwire.KindKvlist {
				k, val, err := otlpwire.ReadKeyValue(f.Bytes)
				if err != nil || jsonEscapes(k) {
					return false
				}
				part.Tokens(wireStr(k), fn)
				ev = val
			}
			e, err := otlpwire.ReadValue(ev)
			if err != nil || !valueTokens(e, fn, depth+1) {
				return false
			}
		}
		return r.Err() == nil
	}
	return false
}

// jsonEscapes reports whether JSON (encoding/json, without HTML escaping) writes b other than as its bytes:
// quotes, backslashes, control characters, invalid UTF-8 and U+2028, U+2029 are escaped.
func jsonEscapes(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			return true
		}
		i += n
	}
	return false
}

// setWire is set for a group read in place.
func (pb *partBuilder) setWire(g int32, groups []wireGroup) (uint32, error) {
	if s, ok := pb.setOf[g]; ok {
		return s, nil
	}
	wg := &groups[g]
	// Groups with the same messages (the resources of a head's batches mostly come from a few SDKs that
	// encode them the same way each time) have the same set: looked up by the hash of the messages.
	for _, c := range pb.setOfGroup[wg.hash] {
		if c.g.same(wg) {
			pb.setOf[g] = c.set
			return c.set, nil
		}
	}
	raw := encodeWireGroup(wg)
	s, ok := pb.setKey[string(raw)]
	if !ok {
		s = uint32(len(pb.meta.Sets))
		pb.meta.Sets = append(pb.meta.Sets, raw)
		pb.setKey[string(raw)] = s
		for _, at := range []struct {
			msg   []byte
			field uint32
		}{{wg.res, otlpwire.ResAttributes}, {wg.scope, otlpwire.ScopeAttributes}} {
			r := otlpwire.NewReader(at.msg)
			var f otlpwire.Field
			for r.Next(&f) {
				if f.Num != at.field || f.Type != otlpwire.Bytes {
					continue
				}
				k, _, err := otlpwire.ReadKeyValue(f.Bytes)
				if err != nil {
					return 0, err
				}
				if _, ok := pb.keys[wireStr(k)]; !ok {
					pb.keys[string(k)] = struct{}{}
				}
			}
			if err := r.Err(); err != nil {
				return 0, err
			}
		}
	}
	pb.setOf[g] = s
	pb.setOfGroup[wg.hash] = append(pb.setOfGroup[wg.hash], groupSet{wg, s})
	return s, nil
}

// encodeWireGroup writes a group as an attribute set: a TracesData of one ResourceSpans with the resource and
// one ScopeSpans with the scope and no span (what encodeGroup writes from pdata).
func encodeWireGroup(wg *wireGroup) []byte {
	var ss []byte
	if wg.scope != nil {
		ss = appendBytesField(ss, otlpwire.ScopeScope, wg.scope)
	}
	if len(wg.scopeSchema) > 0 {
		ss = appendBytesField(ss, otlpwire.ScopeSchemaURL, wg.scopeSchema)
	}
	var rs []byte
	if wg.res != nil {
		rs = appendBytesField(rs, otlpwire.ResourceResource, wg.res)
	}
	rs = appendBytesField(rs, otlpwire.ResourceScopes, ss)
	if len(wg.resSchema) > 0 {
		rs = appendBytesField(rs, otlpwire.ResourceSchemaURL, wg.resSchema)
	}
	return appendBytesField(nil, otlpwire.DataResources, rs)
}

func appendBytesField(dst []byte, field uint64, b []byte) []byte {
	dst = appendTag(dst, field, wireLen)
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendSpanWire reads a Span message in one pass: its column fields into sp, its string and int attributes
// into ac, and the rest (what appendSpanRow writes from pdata: attributes left in the blob and every field
// the columns do not hold, copied as they are) to the blob as a row.
func appendSpanWire(dst, msg []byte, ac *attrCols, sp *wireSpan) ([]byte, error) {
	*sp = wireSpan{}
	dst, s := beginMsg(dst, fScopeItems)
	ac.beginRow()
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for off := 0; r.Next(&f); off = r.Offset() {
		if sp.take(&f) {
			continue // a column (the status message is written below)
		}
		switch f.Num {
		case otlpwire.SpanAttributes:
			column, err := ac.addWire(f.Bytes)
			if err != nil {
				ac.endRow()
				return dst, err
			}
			if !column {
				dst = append(dst, msg[off:r.Offset()]...)
			}
		case otlpwire.SpanTraceState, otlpwire.SpanFlags, otlpwire.SpanDroppedAttrs, otlpwire.SpanDroppedEvents,
			otlpwire.SpanDroppedLinks, otlpwire.SpanEvents, otlpwire.SpanLinks:
			dst = append(dst, msg[off:r.Offset()]...)
		}
	}
	ac.endRow()
	if err := r.Err(); err != nil {
		return dst, err
	}
	if len(sp.statusMsg) > 0 {
		var e int
		dst, e = beginMsg(dst, fSpanStatus)
		dst = appendStrField(dst, fStatusMessage, wireStr(sp.statusMsg))
		dst = endMsg(dst, e)
	}
	return endMsg(dst, s), nil
}

// prefetchAhead is how many items ahead of the one it reads a flush asks for (prefetch).
const prefetchAhead = 4

// flushWorkers is the number of goroutines that read the rows of a part's blocks in a flush (buildBlocks).
func flushWorkers() int { return min(2, runtime.GOMAXPROCS(0)) }

// sharedDicts are the dictionaries of a part that the workers of buildBlocks fill together: sets (with the
// attribute keys of their resources and scopes) and the service of each set, found for every group of the
// part's items before the workers start (resolveSets); span names, which each worker looks up in its cache
// (wireBlockState) first and under the lock when it has not seen the name.
type sharedDicts struct {
	mu       sync.Mutex
	pb       *partBuilder
	setOf    []uint32 // by group
	services []string // by set (spans only)
	svcOf    []uint32 // by set (spans only): the number of its service among the part's distinct services
}

// resolveSets finds the set of each group of items, in one pass over them in arrival order (the groups of
// a batch together), and with withService the service of each set.
func (d *sharedDicts) resolveSets(items []wireItem, groups []wireGroup, withService bool) error {
	d.setOf = make([]uint32, len(groups))
	seen := make([]bool, len(groups))
	svcNum := map[string]uint32{}
	for i := range items {
		g := items[i].grp
		if seen[g] {
			continue
		}
		seen[g] = true
		s, err := d.pb.setWire(g, groups)
		if err != nil {
			return err
		}
		d.setOf[g] = s
		for withService && int(s) >= len(d.services) {
			// Groups are per batch, sets per part: a new set comes from the group being looked up.
			svc, err := resourceService(groups[g].res)
			if err != nil {
				return err
			}
			num, ok := svcNum[svc]
			if !ok {
				num = uint32(len(svcNum))
				svc = strings.Clone(svc)
				svcNum[svc] = num
			}
			d.services = append(d.services, svc)
			d.svcOf = append(d.svcOf, num)
		}
	}
	return nil
}

func (d *sharedDicts) name(n string) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pb.name(n)
}

// wireBlockState is what one worker of a flush keeps: the current block's attribute columns and token
// hashes, the part's trace IDs and attribute keys it has seen, and its caches of the shared dictionaries.
type wireBlockState struct {
	ac      attrCols
	tokens  *hashSet
	traceID map[storage.TraceID]struct{}
	keys    map[string]struct{}
	nameOf  map[string]uint32
	ops     []part.Op          // the operations of the part's spans this worker read, each once
	opKeys  [][3]uint32        // of each of ops: service number, name index, kind
	opSeen  map[[3]uint32]bool // (service number, name, kind) already in ops, for kinds of 8 and more
	// opBits marks the operations in ops by name: bit 8*service number+kind of opBits[name] (kinds below 8,
	// which are all SpanKind has): a look-up per span without hashing.
	opBits [][]uint64
	words  []uint64         // scratch: the word hashes of a log body
	sp     wireSpan         // scratch: the span being read
	l      wireLog          // scratch: the log record being read
	body   part.BodyEncoder // logs: the current block's body column
}

// newOp reports whether the operation (service number svc, name, kind) is new to the worker, and marks it.
func (st *wireBlockState) newOp(svc, name, kind uint32) bool {
	if kind >= 8 {
		k := [3]uint32{svc, name, kind}
		if st.opSeen[k] {
			return false
		}
		st.opSeen[k] = true
		return true
	}
	for int(name) >= len(st.opBits) {
		st.opBits = append(st.opBits, nil)
	}
	bit := 8*int(svc) + int(kind)
	bs := st.opBits[name]
	for bit/64 >= len(bs) {
		bs = append(bs, 0)
	}
	st.opBits[name] = bs
	if bs[bit/64]&(1<<(bit%64)) != 0 {
		return false
	}
	bs[bit/64] |= 1 << (bit % 64)
	return true
}

func newWireBlockStates(n int) []*wireBlockState {
	states := make([]*wireBlockState, n)
	for i := range states {
		st := &wireBlockState{tokens: &hashSet{}, traceID: map[storage.TraceID]struct{}{},
			keys: map[string]struct{}{}, nameOf: map[string]uint32{},
			opSeen: map[[3]uint32]bool{}}
		st.ac = attrCols{tokens: st.tokens, catalog: st.keys}
		states[i] = st
	}
	return states
}

func (st *wireBlockState) name(d *sharedDicts, n string) uint32 {
	if i, ok := st.nameOf[n]; ok {
		return i
	}
	i := d.name(n)
	st.nameOf[n] = i
	return i
}

// wordToken adds the hash of a word of a log body to the block's tokens.
func (st *wireBlockState) wordToken(tok string) {
	st.tokens.add(part.HashToken(part.TokenWord, tok, 0, ""))
}

// endBlock finishes block b: blob, blooms and attribute columns; the token hashes are cleared for the next.
func (st *wireBlockState) endBlock(b *pipeBlock, start int) {
	b.blob = endBlob(b.buf, start)
	b.tb, b.kb = bloomsOf(st.traceID, st.tokens)
	b.attrs = st.ac.encode(b.attrs)
	if st.body.Rows() > 0 {
		b.bodies = st.body.Append(b.bodies[:0])
	}
}

// mergeStates adds what the workers saw of the part to pb: attribute keys and operations.
func mergeStates(pb *partBuilder, states []*wireBlockState) {
	for _, st := range states {
		for k := range st.keys {
			pb.keys[k] = struct{}{}
		}
	}
}

// unionOps returns the distinct operations the workers read: the first worker's, then those of each other
// worker that no worker before it read, found with the first worker's marks (newOp: the service numbers and
// name indexes are the part's, shared by the workers), without hashing strings. They are not sorted (the
// footer's order is free): a map of them all and a sort took 2.8% of BenchmarkIngest/spans' CPU, in the
// flush's serial stretch, with 12,597 operations in a head of the reference workload.
func unionOps(states []*wireBlockState) []part.Op {
	first := states[0]
	out := first.ops
	for _, st := range states[1:] {
		for i, k := range st.opKeys {
			if first.newOp(k[0], k[1], k[2]) {
				out = append(out, st.ops[i])
			}
		}
	}
	return out
}

// writeWirePart writes items of kind (spans or logs; in the order of order: by time) as one part: row reads
// item it into block b (its blob and its row) with the state st of the worker reading b.
func (e *Engine) writeWirePart(day string, walSeq uint64, kind part.Kind, groups []wireGroup, items []wireItem, order []int32,
	keys map[string]struct{}, row func(st *wireBlockState, d *sharedDicts, it *wireItem, b *pipeBlock) error) (*partHandle, error) {
	pb := newPartBuilder(part.Meta{ID: e.nextID.Add(1) - 1, Kind: kind, WALSeq: walSeq}, keys)
	w, path, err := e.createPart(day, pb.meta)
	if err != nil {
		return nil, err
	}
	d := &sharedDicts{pb: pb}
	if err := d.resolveSets(items, groups, kind == part.KindSpans); err != nil {
		w.Abort()
		return nil, err
	}
	states := newWireBlockStates(flushWorkers())
	err = buildBlocks(w, len(order), e.opts.BlockRows, len(states), func(worker int, b *pipeBlock, lo, hi int) error {
		st := states[worker]
		st.ac.reset()
		st.body.Reset()
		var start int
		b.buf, start = beginBlob(b.buf)
		for j, i := range order[lo:hi] {
			if j+prefetchAhead < hi-lo {
				prefetch(items[order[lo+j+prefetchAhead]].msg)
			}
			if err := row(st, d, &items[i], b); err != nil {
				return err
			}
		}
		st.endBlock(b, start)
		// The columns the part's first merge would compress and then copy, compressed here, on the workers
		// (flushCompresses).
		for c, src := range [part.NumCols][]byte{part.ColBlob: b.blob, part.ColBody: b.bodies, part.ColAttrs: b.attrs} {
			if flushCompresses(kind, c) {
				level, _ := recompressLevel(kind, c)
				b.frame(c, level, src)
			}
		}
		return nil
	})
	if err != nil {
		w.Abort()
		return nil, err
	}
	mergeStates(pb, states)
	if kind == part.KindSpans {
		w.SetDicts(pb.meta.Sets, pb.meta.Names, unionOps(states), keyList(pb.keys))
	} else {
		w.SetDicts(pb.meta.Sets, nil, nil, keyList(pb.keys))
	}
	return finishPart(w, path)
}

// spanRow is the row function of writeWirePart for spans.
func spanRow(st *wireBlockState, d *sharedDicts, it *wireItem, b *pipeBlock) error {
	sp := &st.sp
	var err error
	if b.buf, err = appendSpanWire(b.buf, it.msg, &st.ac, sp); err != nil {
		return err
	}
	set := d.setOf[it.grp]
	name := st.name(d, wireStr(sp.name))
	// Keyed by service rather than set: the sets of a part are many (each instance, each scope) and its
	// services few.
	if st.newOp(d.svcOf[set], name, sp.kind) {
		st.ops = append(st.ops, opOf(d.services[set], sp.name, sp.kind))
		st.opKeys = append(st.opKeys, [3]uint32{d.svcOf[set], name, sp.kind})
	}
	b.rows = append(b.rows, part.Row{
		TS: it.ts, Aux: sp.end - it.ts, TraceID: sp.traceID, Set: set,
		Name: name, Code: sp.kind | sp.statusCode<<4, SpanID: sp.spanID, ParentID: sp.parentID,
	})
	st.traceID[sp.traceID] = struct{}{}
	return nil
}

// logRow is the row function of writeWirePart for log records.
func logRow(st *wireBlockState, d *sharedDicts, it *wireItem, b *pipeBlock) error {
	l := &st.l
	var body otlpwire.Value
	var err error
	if b.buf, body, err = appendLogWire(b.buf, it.msg, &st.ac, l); err != nil {
		return err
	}
	code := l.severity & 0xff
	if l.time == 0 {
		code |= 1 << 8
	}
	r := part.Row{TS: it.ts, Aux: l.observed - it.ts, TraceID: l.traceID, Set: d.setOf[it.grp], Code: code, SpanID: l.spanID}
	// The body column is written here, with the body in cache (the rows' Body stays nil).
	switch body.Kind {
	case otlpwire.KindString:
		b := body.Bytes
		if b == nil {
			b = []byte{} // an empty string body is still a string body
		}
		// A body whose skeleton the block has had adds only its words with digits (the others are in the
		// token set already).
		ok := false
		if !st.body.Add(b) {
			st.words, ok = st.body.AppendVaryingWordHashes(st.words[:0], b)
		}
		if !ok {
			st.words = part.AppendWordHashes(st.words[:0], body.Str())
		}
		for _, h := range st.words {
			st.tokens.add(h)
		}
	case otlpwire.KindEmpty:
		st.body.Add(nil)
	default:
		st.body.Add(nil)
		if !valueTokens(body, st.wordToken, 0) {
			part.Tokens(valueString(body), st.wordToken)
		}
	}
	b.rows = append(b.rows, r)
	if l.traceID != (storage.TraceID{}) {
		st.traceID[l.traceID] = struct{}{}
	}
	return nil
}

// appendLogWire is appendSpanWire for a LogRecord message; it returns the body (which a string body leaves
// out of the blob).
func appendLogWire(dst, msg []byte, ac *attrCols, l *wireLog) ([]byte, otlpwire.Value, error) {
	*l = wireLog{}
	dst, s := beginMsg(dst, fScopeItems)
	ac.beginRow()
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	var bodyField []byte // the last body field (protobuf: the last wins)
	for off := 0; r.Next(&f); off = r.Offset() {
		if l.take(&f) {
			if f.Num == otlpwire.LogBody {
				bodyField = msg[off:r.Offset()]
			}
			continue
		}
		switch f.Num {
		case otlpwire.LogAttributes:
			column, err := ac.addWire(f.Bytes)
			if err != nil {
				ac.endRow()
				return dst, otlpwire.Value{}, err
			}
			if !column {
				dst = append(dst, msg[off:r.Offset()]...)
			}
		case otlpwire.LogSeverityText, otlpwire.LogEventName, otlpwire.LogDroppedAttrs, otlpwire.LogFlags:
			dst = append(dst, msg[off:r.Offset()]...)
		}
	}
	ac.endRow()
	if err := r.Err(); err != nil {
		return dst, otlpwire.Value{}, err
	}
	var body otlpwire.Value
	if l.body != nil {
		var err error
		if body, err = otlpwire.ReadValue(l.body); err != nil {
			return dst, otlpwire.Value{}, err
		}
		if body.Kind != otlpwire.KindString && body.Kind != otlpwire.KindEmpty {
			dst = append(dst, bodyField...)
		}
	}
	return endMsg(dst, s), body, nil
}

// writeWire writes the span and log batches of a frozen head as parts (one per day and kind).
func (e *Engine) writeWire(h *head, spans []*spanBatch, logs []*logBatch, keys map[string]struct{}) ([]*partHandle, error) {
	var written []*partHandle
	fail := func(err error) ([]*partHandle, error) {
		for _, p := range written {
			p.release()
			os.Remove(p.path)
		}
		return nil, err
	}
	var scans []*batchScan
	for _, b := range spans {
		scans = append(scans, &b.scan)
	}
	byDay, groups := itemsByDay(scans)
	for _, day := range sortedKeys(byDay) {
		items := byDay[day]
		order := timeOrder(len(items), func(i int) int64 { return items[i].ts })
		p, err := e.writeWirePart(day, h.walSeq, part.KindSpans, groups, items, order, keys, spanRow)
		if err != nil {
			return fail(err)
		}
		written = append(written, p)
	}
	scans = scans[:0]
	for _, b := range logs {
		scans = append(scans, &b.scan)
	}
	byDay, groups = itemsByDay(scans)
	for _, day := range sortedKeys(byDay) {
		items := byDay[day]
		order := timeOrder(len(items), func(i int) int64 { return items[i].ts })
		p, err := e.writeWirePart(day, h.walSeq, part.KindLogs, groups, items, order, keys, logRow)
		if err != nil {
			return fail(err)
		}
		written = append(written, p)
	}
	return written, nil
}

// itemsByDay lists the items of batches by UTC day, their groups numbered across the batches.
func itemsByDay(scans []*batchScan) (map[string][]wireItem, []wireGroup) {
	n, ng := 0, 0
	for _, sc := range scans {
		n, ng = n+len(sc.items), ng+len(sc.groups)
	}
	const nsPerDay = 86400 * int64(time.Second)
	days := dayNames{}
	byDay := map[string][]wireItem{}
	groups := make([]wireGroup, 0, ng)
	// The items of the day of the last item (most heads hold one day), appended to without a map lookup:
	// those with times in [lo, lo+nsPerDay).
	var cur []wireItem
	var curDay string
	var lo int64
	for _, sc := range scans {
		off := int32(len(groups))
		groups = append(groups, sc.groups...)
		for _, it := range sc.items {
			if curDay == "" || it.ts < lo || it.ts > lo+(nsPerDay-1) {
				if curDay != "" {
					byDay[curDay] = cur
				}
				curDay = days.of(it.ts)
				lo = it.ts - ((it.ts%nsPerDay)+nsPerDay)%nsPerDay
				var ok bool
				if cur, ok = byDay[curDay]; !ok && len(byDay) == 0 { // size the first day for all
					cur = make([]wireItem, 0, n)
				}
			}
			it.grp += off
			cur = append(cur, it)
		}
	}
	if curDay != "" {
		byDay[curDay] = cur
	}
	return byDay, groups
}
