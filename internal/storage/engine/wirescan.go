package engine

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"unsafe"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// A write reads its batch once, in place (package otlpwire), for what the head needs: the number of items,
// their time bounds and, for spans, their trace IDs and operations. The same pass checks the structure the
// flush relies on (message framing down to each item's fields, ID lengths), so that a batch the head holds
// can always be written as parts.

// batchScan is what one pass over a batch learns.
type batchScan struct {
	n            int
	minTS, maxTS int64
	ids          []storage.TraceID // spans: every span's trace ID, in order
	items        []wireItem        // the items, in order (groups index groups)
	groups       []wireGroup
}

// wireGroup is the context of items: a resource and a scope, as messages of a batch.
type wireGroup struct {
	res, resSchema, scope, scopeSchema []byte
	hash                               uint64 // of the four (newWireGroup): equal groups have equal hashes
}

func newWireGroup(res, resSchema, scope, scopeSchema []byte) wireGroup {
	h := maphash.Bytes(opSeed, res)
	for _, b := range [][]byte{resSchema, scope, scopeSchema} {
		h = (h ^ uint64(len(b))) * 0x9e3779b97f4a7c15
		h ^= maphash.Bytes(opSeed, b)
	}
	return wireGroup{res, resSchema, scope, scopeSchema, h}
}

// same reports whether g and o hold the same messages.
func (g *wireGroup) same(o *wireGroup) bool {
	return g.hash == o.hash && bytes.Equal(g.res, o.res) && bytes.Equal(g.scope, o.scope) &&
		bytes.Equal(g.resSchema, o.resSchema) && bytes.Equal(g.scopeSchema, o.scopeSchema)
}

// wireItem is a span or log record of a batch: its time, its group and the message.
type wireItem struct {
	ts  int64
	grp int32
	msg []byte
}

func newBatchScan() batchScan { return batchScan{minTS: 1<<63 - 1, maxTS: -1 << 63} }

func (s *batchScan) add(ts int64) {
	s.minTS, s.maxTS = min(s.minTS, ts), max(s.maxTS, ts)
	s.n++
}

// wireID sets dst, an ID, from an ID field b: empty is the zero ID (as in pdata). It reports false, dst zeroed,
// for a field of another length.
func wireID(dst, b []byte) bool {
	if len(b) == len(dst) {
		copy(dst, b)
		return true
	}
	clear(dst)
	return len(b) == 0
}

// wireStr views b as a string without copying: valid while b is, which must not change.
func wireStr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// resourceService returns the service.name of a Resource message ("" when absent) as serviceOf does (the
// first service.name attribute, in its string form), as a view of msg when it is a string.
func resourceService(msg []byte) (string, error) {
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	found := false
	var svc string
	for r.Next(&f) {
		if f.Num != otlpwire.ResAttributes || f.Type != otlpwire.Bytes {
			continue
		}
		k, v, err := otlpwire.ReadKeyValue(f.Bytes)
		if err != nil {
			return "", err
		}
		if found || wireStr(k) != "service.name" {
			continue
		}
		val, err := otlpwire.ReadValue(v)
		if err != nil {
			return "", err
		}
		found = true
		if val.Kind == otlpwire.KindString {
			svc = val.Str()
		} else {
			svc = valueString(val)
		}
	}
	return svc, r.Err()
}

