package engine

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// maxMergeInputs bounds the parts one merge reads (each holds one decoded block in memory while merging).
const maxMergeInputs = 16

// DiskBytes returns the bytes of the parts on disk (the WAL not included).
func (e *Engine) DiskBytes() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var n int64
	for _, p := range e.parts {
		n += p.r.Size
	}
	return n
}

// applyRetention drops the parts older than MaxAge, then the oldest parts (oldest day first) while the parts
// take more than MaxBytes.
func (e *Engine) applyRetention() error {
	if e.opts.MaxAge <= 0 && e.opts.MaxBytes <= 0 {
		return nil
	}
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.mu.Lock()
	var drop []*partHandle
	keep := e.parts[:0:0]
	if e.opts.MaxAge > 0 {
		cutoff := e.opts.Now().Add(-e.opts.MaxAge).UnixNano()
		for _, p := range e.parts {
			if p.meta.MaxTS < cutoff {
				drop = append(drop, p)
			} else {
				keep = append(keep, p)
			}
		}
	} else {
		keep = append(keep, e.parts...)
	}
	if e.opts.MaxBytes > 0 {
		var total int64
		for _, p := range keep {
			total += p.r.Size
		}
		if total > e.opts.MaxBytes {
			byAge := slices.Clone(keep)
			slices.SortFunc(byAge, func(a, b *partHandle) int {
				return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.meta.MaxTS, b.meta.MaxTS), cmp.Compare(a.meta.ID, b.meta.ID))
			})
			gone := map[*partHandle]bool{}
			for _, p := range byAge {
				if total <= e.opts.MaxBytes {
					break
				}
				total -= p.r.Size
				gone[p] = true
				drop = append(drop, p)
			}
			keep = slices.DeleteFunc(keep, func(p *partHandle) bool { return gone[p] })
		}
	}
	e.parts = keep
	e.mu.Unlock()
	for _, p := range drop {
		e.log.Info("engine: retention drops part", "part", p.path, "newest", utc(p.meta.MaxTS), "bytes", p.r.Size)
		if err := os.Remove(p.path); err != nil {
			e.log.Error("engine: cannot remove part", "part", p.path, "err", err)
		}
		os.Remove(filepath.Dir(p.path)) // the day's directory, once empty
		p.release()
	}
	return nil
}

// mergeAll merges the small parts of each day and kind once there are Options.MergeMinParts of them.
func (e *Engine) mergeAll(ctx context.Context) error { return e.merge(ctx, e.opts.MergeMinParts, true) }

// Compact merges the parts of each day and kind into as few parts as it can (maxMergeInputs at a time).
func (e *Engine) Compact(ctx context.Context) error {
	for {
		n0 := e.partCount()
		if err := e.merge(ctx, 2, false); err != nil {
			return err
		}
		if e.partCount() >= n0 {
			return e.merge(ctx, 1, false)
		}
	}
}

func (e *Engine) partCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.parts)
}

