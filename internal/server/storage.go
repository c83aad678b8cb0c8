package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// openBackend opens the backend cfg.Storage names.
func openBackend(cfg config.Config, log *slog.Logger) (storage.Backend, error) {
	switch cfg.Storage {
	case "memory":
		return memory.New(memory.Options{
			MaxSpans:  cfg.Memory.MaxSpans,
			MaxLogs:   cfg.Memory.MaxLogs,
			MaxPoints: cfg.Memory.MaxPoints,
			Logger:    log.With("component", "storage"),
		}), nil
	case "engine":
		sync := engine.SyncBatch
		if cfg.Engine.Sync == "none" {
			sync = engine.SyncNone
		}
		return engine.Open(cfg.DataDir, engine.Options{
			Logger:   log.With("component", "storage"),
			Sync:     sync,
			MaxAge:   time.Duration(cfg.Retention.MaxAge),
			MaxBytes: cfg.Retention.MaxBytes,

			HeadMaxItems: cfg.Engine.FlushItems,
		})
	default:
		return nil, fmt.Errorf("storage %q is not available in this build", cfg.Storage)
	}
}

// storageConsumer makes a backend the pipeline's durable consumer. The engine gets metric batches only with
// engine.otlp_metrics (the metrics store has them anyway); the memory backend always does.
func storageConsumer(b storage.Backend, cfg config.Config) pipeline.Consumer {
	w := backendWriter{b}
	c := pipeline.Consumer{Name: "storage", Traces: w, Logs: w, Metrics: w}
	if _, isEngine := b.(*engine.Engine); isEngine && !cfg.Engine.OTLPMetrics {
		c.Metrics = nil
	}
	return c
}

type backendWriter struct{ b storage.Backend }

func (w backendWriter) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	return w.b.WriteSpans(ctx, td)
}

func (w backendWriter) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return w.b.WriteLogs(ctx, ld)
}

func (w backendWriter) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return w.b.WriteMetrics(ctx, md)
}

var (
	_ pipeline.EncodedTracesConsumer  = backendWriter{}
	_ pipeline.EncodedLogsConsumer    = backendWriter{}
	_ pipeline.EncodedMetricsConsumer = backendWriter{}
)

// ConsumeTracesEncoded hands raw to a backend that takes it (storage.EncodedSpanWriter).
func (w backendWriter) ConsumeTracesEncoded(ctx context.Context, td ptrace.Traces, raw []byte) error {
	if ew, ok := w.b.(storage.EncodedSpanWriter); ok {
		return ew.WriteSpansEncoded(ctx, td, raw)
	}
	return w.b.WriteSpans(ctx, td)
}

// ConsumeLogsEncoded hands raw to a backend that takes it (storage.EncodedLogWriter).
func (w backendWriter) ConsumeLogsEncoded(ctx context.Context, ld plog.Logs, raw []byte) error {
	if ew, ok := w.b.(storage.EncodedLogWriter); ok {
		return ew.WriteLogsEncoded(ctx, ld, raw)
	}
	return w.b.WriteLogs(ctx, ld)
}

// ConsumeMetricsEncoded hands raw to a backend that takes it (storage.EncodedMetricWriter).
func (w backendWriter) ConsumeMetricsEncoded(ctx context.Context, md pmetric.Metrics, raw []byte) error {
	if ew, ok := w.b.(storage.EncodedMetricWriter); ok {
		return ew.WriteMetricsEncoded(ctx, md, raw)
	}
	return w.b.WriteMetrics(ctx, md)
}

var (
	_ pipeline.RawTracesConsumer = backendWriter{}
	_ pipeline.RawLogsConsumer   = backendWriter{}
)

// ConsumeTracesRaw hands raw to a backend that takes it (storage.RawSpanWriter); for another backend it asks
// for the batch decoded (errors.ErrUnsupported), which then goes through ConsumeTracesEncoded.
func (w backendWriter) ConsumeTracesRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	if rw, ok := w.b.(storage.RawSpanWriter); ok {
		return rw.WriteSpansRaw(ctx, raw, idx)
	}
	return errors.ErrUnsupported
}

// ConsumeLogsRaw hands raw to a backend that takes it (storage.RawLogWriter), as ConsumeTracesRaw does.
func (w backendWriter) ConsumeLogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	if rw, ok := w.b.(storage.RawLogWriter); ok {
		return rw.WriteLogsRaw(ctx, raw, idx)
	}
	return errors.ErrUnsupported
}