// walkItems calls fn for every item (span or log record) of a TracesData or LogsData message with the index
// of its group (resource and scope, counted from 0 in message order) and calls grp for each group first.
func walkItems(raw []byte, grp func(res, resSchema, scope, scopeSchema []byte) error, fn func(g int, item []byte) error) error {
	g := -1
	rd := otlpwire.NewReader(raw)
	var f otlpwire.Field
	for rd.Next(&f) {
		if f.Num != otlpwire.DataResources {
			continue
		}
		if f.Type != otlpwire.Bytes {
			return fmt.Errorf("%w: resource field has wire type %d", otlpwire.ErrMalformed, f.Type)
		}
		var res, resSchema []byte
		var scopes [][]byte
		rr := otlpwire.NewReader(f.Bytes)
		var rf otlpwire.Field
		for rr.Next(&rf) {
			switch rf.Num {
			case otlpwire.ResourceResource, otlpwire.ResourceScopes, otlpwire.ResourceSchemaURL:
				if rf.Type != otlpwire.Bytes {
					return fmt.Errorf("%w: resource field %d has wire type %d", otlpwire.ErrMalformed, rf.Num, rf.Type)
				}
			default:
				continue
			}
			switch rf.Num {
			case otlpwire.ResourceResource:
				res = rf.Bytes
			case otlpwire.ResourceScopes:
				scopes = append(scopes, rf.Bytes)
			case otlpwire.ResourceSchemaURL:
				resSchema = rf.Bytes
			}
		}
		if err := rr.Err(); err != nil {
			return err
		}
		for _, sc := range scopes {
			var scope, scopeSchema []byte
			items := 0
			sr := otlpwire.NewReader(sc)
			var sf otlpwire.Field
			for sr.Next(&sf) {
				switch sf.Num {
				case otlpwire.ScopeScope, otlpwire.ScopeItems, otlpwire.ScopeSchemaURL:
					if sf.Type != otlpwire.Bytes {
						return fmt.Errorf("%w: scope field %d has wire type %d", otlpwire.ErrMalformed, sf.Num, sf.Type)
					}
				}
				switch sf.Num {
				case otlpwire.ScopeScope:
					scope = sf.Bytes
				case otlpwire.ScopeSchemaURL:
					scopeSchema = sf.Bytes
				case otlpwire.ScopeItems:
					items++
				}
			}
			if err := sr.Err(); err != nil {
				return err
			}
			if items == 0 {
				continue
			}
			g++
			if err := grp(res, resSchema, scope, scopeSchema); err != nil {
				return err
			}
			sr = otlpwire.NewReader(sc)
			for sr.Next(&sf) {
				if sf.Num == otlpwire.ScopeItems {
					if err := fn(g, sf.Bytes); err != nil {
						return err
					}
				}
			}
		}
	}
	return rd.Err()
}

// wireSpan is the column fields of a Span message.
type wireSpan struct {
	traceID    storage.TraceID
	spanID     [8]byte
	parentID   [8]byte
	name       []byte
	kind       uint32
	start, end int64
	statusCode uint32
	statusMsg  []byte
}

var spanIDName = map[uint32]string{otlpwire.SpanTraceID: "trace_id", otlpwire.SpanSpanID: "span_id",
	otlpwire.SpanParentSpanID: "parent_span_id"}

func spanIDSize(field uint32) int {
	if field == otlpwire.SpanTraceID {
		return 16
	}
	return 8
}

// take sets the column field f of a Span in sp and reports whether f was one (IDs of another length than
// theirs read as zero: readSpan refuses them first).
func (sp *wireSpan) take(f *otlpwire.Field) bool {
	switch f.Num {
	case otlpwire.SpanTraceID:
		wireID(sp.traceID[:], f.Bytes)
	case otlpwire.SpanSpanID:
		wireID(sp.spanID[:], f.Bytes)
	case otlpwire.SpanParentSpanID:
		wireID(sp.parentID[:], f.Bytes)
	case otlpwire.SpanName:
		sp.name = f.Bytes
	case otlpwire.SpanKind:
		sp.kind = uint32(int32(f.Value))
	case otlpwire.SpanStart:
		sp.start = int64(f.Value)
	case otlpwire.SpanEnd:
		sp.end = int64(f.Value)
	case otlpwire.SpanStatus:
		sr := otlpwire.NewReader(f.Bytes)
		var st otlpwire.Field
		for sr.Next(&st) {
			switch {
			case st.Num == otlpwire.StatusCode && st.Type == otlpwire.Varint:
				sp.statusCode = uint32(int32(st.Value))
			case st.Num == otlpwire.StatusMessage && st.Type == otlpwire.Bytes:
				sp.statusMsg = st.Bytes
			}
		}
	default:
		return false
	}
	return true
}

