package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/otlpd/otlpd/internal/api/prom"
	"github.com/otlpd/otlpd/internal/buildinfo"
	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/metrics/promconv"
)

// metricsStore is the Prometheus TSDB with the directory it lives in. With the engine storage it is
// <data_dir>/metrics and persists; with the memory storage it is a temporary directory removed on close,
// so that nothing outlives the process, as with the rest of the memory backend.
type metricsStore struct {
	*metrics.Store
	tempDir string
}

func openMetrics(cfg config.Config, log *slog.Logger, reg prometheus.Registerer) (*metricsStore, error) {
	m := &metricsStore{}
	dir := filepath.Join(cfg.DataDir, "metrics")
	if cfg.Storage == "memory" {
		d, err := os.MkdirTemp("", "otlpd-metrics-*")
		if err != nil {
			return nil, fmt.Errorf("metrics store: temporary directory: %w", err)
		}
		m.tempDir, dir = d, d
	}
	mc := cfg.Metrics
	st, err := metrics.Open(metrics.Options{
		Dir:              dir,
		Retention:        time.Duration(cfg.Retention.MaxAge),
		MaxBytes:         cfg.Retention.MaxBytes,
		OutOfOrderWindow: time.Duration(mc.OutOfOrderWindow),
		MaxExemplars:     mc.MaxExemplars,
		Limits:           metrics.Limits{MaxSeries: mc.MaxSeries, MaxSeriesPerMetric: mc.MaxSeriesPerMetric},
		Convert: promconv.Options{
			Strategy:                  promconv.Strategy(mc.NamingStrategy),
			PromoteResourceAttributes: mc.PromoteResourceAttributes,
			LookbackDelta:             time.Duration(mc.LookbackDelta),
			Accumulator:               promconv.AccumulatorOptions{MaxSeries: mc.DeltaMaxSeries, IdleTTL: time.Duration(mc.DeltaIdleTTL)},
		},
		Logger:     log.With("component", "metrics"),
		Registerer: reg,
	})
	if err != nil {
		if m.tempDir != "" {
			_ = os.RemoveAll(m.tempDir)
		}
		return nil, err
	}
	m.Store = st
	return m, nil
}

// Close closes the TSDB and removes a temporary directory.
func (m *metricsStore) Close() error {
	err := m.Store.Close()
	if m.tempDir != "" {
		err = errors.Join(err, os.RemoveAll(m.tempDir))
	}
	return err
}

// promRoutes mounts the Prometheus HTTP API (/api/v1/...), /federate, and otlpd's own metrics (/metrics).
func promRoutes(mux *http.ServeMux, cfg config.Config, st *metrics.Store, reg *prometheus.Registry, log *slog.Logger) {
	bi := buildinfo.Get()
	opts := prom.Options{
		Queryable:     st.Queryable(),
		Exemplars:     st.ExemplarQueryable(),
		Metadata:      st.Metadata,
		Build:         prom.BuildInfo{Version: bi.Version, Revision: bi.Revision, BuildDate: bi.BuildDate, GoVersion: bi.GoVersion},
		Logger:        log.With("component", "prom-api"),
		Timeout:       time.Duration(cfg.Metrics.QueryTimeout),
		MaxSamples:    cfg.Metrics.QueryMaxSamples,
		LookbackDelta: time.Duration(cfg.Metrics.LookbackDelta),
	}
	if cfg.Metrics.RemoteWrite {
		opts.Appender = st.Appender
	}
	api := prom.New(opts)
	mux.Handle("/api/v1/", api)
	mux.Handle("GET /federate", api)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
