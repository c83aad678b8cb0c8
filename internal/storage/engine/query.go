package engine

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// Defaults for queries that give no limit or page size.
const (
	DefaultTraceLimit = 100
	DefaultSpanLimit  = 1000
	DefaultLogLimit   = 1000
	DefaultPointLimit = 10_000
	DefaultPageSize   = 1000
)

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// queryRange turns a query's [start, end] (zero: unbounded) into a tsRange.
func queryRange(start, end time.Time) tsRange {
	r := tsRange{lo: math.MinInt64, hi: math.MaxInt64}
	if !start.IsZero() {
		r.lo = start.UnixNano()
	}
	if !end.IsZero() {
		r.hi = end.UnixNano()
	}
	return r
}

// tsRange is an inclusive time range in Unix nanoseconds.
type tsRange struct{ lo, hi int64 }

func (r tsRange) has(ts int64) bool                { return ts >= r.lo && ts <= r.hi }
func (r tsRange) overlaps(minTS, maxTS int64) bool { return maxTS >= r.lo && minTS <= r.hi }

// unit is one searchable piece: a head batch or a part block.
type unit struct {
	minTS, maxTS int64
	p            *partHandle // nil for a head batch
	blk          int
	hs           *spanBatch
	hl           *logBatch
	class        uint64 // 0 part, 1 frozen head, 2 active head: older data first
	order        uint64 // part ID or batch arrival
}

// ref is one matching row: its sort key and where to find it again.
type ref struct {
	ts      int64
	unit    int32
	row     int32
	k1, k2  uint64 // tie-break: arrival order
	traceID storage.TraceID
	end     int64
}

// newer reports whether a sorts before b in newest-first order.
func newer(a, b *ref) bool {
	if a.ts != b.ts {
		return a.ts > b.ts
	}
	if a.k1 != b.k1 {
		return a.k1 > b.k1
	}
	return a.k2 > b.k2
}

// topK keeps the best k refs by an order; the heap's root is the worst kept.
type topK struct {
	refs   []ref
	k      int
	better func(a, b *ref) bool
}

func (h *topK) Len() int           { return len(h.refs) }
func (h *topK) Less(i, j int) bool { return h.better(&h.refs[j], &h.refs[i]) }
func (h *topK) Swap(i, j int)      { h.refs[i], h.refs[j] = h.refs[j], h.refs[i] }
func (h *topK) Push(x any)         { h.refs = append(h.refs, x.(ref)) }
func (h *topK) Pop() any {
	r := h.refs[len(h.refs)-1]
	h.refs = h.refs[:len(h.refs)-1]
	return r
}

func (h *topK) add(r ref) {
	if len(h.refs) < h.k {
		heap.Push(h, r)
		return
	}
	if h.better(&r, &h.refs[0]) {
		h.refs[0] = r
		heap.Fix(h, 0)
	}
}

// full reports whether k refs are kept and none of the rows of a unit bounded by ts can get in.
func (h *topK) closed(bound int64, newestFirst bool) bool {
	if len(h.refs) < h.k {
		return false
	}
	if newestFirst {
		return h.refs[0].ts > bound
	}
	return h.refs[0].ts < bound
}

// sorted returns the kept refs, best first.
func (h *topK) sorted() []ref {
	out := slices.Clone(h.refs)
	slices.SortFunc(out, func(a, b ref) int {
		if h.better(&a, &b) {
			return -1
		}
		if h.better(&b, &a) {
			return 1
		}
		return 0
	})
	return out
}

// snapshot is what a query reads: the heads' batches and the parts, each part held until release.
type snapshot struct {
	heads   []*head
	classes []uint64 // tie-break class of each head: 1 frozen, 2 active
	parts   []*partHandle
}

func (e *Engine) snapshot() (*snapshot, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, storage.ErrClosed
	}
	s := &snapshot{parts: slices.Clone(e.parts)}
	for _, p := range s.parts {
		p.acquire()
	}
	if e.frozen != nil {
		s.heads = append(s.heads, e.frozen)
		s.classes = append(s.classes, 1)
	}
	s.heads = append(s.heads, e.active)
	s.classes = append(s.classes, 2)
	return s, nil
}

func (s *snapshot) release() {
	for _, p := range s.parts {
		p.release()
	}
	s.parts = nil
}

// groupAttrEq reports whether some group of gs (the resource or scope) has key k with string form v.
func groupAttrEq(gs []group, allowed []bool, k, v string) bool {
	for i, g := range gs {
		if allowed != nil && !allowed[i] {
			continue
		}
		if x, ok := g.scope.Attributes().Get(k); ok && x.AsString() == v {
			return true
		}
		if x, ok := g.res.Attributes().Get(k); ok && x.AsString() == v {
			return true
		}
	}
	return false
}

// bloomOK reports whether a block's token filter allows the equality predicates to match some row: a
// predicate on the item's own attributes needs its key=value token, unless (for AttrAny) a resource or scope
// of the part can supply the value.
func bloomOK(b part.Bloom, preds []storage.AttrPredicate, groups []group, allowed []bool) bool {
	for _, p := range preds {
		if p.Op != storage.OpEqual || len(p.Value) > maxTokenValue {
			continue
		}
		if p.Scope != storage.AttrSpan && p.Scope != storage.AttrAny {
			continue
		}
		if b.Has(part.HashToken(part.TokenAttr, p.Key, '=', p.Value)) {
			continue
		}
		if p.Scope == storage.AttrAny && groupAttrEq(groups, allowed, p.Key, p.Value) {
			continue
		}
		return false
	}
	return true
}

