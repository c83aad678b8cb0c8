package engine

import (
	"os"
	"path/filepath"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// KindStats describes the parts of one kind of data.
type KindStats struct {
	Parts int
	Rows  int64 // spans, log records, or metric batches
	Bytes int64 // on disk
	// OldestNanos and NewestNanos bound the item times the parts hold (0 without parts).
	OldestNanos, NewestNanos int64
}

// Stats is the state of an engine, for its own monitoring.
type Stats struct {
	Spans, Logs, Metrics KindStats
	HeadItems            int   // items in the active head, not yet in parts
	FrozenItems          int   // items of a head being flushed
	WALBytes             int64 // the files of the write-ahead log: segments and recycled ones
	Quarantined          int   // parts moved to quarantine/ because they could not be read
}

// Stats reports the parts, the heads and the write-ahead log. It takes the engine's lock briefly and
// lists two directories; it is meant for a scrape every few seconds, not for every request.
func (e *Engine) Stats() Stats {
	var s Stats
	e.mu.RLock()
	for _, p := range e.parts {
		var k *KindStats
		switch p.meta.Kind {
		case part.KindSpans:
			k = &s.Spans
		case part.KindLogs:
			k = &s.Logs
		case part.KindMetrics:
			k = &s.Metrics
		default:
			continue
		}
		if k.Parts == 0 || p.meta.MinTS < k.OldestNanos {
			k.OldestNanos = p.meta.MinTS
		}
		if k.Parts == 0 || p.meta.MaxTS > k.NewestNanos {
			k.NewestNanos = p.meta.MaxTS
		}
		k.Parts++
		k.Rows += int64(p.meta.Rows)
		k.Bytes += p.r.Size
	}
	active, frozen := e.active, e.frozen
	e.mu.RUnlock()
	if active != nil {
		s.HeadItems = active.items()
	}
	if frozen != nil {
		s.FrozenItems = frozen.items()
	}
	if ents, err := os.ReadDir(e.walDir()); err == nil { // segments and recycled files
		for _, ent := range ents {
			if fi, err := ent.Info(); err == nil && fi.Mode().IsRegular() {
				s.WALBytes += fi.Size()
			}
		}
	}
	if ents, err := os.ReadDir(filepath.Join(e.dir, "quarantine")); err == nil {
		s.Quarantined = len(ents)
	}
	return s
}
