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

// maxMergeInputs bounds the parts one merge reads.
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
	e.mergeMu.Lock() // no merge in progress: its inputs might be dropped here and come back in its output
	defer e.mergeMu.Unlock()
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
	e.countUnmerged()
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

// mergeAll merges the small parts of each day and kind once there are Options.MergeMinParts of them, then
// the parts flushes wrote more than flushedMergeAge ago that no merge took yet.
func (e *Engine) mergeAll(ctx context.Context) error {
	if _, err := e.merge(ctx, e.opts.MergeMinParts, true); err != nil {
		return err
	}
	return e.mergeFlushed(ctx, time.Now().Add(-flushedMergeAge))
}

// mergeBacklog merges until no day and kind has Options.MergeMinParts parts of comparable size, then merges
// the flushed parts that waited flushedMergeAge, or all flushed parts while writers wait for merges (half of
// maxUnmerged or more: their days and kinds may each hold too few for a merge). The background merger runs
// it after every flush and every Options.MaintenanceInterval, so that merges keep up with flushes for as
// long as the CPU allows, and writers wait (waitRoom) when it does not.
func (e *Engine) mergeBacklog(ctx context.Context) error {
	for {
		merged, err := e.merge(ctx, e.opts.MergeMinParts, true)
		if err != nil {
			return err
		}
		if !merged {
			break
		}
	}
	cutoff := time.Now().Add(-flushedMergeAge)
	e.mu.RLock()
	backlog := e.unmerged >= e.maxUnmerged()/2
	e.mu.RUnlock()
	if backlog {
		cutoff = time.Now()
	}
	return e.mergeFlushed(ctx, cutoff)
}

// Settle flushes the head and merges until every part a flush wrote has been merged: the state the
// background work reaches when writes stop, reached now (benchmarks of sustained ingest count this work).
func (e *Engine) Settle(ctx context.Context) error {
	if err := e.Flush(ctx); err != nil {
		return err
	}
	for {
		if err := e.mergeBacklog(ctx); err != nil {
			return err
		}
		if err := e.mergeFlushed(ctx, time.Now()); err != nil {
			return err
		}
		e.mu.RLock()
		n := e.unmerged
		e.mu.RUnlock()
		if n == 0 {
			return nil
		}
	}
}

// maxUnmerged is how many parts flushes may have written that no merge took yet before writers wait.
func (e *Engine) maxUnmerged() int { return 4 * e.opts.MergeMinParts }

// countUnmerged sets e.unmerged from the parts and lets waiting writers look again if it went down. Called
// with e.mu held for writing, after every change of e.parts.
func (e *Engine) countUnmerged() {
	n := 0
	for _, p := range e.parts {
		if p.meta.Kind != part.KindMetrics && len(p.meta.Sources) == 0 {
			n++
		}
	}
	if n < e.unmerged {
		e.wakeWriters()
	}
	e.unmerged = n
}

// flushedMergeAge is how long a part written by a flush, whose columns are mostly stored uncompressed
// (part.LevelStore), waits for a merge before it is merged with the other flushed parts of its day and
// kind, or alone: under load, merges take flushed parts within seconds; at a few items a second, a day may
// take minutes to gather Options.MergeMinParts parts, and its flushed parts would take about twice the disk
// meanwhile.
const flushedMergeAge = 10 * time.Second

// mergeFlushed merges, per day and kind, the parts flushes wrote (spans and logs) that were opened before
// cutoff: up to maxMergeInputs of them, alone if need be.
func (e *Engine) mergeFlushed(ctx context.Context, cutoff time.Time) error {
	byKey := e.mergeablePartsByKey(func(p *partHandle) bool { return len(p.meta.Sources) == 0 && p.opened.Before(cutoff) })
	for _, k := range sortedKeys(byKey) {
		if err := ctx.Err(); err != nil {
			return err
		}
		ps := byKey[k]
		sortParts(ps)
		if err := e.mergeParts(ps[:min(len(ps), maxMergeInputs)]); err != nil {
			return err
		}
	}
	return nil
}

// mergeablePartsByKey returns the span and log parts that keep says to, by day and kind ("day/kind").
func (e *Engine) mergeablePartsByKey(keep func(*partHandle) bool) map[string][]*partHandle {
	e.mu.RLock()
	defer e.mu.RUnlock()
	byKey := map[string][]*partHandle{}
	for _, p := range e.parts {
		if p.meta.Kind != part.KindMetrics && keep(p) {
			k := fmt.Sprintf("%s/%d", p.day, p.meta.Kind)
			byKey[k] = append(byKey[k], p)
		}
	}
	return byKey
}

// Compact merges the parts of each day and kind into as few parts as it can (maxMergeInputs at a time).
func (e *Engine) Compact(ctx context.Context) error {
	for {
		n0 := e.partCount()
		if _, err := e.merge(ctx, 2, false); err != nil {
			return err
		}
		if e.partCount() >= n0 {
			_, err := e.merge(ctx, 1, false)
			return err
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
func (e *Engine) merge(ctx context.Context, minParts int, balanced bool) (merged bool, err error) {
	byKey := e.mergeablePartsByKey(func(*partHandle) bool { return true })
	for _, k := range sortedKeys(byKey) {
		ps := byKey[k]
		if len(ps) < minParts || (len(ps) == 1 && len(ps[0].meta.Sources) > 0) {
			continue // a lone part is merged (compressed) only when a flush wrote it
		}
		if err := ctx.Err(); err != nil {
			return merged, err
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
			return merged, err
		}
		merged = true
	}
	return merged, nil
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
