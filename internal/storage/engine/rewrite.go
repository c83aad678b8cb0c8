package engine

import (
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
	if c.blk < len(c.p.meta.Blocks) {
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

// rewriteParts writes parts (of one day and kind, sorted by ID) as one by a k-way merge of their rows on time
// (ties: the older part first, so arrival order holds), and opens it. It yields to a waiting flush between
// rows.
func (e *Engine) rewriteParts(ps []*partHandle) (*partHandle, error) {
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
			return nil, err
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
	return np, err
}