// readSpan reads the column fields of a Span message (the last of a repeated field wins, as in protobuf), and
// checks its attributes as a flush reads them.
func readSpan(msg []byte, sp *wireSpan) error {
	*sp = wireSpan{}
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		want := otlpwire.Bytes
		switch f.Num {
		case otlpwire.SpanKind, otlpwire.SpanDroppedAttrs, otlpwire.SpanDroppedEvents, otlpwire.SpanDroppedLinks:
			want = otlpwire.Varint
		case otlpwire.SpanStart, otlpwire.SpanEnd:
			want = otlpwire.Fixed64
		case otlpwire.SpanFlags:
			want = otlpwire.Fixed32
		case otlpwire.SpanTraceID, otlpwire.SpanSpanID, otlpwire.SpanTraceState, otlpwire.SpanParentSpanID,
			otlpwire.SpanName, otlpwire.SpanAttributes, otlpwire.SpanEvents, otlpwire.SpanLinks, otlpwire.SpanStatus:
		default:
			continue
		}
		if f.Type != want {
			return fmt.Errorf("%w: span field %d has wire type %d", otlpwire.ErrMalformed, f.Num, f.Type)
		}
		switch f.Num {
		case otlpwire.SpanTraceID, otlpwire.SpanSpanID, otlpwire.SpanParentSpanID:
			if n := len(f.Bytes); n != 0 && n != spanIDSize(f.Num) {
				return fmt.Errorf("span %s of %d bytes", spanIDName[f.Num], n)
			}
		case otlpwire.SpanAttributes:
			if err := checkAttr(f.Bytes); err != nil {
				return err
			}
		case otlpwire.SpanStatus:
			sr := otlpwire.NewReader(f.Bytes)
			var st otlpwire.Field
			for sr.Next(&st) {
				if (st.Num == otlpwire.StatusCode && st.Type != otlpwire.Varint) ||
					(st.Num == otlpwire.StatusMessage && st.Type != otlpwire.Bytes) {
					return fmt.Errorf("%w: status field %d has wire type %d", otlpwire.ErrMalformed, st.Num, st.Type)
				}
			}
			if err := sr.Err(); err != nil {
				return err
			}
		}
		sp.take(&f)
	}
	return r.Err()
}

// wireLog is the column fields of a LogRecord message.
type wireLog struct {
	time, observed int64
	severity       uint32
	traceID        storage.TraceID
	spanID         [8]byte
	body           []byte // the AnyValue message, nil when absent
}

func (l *wireLog) ts() int64 {
	if l.time != 0 {
		return l.time
	}
	return l.observed
}

func logIDSize(field uint32) int {
	if field == otlpwire.LogTraceID {
		return 16
	}
	return 8
}

// take sets the column field f of a LogRecord in l (the body: its AnyValue message) and reports whether f was
// one.
func (l *wireLog) take(f *otlpwire.Field) bool {
	switch f.Num {
	case otlpwire.LogTime:
		l.time = int64(f.Value)
	case otlpwire.LogObservedTime:
		l.observed = int64(f.Value)
	case otlpwire.LogSeverityNumber:
		l.severity = uint32(int32(f.Value))
	case otlpwire.LogTraceID:
		wireID(l.traceID[:], f.Bytes)
	case otlpwire.LogSpanID:
		wireID(l.spanID[:], f.Bytes)
	case otlpwire.LogBody:
		l.body = f.Bytes
	default:
		return false
	}
	return true
}