// merge merges, per day and kind with at least minParts parts, up to maxMergeInputs of the smallest. When
// balanced, it merges only parts of comparable size (see balancedPrefix), so that an item is rewritten about
// log(parts of its day) times over the day, not once per merge.
func (e *Engine) merge(ctx context.Context, minParts int, balanced bool) error {
	e.mu.RLock()
	byKey := map[string][]*partHandle{}
	for _, p := range e.parts {
		if p.meta.Kind == part.KindMetrics {
			continue
		}
		k := fmt.Sprintf("%s/%d", p.day, p.meta.Kind)
		byKey[k] = append(byKey[k], p)
	}
	e.mu.RUnlock()
	for _, k := range sortedKeys(byKey) {
		ps := byKey[k]
		if len(ps) < minParts || (len(ps) == 1 && len(ps[0].meta.Sources) > 0) {
			continue // a lone part is rewritten only when a flush wrote it (at the fast level)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		slices.SortFunc(ps, func(a, b *partHandle) int { return cmp.Compare(a.r.Size, b.r.Size) })
		n := min(len(ps), maxMergeInputs)
		if balanced {
			sizes := make([]int64, n)
			for i, p := range ps[:n] {
				sizes[i] = p.r.Size
			}
			if n = balancedPrefix(sizes, minParts); n == 0 {
				continue
			}
		}
		ps = ps[:n]
		sortParts(ps)
		if err := e.mergeParts(ps); err != nil {
			return err
		}
	}
	return nil
}

// balancedPrefix returns how many of the smallest parts (sizes ascending) to merge: the most, at least
// minParts, whose largest is no bigger than the others together; 0 when no such set exists. Merging a part
// only with at least its own size in others makes each merge at least double its largest input, so an item
// is rewritten O(log n) times; merging the day's big part with every handful of new small ones (what taking
// the smallest minParts alone does once a day has one big part) rewrites it at every merge.
func balancedPrefix(sizes []int64, minParts int) int {
	var total int64
	for _, s := range sizes {
		total += s
	}
	for k := len(sizes); k >= max(minParts, 2); k-- {
		if largest := sizes[k-1]; largest <= total-largest {
			return k
		}
		total -= sizes[k-1]
	}
	return 0
}

// cursor walks the rows of one input part in order, one decoded block at a time.
type cursor struct {
	p      *partHandle
	blk    int
	row    int
	spans  *spanView
	logs   *logView
	offset int32 // of this part's groups in the merge's group list
}

func (c *cursor) load() error {
	for c.blk < len(c.p.meta.Blocks) {
		var err error
		if c.p.meta.Kind == part.KindSpans {
			c.spans, err = partSpanView(c.p, c.blk, nil, nil)
		} else {
			c.logs, err = partLogView(c.p, c.blk, nil, nil)
		}
		if err != nil {
			return err
		}
		c.row = 0
		return nil
	}
	c.spans, c.logs = nil, nil
	return nil
}

func (c *cursor) ts() int64 {
	if c.spans != nil {
		return c.spans.ts[c.row]
	}
	return c.logs.ts[c.row]
}

func (c *cursor) valid() bool { return c.spans != nil || c.logs != nil }

func (c *cursor) advance() error {
	c.row++
	n := 0
	if c.spans != nil {
		n = len(c.spans.spans)
	} else {
		n = len(c.logs.recs)
	}
	if c.row < n {
		return nil
	}
	c.blk++
	return c.load()
}

// yieldToFlush, called by a merge holding flushMu, lets a waiting flush run first: writers wait for flushes
// (waitRoom), and a merge takes seconds. The merge's part has its ID already (writeSpanPart and writeLogPart
// take it before they first call next, and must keep doing so), so a part flushed meanwhile still gets a
// higher one, as its rows are newer.
func (e *Engine) yieldToFlush() {
	if e.flushWaiting.Load() == 0 {
		return
	}
	e.flushMu.Unlock()
	for e.flushWaiting.Load() > 0 { // until the flush holds flushMu
		time.Sleep(time.Millisecond)
	}
	e.flushMu.Lock()
}

// mergeParts rewrites parts (of one day and kind, sorted by ID) as one, by a k-way merge on time (ties: the
// older part first, so arrival order holds). The new part names the parts it replaces, so that a crash
// between writing it and removing them cannot duplicate rows.
func (e *Engine) mergeParts(ps []*partHandle) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.mu.RLock()
	for _, p := range ps {
		if !slices.Contains(e.parts, p) {
			e.mu.RUnlock()
			return nil // dropped by retention meanwhile
		}
		p.acquire()
	}
	e.mu.RUnlock()
	defer func() {
		for _, p := range ps {
			p.release()
		}
	}()
	var groups []flushGroup
	cursors := make([]*cursor, len(ps))
	var sources []uint64
	walSeq := uint64(0)
	for i, p := range ps {
		c := &cursor{p: p, offset: int32(len(groups))}
		for _, g := range p.groups {
			groups = append(groups, flushGroup{g.res, g.resSchema, g.scope, g.scopeSchema})
		}
		if err := c.load(); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		cursors[i] = c
		sources = append(sources, p.meta.ID)
		walSeq = max(walSeq, p.meta.WALSeq)
	}
	var mergeErr error
	pick := func() *cursor {
		var best *cursor
		for _, c := range cursors {
			if c.valid() && (best == nil || c.ts() < best.ts()) {
				best = c
			}
		}
		return best
	}
	keys := map[string]struct{}{}
	var np *partHandle
	var err error
	if ps[0].meta.Kind == part.KindSpans {
		np, err = e.writeSpanPart(ps[0].day, walSeq, sources, groups, func() (spanItem, bool) {
			e.yieldToFlush()
			c := pick()
			if c == nil || mergeErr != nil {
				return spanItem{}, false
			}
			it := spanItem{ts: c.ts(), grp: c.offset + c.spans.rowGroup[c.row], span: c.spans.spans[c.row]}
			mergeErr = c.advance()
			return it, true
		}, keys)
	} else {
		np, err = e.writeLogPart(ps[0].day, walSeq, sources, groups, func() (logItem, bool) {
			e.yieldToFlush()
			c := pick()
			if c == nil || mergeErr != nil {
				return logItem{}, false
			}
			it := logItem{ts: c.ts(), grp: c.offset + c.logs.rowGroup[c.row], rec: c.logs.recs[c.row]}
			mergeErr = c.advance()
			return it, true
		}, keys)
	}
	if err == nil && mergeErr != nil {
		np.release()
		os.Remove(np.path)
		err = mergeErr
	}
	if err != nil {
		return fmt.Errorf("merge %d parts of %s: %w", len(ps), ps[0].day, err)
	}
	e.mu.Lock()
	e.parts = slices.DeleteFunc(e.parts, func(p *partHandle) bool { return slices.Contains(ps, p) })
	e.parts = append(e.parts, np)
	sortParts(e.parts)
	e.mu.Unlock()
	for _, p := range ps {
		if err := os.Remove(p.path); err != nil {
			e.log.Error("engine: cannot remove merged part", "part", p.path, "err", err)
		}
		p.release() // the engine list's reference
	}
	return nil
}
