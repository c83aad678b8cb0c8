package engine

import (
	"container/heap"
	"os"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// A merge copies blocks (copyParts), so the blocks of small flushes would stay small for good: a server
// taking a few items per second flushes a few hundred rows every FlushInterval, and blocks of a hundred rows
// take more than twice the bytes per item of full ones (their dictionaries, shapes and bloom filters are
// per block). Parts whose blocks are mostly small are therefore rewritten row by row instead (rewriteParts):
// a k-way merge on time into full blocks. That costs about ten times the CPU of a copy per item, but only
// where items are few.

// smallBlocks reports whether the blocks of ps hold fewer than half of blockRows rows on average.
func smallBlocks(ps []*partHandle, blockRows int) bool {
	rows, blocks := 0, 0
	for _, p := range ps {
		for _, bm := range p.meta.Blocks {
			rows += int(bm.Rows)
			blocks++
		}
	}
	return blocks > 0 && rows < blocks*blockRows/2
}

// cursor walks the rows of one block of an input part, decoded when the merge first takes a row of it:
// blocks are each in time order, but the blocks of a merged part may overlap in time (copyParts), so the
// k-way merge is over blocks, not parts. Until it is decoded, a block's next row is its first, at MinTS.
type cursor struct {
	p      *partHandle
	blk    int
	row    int
	order  int // position among the merge's blocks: ties on time go to the lower (older part, earlier block)
	spans  *spanView
	logs   *logView
	offset int32 // of this part's groups in the merge's group list
}

func (c *cursor) loaded() bool { return c.spans != nil || c.logs != nil }

func (c *cursor) load() error {
	var err error
	if c.p.meta.Kind == part.KindSpans {
		c.spans, err = partSpanView(c.p, c.blk, nil, nil)
	} else {
		c.logs, err = partLogView(c.p, c.blk, nil, nil)
	}
	return err
}

func (c *cursor) ts() int64 {
	switch {
	case c.spans != nil:
		return c.spans.ts[c.row]
	case c.logs != nil:
		return c.logs.ts[c.row]
	}
	return c.p.meta.Blocks[c.blk].MinTS
}

// advance moves to the next row and reports whether the block has one.
func (c *cursor) advance() bool {
	c.row++
	n := 0
	if c.spans != nil {
		n = len(c.spans.spans)
	} else {
		n = len(c.logs.recs)
	}
	if c.row < n {
		return true
	}
	c.spans, c.logs = nil, nil
	return false
}

// cursorHeap orders cursors by their next row's time, then by order.
type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	a, b := h[i].ts(), h[j].ts()
	return a < b || (a == b && h[i].order < h[j].order)
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// next returns the cursor holding the merge's next row, decoded, or nil when no row is left; after taking
// the row, the caller calls done.
func (h *cursorHeap) next() (*cursor, error) {
	for h.Len() > 0 {
		c := (*h)[0]
		if c.loaded() {
			return c, nil
		}
		if err := c.load(); err != nil {
			return nil, err
		}
		// Its first row is at MinTS: the heap order holds.
		if c.loaded() && (c.spans != nil && len(c.spans.spans) > 0 || c.logs != nil && len(c.logs.recs) > 0) {
			return c, nil
		}
		c.spans, c.logs = nil, nil
		heap.Pop(h) // an empty block
	}
	return nil, nil
}

// done advances the top cursor past the row taken.
func (h *cursorHeap) done() {
	if (*h)[0].advance() {
		heap.Fix(h, 0)
	} else {
		heap.Pop(h)
	}
}

// rewriteParts writes parts (of one day and kind, sorted by ID) as one by a k-way merge of their blocks' rows
// on time (ties: the older part first, so arrival order holds), and opens it.
func (e *Engine) rewriteParts(ps []*partHandle) (*partHandle, error) {
	var groups []flushGroup
	var cursors cursorHeap
	var sources []uint64
	walSeq := uint64(0)
	for _, p := range ps {
		off := int32(len(groups))
		for _, g := range p.groups {
			groups = append(groups, flushGroup{g.res, g.resSchema, g.scope, g.scopeSchema})
		}
		for bi := range p.meta.Blocks {
			cursors = append(cursors, &cursor{p: p, blk: bi, order: len(cursors), offset: off})
		}
		sources = append(sources, p.meta.ID)
		walSeq = max(walSeq, p.meta.WALSeq)
	}
	heap.Init(&cursors)
	var mergeErr error
	pick := func() *cursor {
		if mergeErr != nil {
			return nil
		}
		c, err := cursors.next()
		if err != nil {
			mergeErr = err
			return nil
		}
		return c
	}
	keys := map[string]struct{}{}
	var np *partHandle
	var err error
	if ps[0].meta.Kind == part.KindSpans {
		np, err = e.writeSpanPart(ps[0].day, walSeq, sources, groups, func() (spanItem, bool) {
			c := pick()
			if c == nil {
				return spanItem{}, false
			}
			it := spanItem{ts: c.ts(), grp: c.offset + c.spans.rowGroup[c.row], span: c.spans.spans[c.row]}
			cursors.done()
			return it, true
		}, keys)
	} else {
		np, err = e.writeLogPart(ps[0].day, walSeq, sources, groups, func() (logItem, bool) {
			c := pick()
			if c == nil {
				return logItem{}, false
			}
			it := logItem{ts: c.ts(), grp: c.offset + c.logs.rowGroup[c.row], rec: c.logs.recs[c.row]}
			cursors.done()
			return it, true
		}, keys)
	}
	if err == nil && mergeErr != nil {
		np.release()
		os.Remove(np.path)
		err = mergeErr
	}
	return np, err
}
