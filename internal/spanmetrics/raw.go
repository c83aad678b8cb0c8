package spanmetrics

import (
	"context"
	"fmt"
	"hash/maphash"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/pipeline"
)

var _ pipeline.RawTracesConsumer = (*Generator)(nil)

// ConsumeTracesRaw is ConsumeTraces for raw, an OTLP TracesData message (pipeline.RawTracesConsumer), read in
// place: it counts the same series ConsumeTraces would count for raw decoded. It keeps nothing of raw (a new
// series copies its strings). raw is expected to decode (the pipeline's contract); a malformed one ends the
// count at the fault with an error, the spans before it counted.
//
// The fields read, and pdata's rules for them:
//
//	ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
//	Resource      { repeated KeyValue attributes = 1; }   the first service.name, if a non-empty string
//	ScopeSpans    { repeated Span spans = 2; }
//	Span { bytes trace_id = 1; bytes span_id = 2; string name = 5; SpanKind kind = 6;
//	       fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; Status status = 15; }
//	Status { StatusCode code = 3; }
//
// A scalar field present more than once counts by its last value, and a repeated resource or status message
// is merged, as protobuf decoding does.
func (g *Generator) ConsumeTracesRaw(_ context.Context, raw []byte, idx *otlpwire.Index) error {
	now := g.opts.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	defer g.countPending(now)
	if idx != nil && len(idx.Spans) == len(idx.Items) {
		return g.indexed(now, idx)
	}
	r := otlpwire.NewReader(raw)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num != otlpwire.DataResources {
			continue
		}
		if f.Type != otlpwire.Bytes {
			return fmt.Errorf("span metrics: %w: resource_spans has wire type %d", otlpwire.ErrMalformed, f.Type)
		}
		if err := g.resourceSpans(now, f.Bytes); err != nil {
			return fmt.Errorf("span metrics: %w", err)
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("span metrics: %w", err)
	}
	return nil
}

// indexed reads the spans of a batch from the receiver's index of it (otlpwire.Index), with ConsumeTracesRaw's
// rules: the check that built it accepted only what pdata decodes without any repeated singular field.
func (g *Generator) indexed(now time.Time, idx *otlpwire.Index) error {
	svcs := make([]string, len(idx.Groups))
	svcHashes := make([]uint64, len(idx.Groups))
	for i, gr := range idx.Groups {
		svc, _, err := serviceName(gr.Resource)
		if err != nil {
			return fmt.Errorf("span metrics: %w", err)
		}
		if svc == "" {
			svc = "unknown_service"
		}
		svcs[i], svcHashes[i] = svc, maphash.String(hashSeed, svc)
	}
	for i, it := range idx.Items {
		if it.Group < 0 || int(it.Group) >= len(svcs) {
			return fmt.Errorf("span metrics: span %d in group %d of %d", i, it.Group, len(svcs))
		}
		sk := &idx.Spans[i]
		k := key{service: svcs[it.Group], name: view(sk.Name), kind: ptrace.SpanKind(int32(sk.Kind)), status: ptrace.StatusCode(int32(sk.Status))}
		sp := spanTimes{start: pcommon.Timestamp(it.TS), end: pcommon.Timestamp(sk.End), traceID: sk.TraceID, spanID: sk.SpanID}
		g.pending = append(g.pending, pendingSpan{g.seriesOf(now, k, svcHashes[it.Group], sk.NameH), sp})
	}
	return nil
}

// view returns b as a string sharing its memory; it must not outlive the batch (add clones what it keeps).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (g *Generator) resourceSpans(now time.Time, msg []byte) error {
	// The resource may come after the scopes: find the service first.
	svc, found := "", false
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num != otlpwire.ResourceResource || f.Type != otlpwire.Bytes || found {
			continue
		}
		var err error
		if svc, found, err = serviceName(f.Bytes); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	if svc == "" {
		svc = "unknown_service"
	}
	r = otlpwire.NewReader(msg)
	for r.Next(&f) {
		if f.Num != otlpwire.ResourceScopes || f.Type != otlpwire.Bytes {
			continue
		}
		sr := otlpwire.NewReader(f.Bytes)
		var sf otlpwire.Field
		for sr.Next(&sf) {
			if sf.Num != otlpwire.ScopeItems || sf.Type != otlpwire.Bytes {
				continue
			}
			if err := g.span(now, svc, sf.Bytes); err != nil {
				return err
			}
		}
		if err := sr.Err(); err != nil {
			return err
		}
	}
	return r.Err()
}

// serviceName returns the value of the first service.name attribute of a Resource when it is a string ("" if
// not), and whether there was one.
func serviceName(res []byte) (string, bool, error) {
	r := otlpwire.NewReader(res)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num != otlpwire.ResAttributes || f.Type != otlpwire.Bytes {
			continue
		}
		isSvc, svc, err := serviceAttr(f.Bytes)
		if err != nil {
			return "", false, err
		}
		if isSvc {
			return svc, true, nil
		}
	}
	return "", false, r.Err()
}

