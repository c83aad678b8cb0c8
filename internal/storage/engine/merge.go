package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// recompressLevel returns the level at which a merge compresses column c of a block (of spans or logs)
// when a flush wrote the block (stored uncompressed, part.LevelStore, or in parts of older versions at
// zstd's fastest level); ok is false for a column copied as stored. A
// block from a merge is copied as stored, but for its set and name columns (compressed at LevelBetter).
//
// Measured on the reference workload (BenchmarkBytesPerItem, BenchmarkMerge): flushed parts take 40.5 B per
// span and 45.2 per log record; copied as stored, 39.6 and 45.0; rewritten whole at LevelBest (as merges did
// before they copied blocks), 35.4 and 39.5. Every column but the IDs at LevelBetter makes spans 36.5 B, at
// about a tenth of the CPU of a whole rewrite. Log records took 39.8 B with their attribute and blob columns
// at LevelBest and 40.7 at LevelBetter, but LevelBest cost 2.3 us of CPU per record (0.7 at LevelBetter),
// more than the rest of ingest: sustained ingest waits for merges. With attributes coded by set, log
// records take 38.6 B with every column at LevelBetter and 39.3 B with their body, blob and attribute
// columns at LevelDefault, whose merge costs 27% less CPU per record; spans gain 9% of merge CPU for 0.4 B
// that way. Then the blob and attribute columns went to LevelFast: BenchmarkMerge/spans/flushed 657-677 ->
// 565-580 cpu-ns per span, logs 722-729 -> 680-682 per record, for 36.72 -> 38.22 B/span and 39.37 -> 39.53
// B/log. The body column stayed at LevelDefault (at LevelFast it took 3.7 B more per record), until it
// became Huffman-coded literals, a block per section (part.CompressColumn, at any level): 39.54 -> 37.46
// B/log, and BenchmarkIngest/logs alternated, 3 pairs: 631/667/665k -> 684/733/724k/s, cpu-ns
// 2893/2768/2758 -> 2660/2479/2506. The small columns are at LevelBetter. The time columns of log records
// are copied as the flush compressed them (zstd's fastest): at LevelBetter they took 2.260 and 3.004
// B/record, copied 2.272 and 3.004, and BenchmarkMerge/logs/flushed went from 612-628 to 508-536 cpu-ns per
// record. Spans' take 0.53 B more copied, for 3-6% less merge CPU: they stay at LevelBetter.
//
// The flush compresses some of these columns itself, on its workers (flushCompresses): a merge copies them
// unless a flush of an older version stored them (part.Stored).
func recompressLevel(kind part.Kind, c int) (level part.Level, ok bool) {
	switch c {
	case part.ColTID, part.ColSpanID:
		return 0, false // random bytes
	case part.ColTS, part.ColAux:
		if kind == part.KindLogs {
			return 0, false
		}
	case part.ColBody:
		return part.LevelDefault, true // any level: part.CompressColumn codes the body column as literals
	case part.ColBlob, part.ColAttrs:
		return part.LevelFast, true
	}
	return part.LevelBetter, true
}

// flushCompresses reports whether a flush compresses column c of a block of kind at recompressLevel, so that
// the merge that takes the part copies it: the blob and attribute columns, and the body column of log
// records. Merges used to code the attribute column by set (attrbyset.go; now only for parts whose flush
// stored it): for spans 0.06 B per span, and BenchmarkIngest spans alternated went 606/620/669k ->
// 637/662/704k/s (cpu-ns 3008/2902/2712 -> 2775/2733/2584) without it. Log records gain 1.2 B from it, which
// they could spare once their body column was Huffman-coded literals (part.CompressColumn, a seventh of the
// CPU of zstd's default level, in fewer bytes): 37.46 -> 38.63 B/log, BenchmarkIngest/logs alternated
// 737/747/746k -> 798/766/802k/s, cpu-ns 2462/2419/2408 -> 2247/2346/2277.
func flushCompresses(kind part.Kind, c int) bool {
	switch c {
	case part.ColBlob, part.ColAttrs:
		return true
	case part.ColBody:
		return kind == part.KindLogs
	}
	return false
}

