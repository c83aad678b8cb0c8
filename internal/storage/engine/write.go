package engine

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/wal"
)

// WAL record types. A record's payload is the batch as OTLP protobuf (TracesData, LogsData, MetricsData).
const (
	recSpans   byte = 1
	recLogs    byte = 2
	recMetrics byte = 3
)

var (
	_ storage.EncodedSpanWriter   = (*Engine)(nil)
	_ storage.EncodedLogWriter    = (*Engine)(nil)
	_ storage.EncodedMetricWriter = (*Engine)(nil)
)

var (
	_ storage.RawSpanWriter = (*Engine)(nil)
	_ storage.RawLogWriter  = (*Engine)(nil)
)

// WriteSpans stores td: it returns once td is in the write-ahead log (fsynced with SyncBatch) and searchable.
func (e *Engine) WriteSpans(ctx context.Context, td ptrace.Traces) error {
	return e.WriteSpansEncoded(ctx, td, nil)
}

// WriteSpansEncoded is WriteSpans with td's protobuf encoding, which becomes the write-ahead log record as it
// is (nil: td is encoded here; so is an encoding the engine cannot read in place). raw is copied before the
// call returns.
func (e *Engine) WriteSpansEncoded(ctx context.Context, td ptrace.Traces, raw []byte) error {
	if td.SpanCount() == 0 {
		return e.checkWrite(ctx)
	}
	if raw != nil {
		own := append([]byte(nil), raw...)
		ops := opSet{}
		if sc, err := scanSpans(own, ops, e.cat.knownOps()); err == nil {
			return e.writeSpans(ctx, own, sc, ops)
		}
		// An encoding pdata decodes but the engine's read in place does not (an unusual one): td, encoded
		// here, is what is stored.
	}
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		return fmt.Errorf("write spans: encode: %w", err)
	}
	return e.WriteSpansRaw(ctx, raw, nil)
}

// WriteSpansRaw stores the spans of raw, a TracesData message (storage.RawSpanWriter), with the guarantees of
// WriteSpans. raw is copied before the call returns. Given idx, the receiver's index of raw (which vouches
// for its structure), the write takes the spans from it; otherwise it reads raw in place, and a message it
// finds malformed (framing, a known field of the wrong wire type, an ID of the wrong length, an attribute
// that does not read) is refused with an error before anything is written.
func (e *Engine) WriteSpansRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	own := append([]byte(nil), raw...)
	ops := opSet{}
	if idx != nil {
		if sc, ok := indexSpans(raw, own, idx, ops, e.cat.knownOps()); ok {
			return e.writeSpans(ctx, own, sc, ops)
		}
		clear(ops) // an index that does not fit raw: read raw
	}
	sc, err := scanSpans(own, ops, e.cat.knownOps())
	if err != nil {
		return fmt.Errorf("write spans: %w", err)
	}
	return e.writeSpans(ctx, own, sc, ops)
}

// writeSpans logs and adds a TracesData message the engine owns, scanned.
func (e *Engine) writeSpans(ctx context.Context, own []byte, sc batchScan, ops opSet) error {
	if sc.n == 0 {
		return e.checkWrite(ctx)
	}
	return e.write(ctx, recSpans, own, func(h *head, arrival uint64) {
		e.cat.addOps(ops)
		h.addSpans(own, sc, arrival)
	})
}

// WriteLogs stores ld, with the guarantees of WriteSpans.
func (e *Engine) WriteLogs(ctx context.Context, ld plog.Logs) error {
	return e.WriteLogsEncoded(ctx, ld, nil)
}

// WriteLogsEncoded is WriteSpansEncoded for logs.
func (e *Engine) WriteLogsEncoded(ctx context.Context, ld plog.Logs, raw []byte) error {
	if ld.LogRecordCount() == 0 {
		return e.checkWrite(ctx)
	}
	if raw != nil {
		own := append([]byte(nil), raw...)
		if sc, err := scanLogs(own); err == nil {
			return e.writeLogs(ctx, own, sc)
		}
	}
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return fmt.Errorf("write logs: encode: %w", err)
	}
	return e.WriteLogsRaw(ctx, raw, nil)
}

// WriteLogsRaw is WriteSpansRaw for a LogsData message.
func (e *Engine) WriteLogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	own := append([]byte(nil), raw...)
	if idx != nil {
		if sc, ok := indexLogs(raw, own, idx); ok {
			return e.writeLogs(ctx, own, sc)
		}
	}
	sc, err := scanLogs(own)
	if err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	return e.writeLogs(ctx, own, sc)
}

// writeLogs logs and adds a LogsData message the engine owns, scanned.
func (e *Engine) writeLogs(ctx context.Context, own []byte, sc batchScan) error {
	if sc.n == 0 {
		return e.checkWrite(ctx)
	}
	return e.write(ctx, recLogs, own, func(h *head, arrival uint64) { h.addLogs(own, sc, arrival) })
}