// serviceAttr reads a KeyValue: whether its key is service.name, and its value when a string ("" if not). A
// repeated key keeps its last occurrence, and repeated values merge as protobuf decoding merges them: an
// occurrence that sets a member of the oneof replaces the value, one that sets none leaves it.
func serviceAttr(kv []byte) (bool, string, error) {
	var key []byte
	var str []byte
	isStr := false
	r := otlpwire.NewReader(kv)
	var f otlpwire.Field
	for r.Next(&f) {
		switch {
		case f.Num == otlpwire.KVKey && f.Type == otlpwire.Bytes:
			key = f.Bytes
		case f.Num == otlpwire.KVValue && f.Type == otlpwire.Bytes:
			vr := otlpwire.NewReader(f.Bytes)
			var vf otlpwire.Field
			for vr.Next(&vf) {
				switch {
				case vf.Num == otlpwire.AnyString && vf.Type == otlpwire.Bytes:
					str, isStr = vf.Bytes, true
				case vf.Num >= otlpwire.AnyBool && vf.Num <= anyStrindex:
					isStr = false // another member: not a string
				}
			}
			if err := vr.Err(); err != nil {
				return false, "", err
			}
		}
	}
	if err := r.Err(); err != nil {
		return false, "", err
	}
	if view(key) != attrService {
		return false, "", nil
	}
	if !isStr {
		return true, "", nil
	}
	return true, view(str), nil
}

// anyStrindex is AnyValue.string_value_strindex (profiles), which pdata decodes as a member of the oneof.
const anyStrindex = 8

func (g *Generator) span(now time.Time, svc string, msg []byte) error {
	k := key{service: svc}
	var name []byte
	var sp spanTimes
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.SpanTraceID:
			if f.Type == otlpwire.Bytes && (len(f.Bytes) == 16 || len(f.Bytes) == 0) {
				sp.traceID = pcommon.TraceID{}
				copy(sp.traceID[:], f.Bytes)
			}
		case otlpwire.SpanSpanID:
			if f.Type == otlpwire.Bytes && (len(f.Bytes) == 8 || len(f.Bytes) == 0) {
				sp.spanID = pcommon.SpanID{}
				copy(sp.spanID[:], f.Bytes)
			}
		case otlpwire.SpanName:
			if f.Type == otlpwire.Bytes {
				name = f.Bytes
				k.name = view(name)
			}
		case otlpwire.SpanKind:
			if f.Type == otlpwire.Varint {
				k.kind = ptrace.SpanKind(int32(f.Value))
			}
		case otlpwire.SpanStart:
			if f.Type == otlpwire.Fixed64 {
				sp.start = pcommon.Timestamp(f.Value)
			}
		case otlpwire.SpanEnd:
			if f.Type == otlpwire.Fixed64 {
				sp.end = pcommon.Timestamp(f.Value)
			}
		case otlpwire.SpanStatus:
			if f.Type != otlpwire.Bytes {
				continue
			}
			sr := otlpwire.NewReader(f.Bytes)
			var sf otlpwire.Field
			for sr.Next(&sf) {
				if sf.Num == otlpwire.StatusCode && sf.Type == otlpwire.Varint {
					k.status = ptrace.StatusCode(int32(sf.Value))
				}
			}
			if err := sr.Err(); err != nil {
				return err
			}
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	g.pending = append(g.pending, pendingSpan{g.seriesOf(now, k, maphash.String(hashSeed, k.service), otlpwire.HashName(name)), sp})
	return nil
}

// seriesOf returns the series that counts a span of key k (whose strings may be views of a batch), given the
// hashes of its service (maphash with hashSeed) and name (otlpwire.HashName).
func (g *Generator) seriesOf(now time.Time, k key, svcHash, nameHash uint64) *series {
	h := keyHash(svcHash, nameHash, k)
	s := g.byHash[h]
	if s == nil {
		s = g.lookup(now, k)
		if g.series[k] == s { // k's own series, not its service's overflow series
			s.hash, s.inHash = h, true
			g.byHash[h] = s
		}
	}
	return s
}

// pendingSpan is a span of a raw batch read and looked up, to be counted in s.
type pendingSpan struct {
	s  *series
	sp spanTimes
}

// countPending counts the spans of the batch read so far. A batch's spans are read (and their series looked
// up) first and counted after: the series of a busy server are seldom in the CPU's cache, and a loop that
// only counts lets the CPU fetch the series of several spans at once.
func (g *Generator) countPending(now time.Time) {
	for i := range g.pending {
		g.count(g.pending[i].s, now, g.pending[i].sp)
	}
	clear(g.pending)
	g.pending = g.pending[:0]
}

// hashSeed seeds keyHash.
var hashSeed = maphash.MakeSeed()

// keyHash is a 64-bit hash of a key of a span (not an overflow key), from the hashes of its service and name,
// so that a span whose name hash is known (otlpwire.SpanKey) is looked up without reading its name.
func keyHash(svcHash, nameHash uint64, k key) uint64 {
	h := (svcHash ^ uint64(len(k.name))) * 0x9e3779b97f4a7c15
	h ^= nameHash
	return h*0xff51afd7ed558ccd + uint64(k.kind)<<8 + uint64(k.status)
}