// mergeDicts builds the footer dictionaries of a merged part from those of its inputs.
type mergeDicts struct {
	sets   [][]byte
	setOf  map[string]uint32 // encoded set -> index
	names  []string
	nameOf map[string]uint32
	ops    map[part.Op]struct{}
	keys   map[string]struct{}
}

// add adds the dictionaries of p and returns where its set and name indexes go.
func (d *mergeDicts) add(p *partHandle) (setTo, nameTo []uint32) {
	setTo = make([]uint32, len(p.meta.Sets))
	for i, raw := range p.meta.Sets {
		j, ok := d.setOf[string(raw)]
		if !ok {
			j = uint32(len(d.sets))
			d.sets = append(d.sets, raw)
			d.setOf[string(raw)] = j
		}
		setTo[i] = j
	}
	nameTo = make([]uint32, len(p.meta.Names))
	for i, n := range p.meta.Names {
		j, ok := d.nameOf[n]
		if !ok {
			j = uint32(len(d.names))
			d.names = append(d.names, n)
			d.nameOf[n] = j
		}
		nameTo[i] = j
	}
	for _, o := range p.meta.Ops {
		d.ops[o] = struct{}{}
	}
	for _, k := range p.meta.AttrKeys {
		d.keys[k] = struct{}{}
	}
	return setTo, nameTo
}

func identity(to []uint32) bool {
	for i, j := range to {
		if uint32(i) != j {
			return false
		}
	}
	return true
}

// mergeParts writes parts (of one day and kind, sorted by ID) as one: rewritten row by row when their blocks
// are mostly small (rewrite.go), else by copying their blocks, in that order,
// without decoding rows: a block's columns are copied as stored, except the set and name columns, whose
// indexes are rewritten for the merged part's dictionaries (the union of the inputs'), and, for blocks a
// flush wrote, the columns recompressLevel names, compressed again. Blocks keep their time range and
// bloom filters; blocks of different inputs may overlap in time (readers bound each block by its own range).
// The new part names the parts it replaces, so that a crash between writing it and removing them cannot
// duplicate rows. It runs alongside flushes: while one merge ran at a time with flushes, yielding to them
// between blocks, the cores idled in the flush's serial stretches (BenchmarkIngest alternated, 3 pairs each:
// logs 592-648k -> 618-651k/s in two of three, spans 560-580k -> 589-601k/s).
func (e *Engine) mergeParts(ps []*partHandle) error {
	e.mergeMu.Lock()
	defer e.mergeMu.Unlock()
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
	var np *partHandle
	var err error
	if smallBlocks(ps, e.opts.BlockRows) {
		np, err = e.rewriteParts(ps)
	} else {
		np, err = e.copyParts(ps)
	}
	if err != nil {
		return fmt.Errorf("merge %d parts of %s: %w", len(ps), ps[0].day, err)
	}
	e.mu.Lock()
	e.parts = slices.DeleteFunc(e.parts, func(p *partHandle) bool { return slices.Contains(ps, p) })
	e.parts = append(e.parts, np)
	sortParts(e.parts)
	e.countUnmerged()
	e.mu.Unlock()
	for _, p := range ps {
		if err := os.Remove(p.path); err != nil {
			e.log.Error("engine: cannot remove merged part", "part", p.path, "err", err)
		}
		p.release() // the engine list's reference
	}
	return nil
}