// readLog reads the column fields of a LogRecord message, and checks its body and attributes as a flush
// reads them.
func readLog(msg []byte, l *wireLog) error {
	*l = wireLog{}
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		want := otlpwire.Bytes
		switch f.Num {
		case otlpwire.LogSeverityNumber, otlpwire.LogDroppedAttrs:
			want = otlpwire.Varint
		case otlpwire.LogTime, otlpwire.LogObservedTime:
			want = otlpwire.Fixed64
		case otlpwire.LogFlags:
			want = otlpwire.Fixed32
		case otlpwire.LogSeverityText, otlpwire.LogBody, otlpwire.LogAttributes, otlpwire.LogTraceID,
			otlpwire.LogSpanID, otlpwire.LogEventName:
		default:
			continue
		}
		if f.Type != want {
			return fmt.Errorf("%w: log record field %d has wire type %d", otlpwire.ErrMalformed, f.Num, f.Type)
		}
		switch f.Num {
		case otlpwire.LogTraceID, otlpwire.LogSpanID:
			if n := len(f.Bytes); n != 0 && n != logIDSize(f.Num) {
				name := "span_id"
				if f.Num == otlpwire.LogTraceID {
					name = "trace_id"
				}
				return fmt.Errorf("log record %s of %d bytes", name, n)
			}
		case otlpwire.LogBody:
			if _, err := otlpwire.ReadValue(f.Bytes); err != nil {
				return err
			}
		case otlpwire.LogAttributes:
			if err := checkAttr(f.Bytes); err != nil {
				return err
			}
		}
		l.take(&f)
	}
	return r.Err()
}

// checkAttr reads a KeyValue message as a flush does (key, value and its type).
func checkAttr(kv []byte) error {
	_, v, err := otlpwire.ReadKeyValue(kv)
	if err == nil {
		_, err = otlpwire.ReadValue(v)
	}
	return err
}

// scanSpans reads a TracesData message for the head, and checks that a flush can read every span. ops, when
// not nil, receives the distinct operations of the batch (their strings are views of raw). The scan's groups
// and items are views of raw.
func scanSpans(raw []byte, ops opSet, known map[uint64]struct{}) (batchScan, error) {
	s := newBatchScan()
	var svc string
	var svcHash uint64
	var sp wireSpan
	err := walkItems(raw, func(res, resSchema, scope, scopeSchema []byte) error {
		s.groups = append(s.groups, newWireGroup(res, resSchema, scope, scopeSchema))
		var err error
		svc, err = resourceService(res)
		svcHash = maphash.String(opSeed, svc)
		return err
	}, func(g int, item []byte) error {
		if err := readSpan(item, &sp); err != nil {
			return err
		}
		s.add(sp.start)
		s.ids = append(s.ids, sp.traceID)
		s.items = append(s.items, wireItem{ts: sp.start, grp: int32(g), msg: item})
		addOp(ops, known, svc, svcHash, sp.name, otlpwire.HashName(sp.name), sp.kind)
		return nil
	})
	if err != nil {
		return batchScan{}, fmt.Errorf("read spans: %w", err)
	}
	return s, nil
}

// addOp adds the operation of a span of service svc (svcHash its hash with opSeed) to ops unless it is known
// or ops is nil; nameHash is otlpwire.HashName(name).
func addOp(ops opSet, known map[uint64]struct{}, svc string, svcHash uint64, name []byte, nameHash uint64, kind uint32) {
	if ops == nil {
		return
	}
	h := (nameHash ^ svcHash*0x9e3779b97f4a7c15) + uint64(kind)
	if _, ok := known[h]; ok {
		return
	}
	if _, ok := ops[h]; !ok {
		ops[h] = opOf(svc, name, kind)
	}
}

// rebase turns the views of raw that an index holds into views of own, a copy of raw (view); ok turns false
// at a view not within raw (an index of another message).
type rebase struct {
	raw, own []byte
	ok       bool
}

