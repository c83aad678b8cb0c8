package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// group is one resource and scope attribute set with its schema URLs: the context of a span or log record.
type group struct {
	res         pcommon.Resource
	resSchema   string
	scope       pcommon.InstrumentationScope
	scopeSchema string
	service     string
}

// partHandle is an open part. The engine's list holds one reference; each query holds one while it reads.
type partHandle struct {
	path   string
	day    string
	r      *part.Reader
	meta   *part.Meta
	groups []group
	names  map[string]uint32
	refs   atomic.Int32
	opened time.Time // when this process opened it: for a flushed part, about when it was written
}

func (p *partHandle) acquire() { p.refs.Add(1) }

func (p *partHandle) release() {
	if p.refs.Add(-1) == 0 {
		p.r.Close()
	}
}

func partName(id uint64, kind part.Kind) string {
	return fmt.Sprintf("%016x-%d.part", id, kind)
}

// openPart opens a part file and decodes its attribute sets.
func openPart(path string) (*partHandle, error) {
	r, err := part.Open(path)
	if err != nil {
		return nil, err
	}
	p := &partHandle{path: path, day: filepath.Base(filepath.Dir(path)), r: r, meta: &r.Meta, opened: time.Now()}
	p.refs.Store(1)
	p.groups = make([]group, len(r.Meta.Sets))
	for i, raw := range r.Meta.Sets {
		g, err := decodeGroup(raw)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("open part %s: attribute set %d: %w", path, i, err)
		}
		p.groups[i] = g
	}
	p.names = make(map[string]uint32, len(r.Meta.Names))
	for i, n := range r.Meta.Names {
		p.names[n] = uint32(i)
	}
	return p, nil
}

// An attribute set is stored as an OTLP TracesData holding one ResourceSpans with one empty ScopeSpans.
func encodeGroup(res pcommon.Resource, resSchema string, scope pcommon.InstrumentationScope, scopeSchema string) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res.CopyTo(rs.Resource())
	rs.SetSchemaUrl(resSchema)
	ss := rs.ScopeSpans().AppendEmpty()
	scope.CopyTo(ss.Scope())
	ss.SetSchemaUrl(scopeSchema)
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		panic("BUG: marshal attribute set: " + err.Error())
	}
	return b
}

func decodeGroup(raw []byte) (group, error) {
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		return group{}, fmt.Errorf("%w: %v", part.ErrCorrupt, err)
	}
	if td.ResourceSpans().Len() != 1 || td.ResourceSpans().At(0).ScopeSpans().Len() != 1 {
		return group{}, fmt.Errorf("%w: attribute set does not hold one resource and scope", part.ErrCorrupt)
	}
	rs := td.ResourceSpans().At(0)
	ss := rs.ScopeSpans().At(0)
	return group{res: rs.Resource(), resSchema: rs.SchemaUrl(), scope: ss.Scope(), scopeSchema: ss.SchemaUrl(),
		service: serviceOf(rs.Resource())}, nil
}

func serviceOf(res pcommon.Resource) string {
	if v, ok := res.Attributes().Get("service.name"); ok {
		return v.AsString()
	}
	return ""
}

// loadParts opens every part, quarantines the ones that do not open, and deletes the ones a finished merge
// replaced or an unfinished flush left behind.
func (e *Engine) loadParts(flushed uint64) error {
	files, err := listPartFiles(e.partsDir())
	if err != nil {
		return fmt.Errorf("open engine: list parts: %w", err)
	}
	var loaded []*partHandle
	replaced := map[uint64]bool{}
	maxID := uint64(0)
	for _, f := range files {
		p, err := openPart(f)
		if err != nil {
			e.quarantine(f, err)
			continue
		}
		loaded = append(loaded, p)
		for _, s := range p.meta.Sources {
			replaced[s] = true
		}
		maxID = max(maxID, p.meta.ID)
	}
	for _, p := range loaded {
		switch {
		case replaced[p.meta.ID]:
			e.log.Info("engine: removing part replaced by a merge", "part", p.path)
		case p.meta.WALSeq > flushed:
			e.log.Info("engine: removing part of an unfinished flush (its data is replayed from the wal)", "part", p.path)
		default:
			e.parts = append(e.parts, p)
			e.cat.addPart(p)
			continue
		}
		p.release()
		if err := os.Remove(p.path); err != nil {
			return fmt.Errorf("open engine: %w", err)
		}
	}
	e.nextID.Store(maxID + 1)
	sortParts(e.parts)
	e.countUnmerged()
	return nil
}

// quarantine moves a part that cannot be read out of the way, so that the rest of the data stays usable.
func (e *Engine) quarantine(path string, cause error) {
	qdir := filepath.Join(e.dir, "quarantine")
	dst := filepath.Join(qdir, filepath.Base(filepath.Dir(path))+"-"+filepath.Base(path))
	err := os.MkdirAll(qdir, 0o755)
	if err == nil {
		err = os.Rename(path, dst)
	}
	if err != nil {
		e.log.Error("engine: part is unreadable and cannot be moved aside; ignoring it", "part", path, "cause", cause, "err", err)
		return
	}
	kind := "corrupt"
	if !errors.Is(cause, part.ErrCorrupt) {
		kind = "unreadable"
	}
	e.log.Error("engine: "+kind+" part quarantined; its data is not served", "part", path, "moved_to", dst, "cause", cause)
}