// allowedGroups evaluates the conditions that depend on the resource and scope only.
func allowedGroups(gs []group, service string, preds []storage.AttrPredicate) ([]bool, bool) {
	var ctxPreds []storage.AttrPredicate
	for _, p := range preds {
		if p.Scope == storage.AttrResource || p.Scope == storage.AttrScopeSet {
			ctxPreds = append(ctxPreds, p)
		}
	}
	empty := pcommon.NewMap()
	allowed := make([]bool, len(gs))
	any := false
	for i, g := range gs {
		allowed[i] = (service == "" || g.service == service) &&
			storage.MatchAll(ctxPreds, empty, g.scope.Attributes(), g.res.Attributes())
		any = any || allowed[i]
	}
	return allowed, any
}

func corrupt(p *partHandle, format string, args ...any) error {
	return fmt.Errorf("part %s: %w: %s", p.path, part.ErrCorrupt, fmt.Sprintf(format, args...))
}

func ctxCheck(ctx context.Context, i int) error {
	if i%64 == 63 {
		return ctx.Err()
	}
	return nil
}

func compareUnits(newestFirst bool) func(a, b unit) int {
	return func(a, b unit) int {
		if newestFirst {
			return cmp.Or(cmp.Compare(b.maxTS, a.maxTS), cmp.Compare(b.class, a.class), cmp.Compare(b.order, a.order))
		}
		return cmp.Or(cmp.Compare(a.minTS, b.minTS), cmp.Compare(a.class, b.class), cmp.Compare(a.order, b.order))
	}
}

func sortUnits(units []unit, newestFirst bool) { slices.SortFunc(units, compareUnits(newestFirst)) }

func utc(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func pcommonTS(ns int64) pcommon.Timestamp { return pcommon.Timestamp(uint64(ns)) }

func sortFound[T any](xs []T, better func(a, b T) bool) {
	slices.SortFunc(xs, func(a, b T) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
}

// prefilterAttrs drops from rows those that cannot satisfy an equality predicate on the item's own
// attributes (or AttrAny, when no resource or scope of the part can supply the value) whose value can only be
// the string form of a string attribute: every string attribute of a row is in the block's attribute column.
func prefilterAttrs(p *partHandle, blk int, b *part.Block, rows []int, preds []storage.AttrPredicate, allowed []bool) ([]int, error) {
	read := false
	for _, pr := range preds {
		if pr.Op != storage.OpEqual || !rawFilterable(pr.Value) {
			continue
		}
		switch pr.Scope {
		case storage.AttrSpan:
		case storage.AttrAny:
			if groupAttrEq(p.groups, allowed, pr.Key, pr.Value) {
				continue
			}
		default:
			continue
		}
		if !read {
			var err error
			if b, err = readMissing(p, blk, b, 1<<part.ColAttrs|1<<part.ColSet); err != nil {
				return nil, err
			}
			read = true
		}
		eq, err := attrStrEq(b.Attrs, b.N, b.Set, pr.Key, pr.Value)
		if err != nil {
			return nil, corrupt(p, "block %d: %v", blk, err)
		}
		rows = slices.DeleteFunc(rows, func(i int) bool { return eq == nil || !eq[i] })
		if len(rows) == 0 {
			break
		}
	}
	return rows, nil
}

// scanWorkers is how many units a query scans at once.
func scanWorkers() int { return max(1, min(runtime.GOMAXPROCS(0), 8)) }

// scanOrdered scans units 0..n-1 with scan on up to workers goroutines, at most workers units ahead of the
// consumer (fewer scanned past a stop), and hands each unit's result to consume in unit order. Before each unit it asks stop, with every
// earlier unit consumed: the results are those of a scan one unit at a time that stops at the same place
// (units scanned ahead of a stop are dropped).
func scanOrdered(ctx context.Context, n, workers int, stop func(i int) bool, scan func(i int) ([]ref, error), consume func(i int, refs []ref)) error {
	if workers <= 1 || n <= 1 {
		for i := range n {
			if err := ctxCheck(ctx, i); err != nil {
				return err
			}
			if stop(i) {
				return nil
			}
			refs, err := scan(i)
			if err != nil {
				return err
			}
			consume(i, refs)
		}
		return nil
	}
	type result struct {
		refs []ref
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	results := make([]chan result, n)
	sem := make(chan struct{}, workers)
	launched := 0
	launch := func(limit int) {
		for ; launched < min(limit, n); launched++ {
			i := launched
			ch := make(chan result, 1)
			results[i] = ch
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					ch <- result{err: ctx.Err()}
					return
				}
				defer func() { <-sem }()
				if err := ctx.Err(); err != nil {
					ch <- result{err: err}
					return
				}
				refs, err := scan(i)
				ch <- result{refs, err}
			}()
		}
	}
	for i := range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		if stop(i) {
			return nil
		}
		launch(i + workers)
		r := <-results[i]
		if r.err != nil {
			return r.err
		}
		consume(i, r.refs)
	}
	return nil
}

// forEachParallel calls fn(0..n-1) on up to workers goroutines and returns the error of the lowest i that
// failed (calls after a failure may be skipped).
func forEachParallel(n, workers int, fn func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() {
					return
				}
				if errs[i] = fn(i); errs[i] != nil {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