// WriteMetrics stores md, with the guarantees of WriteSpans.
func (e *Engine) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	return e.WriteMetricsEncoded(ctx, md, nil)
}

// WriteMetricsEncoded is WriteSpansEncoded for metrics.
func (e *Engine) WriteMetricsEncoded(ctx context.Context, md pmetric.Metrics, raw []byte) error {
	if md.DataPointCount() == 0 {
		return e.checkWrite(ctx)
	}
	if raw == nil {
		var err error
		if raw, err = (&pmetric.ProtoMarshaler{}).MarshalMetrics(md); err != nil {
			return fmt.Errorf("write metrics: encode: %w", err)
		}
	}
	return e.write(ctx, recMetrics, raw, func(h *head, arrival uint64) {
		e.cat.addMetrics(md)
		h.addMetrics(md, arrival, len(raw))
	})
}

func (e *Engine) checkWrite(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.isClosed() {
		return storage.ErrClosed
	}
	return nil
}

func (e *Engine) write(ctx context.Context, typ byte, payload []byte, add func(*head, uint64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.waitRoom(ctx); err != nil {
		return err
	}

	e.writeMu.RLock()
	defer e.writeMu.RUnlock()
	if _, err := e.wal.Append(typ, payload); err != nil {
		if errors.Is(err, wal.ErrClosed) {
			return storage.ErrClosed
		}
		return fmt.Errorf("write-ahead log: %w", err)
	}
	e.mu.RLock()
	h := e.active
	e.mu.RUnlock()
	add(h, e.arrival.Add(1))
	if n, b := h.size(); n >= e.opts.HeadMaxItems || b >= e.opts.HeadMaxBytes {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// waitRoom makes a writer wait while the heads hold as much as they may (backpressure: a writer waits
// rather than grow the head past what flushing keeps up with), until there is room, ctx is done or the engine
// is closed.
//
// The heads may hold the active head up to its flush threshold (Options.HeadMaxItems, Options.HeadMaxBytes)
// while a frozen head is being flushed, and up to twice the threshold otherwise (the flush that freezes it has
// been asked for and is starting). So at most about twice the threshold is held in memory, plus the batches of
// the writers let in at once. Writers also wait while merges are behind: maxUnmerged flushed parts that no
// merge took yet (the merger then takes them whatever their number per day and kind), so that sustained
// ingest runs at the rate flushes and merges together keep up with, not faster with parts piling up.
func (e *Engine) waitRoom(ctx context.Context) error {
	e.mu.RLock()
	for !e.closed && (e.overLimit(2) || (e.frozen != nil && e.overLimit(1)) || e.unmerged >= e.maxUnmerged()) {
		room := e.room
		e.mu.RUnlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
		e.mu.RLock()
	}
	closed := e.closed
	e.mu.RUnlock()
	if closed {
		return storage.ErrClosed
	}
	return nil
}

// wakeWriters lets the writers waiting in waitRoom look again. Called with e.mu held for writing.
func (e *Engine) wakeWriters() {
	close(e.room)
	e.room = make(chan struct{})
}

// overLimit reports whether the active head holds factor times its flush threshold. Called with e.mu held
// (shared is enough).
func (e *Engine) overLimit(factor int) bool {
	n, b := e.active.size()
	return n >= factor*e.opts.HeadMaxItems || b >= int64(factor)*e.opts.HeadMaxBytes
}

// applyRecord puts a replayed WAL record into the active head.
func (e *Engine) applyRecord(typ byte, payload []byte) error {
	arrival := e.arrival.Add(1)
	switch typ {
	case recSpans:
		own := append([]byte(nil), payload...)
		ops := opSet{}
		sc, err := scanSpans(own, ops, e.cat.knownOps())
		if err != nil {
			// Written by a version that logged what pdata accepted: store it as pdata encodes it.
			td, derr := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(payload)
			if derr != nil {
				return err
			}
			if own, derr = (&ptrace.ProtoMarshaler{}).MarshalTraces(td); derr != nil {
				return err
			}
			if sc, err = scanSpans(own, ops, e.cat.knownOps()); err != nil {
				return err
			}
		}
		e.cat.addOps(ops)
		e.active.addSpans(own, sc, arrival)
	case recLogs:
		own := append([]byte(nil), payload...)
		sc, err := scanLogs(own)
		if err != nil {
			ld, derr := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(payload)
			if derr != nil {
				return err
			}
			if own, derr = (&plog.ProtoMarshaler{}).MarshalLogs(ld); derr != nil {
				return err
			}
			if sc, err = scanLogs(own); err != nil {
				return err
			}
		}
		e.active.addLogs(own, sc, arrival)
	case recMetrics:
		md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(payload)
		if err != nil {
			return fmt.Errorf("decode metrics: %w", err)
		}
		e.cat.addMetrics(md)
		e.active.addMetrics(md, arrival, len(payload))
	default:
		return fmt.Errorf("unknown record type %d", typ)
	}
	return nil
}