// copyParts writes the merged part of ps and opens it.
func (e *Engine) copyParts(ps []*partHandle) (*partHandle, error) {
	// The ID is taken first, so a part flushed meanwhile gets a higher one (its rows are newer).
	meta := part.Meta{ID: e.nextID.Add(1) - 1, Kind: ps[0].meta.Kind}
	for _, p := range ps {
		meta.Sources = append(meta.Sources, p.meta.ID)
		meta.WALSeq = max(meta.WALSeq, p.meta.WALSeq)
	}
	dir := filepath.Join(e.partsDir(), ps[0].day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create partition %s: %w", ps[0].day, err)
	}
	path := filepath.Join(dir, partName(meta.ID, meta.Kind))
	w, err := part.Create(path, meta)
	if err != nil {
		return nil, err
	}
	// The footer's level: it is mostly bloom filters, which do not compress (at LevelBetter its dictionaries
	// took 0.04 B/span and 0.02 B/log less, for zstd searching the filters for matches at every merge).
	w.Level = part.LevelFast
	d := &mergeDicts{setOf: map[string]uint32{}, nameOf: map[string]uint32{}, ops: map[part.Op]struct{}{}, keys: map[string]struct{}{}}
	// What each input's blocks need: their indexes remapped, and the columns a flush wrote compressed again.
	type input struct {
		remap      [part.NumCols][]uint32
		level      [part.NumCols]part.Level
		ifStored   uint16 // of recompress: the columns recompressed only when stored (flushCompresses)
		recompress uint32
	}
	inputs := make([]input, len(ps))
	type job struct{ pi, bi int }
	var jobs []job
	for pi, p := range ps {
		setTo, nameTo := d.add(p)
		in := &inputs[pi]
		in.remap = [part.NumCols][]uint32{part.ColSet: setTo, part.ColName: nameTo}
		if meta.Kind != part.KindSpans || identity(nameTo) {
			in.remap[part.ColName] = nil // log parts have no names: their name column is all zeros
		}
		if identity(setTo) {
			in.remap[part.ColSet] = nil
		}
		for c := range part.NumCols {
			in.level[c] = part.LevelBetter
			if l, ok := recompressLevel(meta.Kind, c); ok && len(p.meta.Sources) == 0 {
				in.level[c], in.recompress = l, in.recompress|1<<c
				if flushCompresses(meta.Kind, c) {
					in.ifStored |= 1 << c
				}
			}
		}
		for bi := range p.meta.Blocks {
			jobs = append(jobs, job{pi, bi})
		}
	}
	// Blocks are read and compressed on two workers, written in order here.
	type block struct {
		cols          [part.NumCols][]byte
		raw, remapped []byte
		sets          []uint32 // the set column's values, of a block a flush wrote
		byset         []byte
	}
	err = runOrdered(len(jobs), 2, func() *block { return &block{} },
		func(_, k int, b *block) error {
			p, bi, in := ps[jobs[k].pi], jobs[k].bi, &inputs[jobs[k].pi]
			bm := p.meta.Blocks[bi]
			for c := range part.NumCols {
				frame, err := p.r.ReadFrame(bi, c, b.cols[c])
				if err != nil {
					return fmt.Errorf("part %s: %w", p.path, err)
				}
				b.cols[c] = frame
				recompress := in.recompress&(1<<c) != 0 && (in.ifStored&(1<<c) == 0 || part.Stored(frame))
				if in.remap[c] == nil && !recompress {
					continue
				}
				if b.raw, err = part.Decompress(frame, b.raw); err != nil {
					return corrupt(p, "block %d column %d: %v", bi, c, err)
				}
				src := b.raw
				if in.remap[c] != nil {
					if b.remapped, err = part.RemapIndexes(b.raw, bm.Rows, in.remap[c], b.remapped); err != nil {
						return corrupt(p, "block %d column %d: %v", bi, c, err)
					}
					src = b.remapped
				}
				if recompress {
					// The attribute column of a block a flush wrote gets its dictionary sections coded by
					// set where that pays (attrbyset.go), from the set column as the merged part has it.
					switch c {
					case part.ColSet:
						if b.sets, err = part.AppendUvarintColumn(b.sets[:0], src, bm.Rows); err != nil {
							return corrupt(p, "block %d column %d: %v", bi, c, err)
						}
					case part.ColAttrs:
						out, changed, err := byset(b.byset[:0], src, bm.Rows, b.sets)
						if err != nil {
							return corrupt(p, "block %d column %d: %v", bi, c, err)
						}
						if changed {
							src, b.byset = out, out
						}
					}
				}
				// b.cols[c] holds the frame read, which src does not share: its buffer is free again.
				b.cols[c] = part.CompressColumn(in.level[c], c, bm.Rows, b.cols[c][:0], src)
			}
			return nil
		},
		func(k int, b *block) error {
			return w.AddFrames(ps[jobs[k].pi].meta.Blocks[jobs[k].bi], &b.cols)
		})
	if err != nil {
		w.Abort()
		return nil, err
	}
	var names []string
	if meta.Kind == part.KindSpans {
		names = d.names
	}
	w.SetDicts(d.sets, names, opsList(d.ops), keyList(d.keys))
	return finishPart(w, path)
}
