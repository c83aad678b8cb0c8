package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	promrules "github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/fileutil"

	"github.com/otlpd/otlpd/internal/api/prom"
	"github.com/otlpd/otlpd/internal/buildinfo"
	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/metrics/promconv"
	"github.com/otlpd/otlpd/internal/rules"
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
		removeStaleTempDirs(os.TempDir(), time.Now(), log)
		d, err := os.MkdirTemp("", tempDirPrefix+"*")
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
		// The sync mode of the engine covers metrics too; the memory storage's temporary TSDB is lost on
		// exit anyway, so fsyncing it would only slow exports down.
		NoSync:     cfg.Engine.Sync == "none" || cfg.Storage == "memory",
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

// tempDirPrefix starts the name of the temporary TSDB directories of the memory storage.
const tempDirPrefix = "otlpd-metrics-"

// staleAfter is how old a temporary directory without a TSDB lock file must be to be taken for left behind
// (rather than one another otlpd has just created and is about to open).
const staleAfter = 10 * time.Minute

// removeStaleTempDirs removes the temporary TSDB directories that otlpd processes killed without a chance to
// close (kill -9, power loss) left in tmp. A directory is stale when its TSDB lock file can be locked (the
// TSDB holds an flock on it while open, and the kernel drops it with the process), or when it has no lock
// file and is older than staleAfter. Only directories named like otlpd's are looked at; failures are logged
// and skipped.
func removeStaleTempDirs(tmp string, now time.Time, log *slog.Logger) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		log.Warn("metrics store: cannot list the temporary directory for stale TSDBs", "dir", tmp, "err", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempDirPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		lock := filepath.Join(dir, "lock")
		var held fileutil.Releaser
		if _, err := os.Stat(lock); err != nil {
			info, err := e.Info()
			if err != nil || now.Sub(info.ModTime()) < staleAfter {
				continue
			}
		} else if held, _, err = fileutil.Flock(lock); err != nil {
			continue // locked: an otlpd running now owns it
		}
		err := os.RemoveAll(dir)
		if held != nil {
			_ = held.Release()
		}
		if err != nil {
			log.Warn("metrics store: cannot remove a stale temporary TSDB", "dir", dir, "err", err)
			continue
		}
		log.Info("metrics store: removed the temporary TSDB of an otlpd that did not shut down", "dir", dir)
	}
}

// Close closes the TSDB and removes a temporary directory.
func (m *metricsStore) Close() error {
	err := m.Store.Close()
	if m.tempDir != "" {
		err = errors.Join(err, os.RemoveAll(m.tempDir))
	}
	return err
}

// promRoutes mounts the Prometheus HTTP API (/api/v1/...), /federate, and otlpd's own metrics (/metrics), and
// returns the API (its PromQL engine evaluates the rules).
func promRoutes(mux *http.ServeMux, cfg config.Config, st *metrics.Store, reg *prometheus.Registry, log *slog.Logger, rs prom.RuleSource) *prom.API {
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
		Rules:         rs,
	}
	if cfg.Metrics.RemoteWrite {
		opts.Appender = st.Appender
	}
	api := prom.New(opts)
	mux.Handle("/api/v1/", api)
	mux.Handle("GET /federate", api)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return api
}

// appendableV2 adapts the metrics store's guarded appender to Prometheus's storage.AppendableV2.
type appendableV2 func(ctx context.Context) storage.AppenderV2

func (f appendableV2) AppenderV2(ctx context.Context) storage.AppenderV2 { return f(ctx) }

// ruleSource is the rule manager as the API sees it; it is set once the manager exists (the manager needs
// the API's PromQL engine).
type ruleSource struct{ m atomic.Pointer[rules.Manager] }

func (s *ruleSource) RuleGroups() []*promrules.Group {
	if m := s.m.Load(); m != nil {
		return m.RuleGroups()
	}
	return nil
}

func (s *ruleSource) AlertingRules() []*promrules.AlertingRule {
	if m := s.m.Load(); m != nil {
		return m.AlertingRules()
	}
	return nil
}

// openRules loads the rule files of cfg, evaluated with the API's engine against the metrics store. It
// returns nil when no rule file is configured.
func openRules(cfg config.Config, st *metrics.Store, api *prom.API, reg prometheus.Registerer, log *slog.Logger, uiAddr string) (*rules.Manager, error) {
	if len(cfg.Rules.Files) == 0 {
		return nil, nil
	}
	ext := cfg.Rules.ExternalURL
	if ext == "" {
		scheme := "http"
		if cfg.TLS.Enabled() {
			scheme = "https"
		}
		ext = scheme + "://" + uiAddr
	}
	return rules.New(rules.Options{
		Files:         cfg.Rules.Files,
		Interval:      time.Duration(cfg.Rules.EvaluationInterval),
		Alertmanagers: cfg.Rules.Alertmanagers,
		ExternalURL:   ext,
		Engine:        api.Engine(),
		Queryable:     st.Queryable(),
		Appendable:    appendableV2(st.Appender),
		Logger:        log.With("component", "rules"),
		Registerer:    reg,
	})
}