func (r *rebase) view(b []byte) []byte {
	if b == nil {
		return nil
	}
	if len(b) == 0 {
		return r.own[:0:0]
	}
	off := uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(r.raw)))
	if off >= uintptr(len(r.raw)) || uintptr(len(b)) > uintptr(len(r.raw))-off {
		r.ok = false
		return nil
	}
	return r.own[off : off+uintptr(len(b)) : off+uintptr(len(b))]
}

// indexItems is the scan's groups and items from an index of raw, as views of own.
func indexItems(rb *rebase, idx *otlpwire.Index) batchScan {
	s := newBatchScan()
	s.groups = make([]wireGroup, len(idx.Groups))
	for i, g := range idx.Groups {
		s.groups[i] = newWireGroup(rb.view(g.Resource), rb.view(g.ResourceSchema), rb.view(g.Scope), rb.view(g.ScopeSchema))
	}
	s.items = make([]wireItem, len(idx.Items))
	for i, it := range idx.Items {
		if it.Group < 0 || int(it.Group) >= len(s.groups) {
			rb.ok = false
			break
		}
		s.add(it.TS)
		s.items[i] = wireItem{ts: it.TS, grp: it.Group, msg: rb.view(it.Msg)}
	}
	return s
}

// indexSpans is scanSpans from idx, an index of raw (otlpwire.Index, trusted to describe raw as scanSpans
// would), with own a copy of raw: the scan's views are of own. It reports false for an index that does not
// fit raw.
func indexSpans(raw, own []byte, idx *otlpwire.Index, ops opSet, known map[uint64]struct{}) (batchScan, bool) {
	rb := &rebase{raw: raw, own: own, ok: len(idx.Spans) == len(idx.Items)}
	if !rb.ok {
		return batchScan{}, false
	}
	s := indexItems(rb, idx)
	s.ids = make([]storage.TraceID, len(idx.Spans))
	svcs := make([]string, len(s.groups))
	svcHashes := make([]uint64, len(s.groups))
	for g := range s.groups {
		svc, err := resourceService(s.groups[g].res)
		if err != nil {
			return batchScan{}, false
		}
		svcs[g], svcHashes[g] = svc, maphash.String(opSeed, svc)
	}
	for i, k := range idx.Spans {
		if !rb.ok {
			break
		}
		s.ids[i] = k.TraceID
		g := s.items[i].grp
		addOp(ops, known, svcs[g], svcHashes[g], rb.view(k.Name), k.NameH, k.Kind)
	}
	return s, rb.ok
}

// indexLogs is indexSpans for a LogsData message.
func indexLogs(raw, own []byte, idx *otlpwire.Index) (batchScan, bool) {
	rb := &rebase{raw: raw, own: own, ok: true}
	s := indexItems(rb, idx)
	return s, rb.ok
}

// scanLogs reads a LogsData message for the head, and checks that a flush can read every record.
func scanLogs(raw []byte) (batchScan, error) {
	s := newBatchScan()
	var l wireLog
	err := walkItems(raw, func(res, resSchema, scope, scopeSchema []byte) error {
		s.groups = append(s.groups, newWireGroup(res, resSchema, scope, scopeSchema))
		return nil
	}, func(g int, item []byte) error {
		if err := readLog(item, &l); err != nil {
			return err
		}
		s.add(l.ts())
		s.items = append(s.items, wireItem{ts: l.ts(), grp: int32(g), msg: item})
		return nil
	})
	if err != nil {
		return batchScan{}, fmt.Errorf("read log records: %w", err)
	}
	return s, nil
}

// opSeed seeds the hashes that identify operations (opSet).
var opSeed = maphash.MakeSeed()

// opSet holds distinct operations by a 64-bit hash of their service, name and kind: a write looks up a hash
// per span rather than hash and compare two strings (a collision, about 2^-64 per pair, would leave one
// operation out of the catalog).
type opSet map[uint64]part.Op

// opOf is the operation of a span, its strings views of the batch.
func opOf(svc string, name []byte, kind uint32) part.Op {
	return part.Op{Service: svc, Name: wireStr(name), Kind: uint8(kind)}
}
