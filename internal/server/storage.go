package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
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

// storageConsumer makes a backend the pipeline's durable consumer.
func storageConsumer(b storage.Backend) pipeline.Consumer {
	w := backendWriter{b}
	return pipeline.Consumer{Name: "storage", Traces: w, Logs: w, Metrics: w}
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
