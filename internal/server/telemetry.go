package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/ingest/otlp"
	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/spanmetrics"
	"github.com/otlpd/otlpd/internal/storage/engine"
)

// otlpd's own metrics, served on /metrics of the UI address (docs/api.md lists them), and the optional
// profiling handlers.

// ingestMetrics counts export requests and items; it is the receiver's otlp.Observer.
type ingestMetrics struct {
	requests *prometheus.CounterVec
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

var _ otlp.Observer = (*ingestMetrics)(nil)

func newIngestMetrics(reg prometheus.Registerer) *ingestMetrics {
	m := &ingestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otlpd_ingest_requests_total",
			Help: "OTLP export requests, by signal, transport and the status answered (HTTP status code or gRPC code name).",
		}, []string{"signal", "transport", "status"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otlpd_ingest_accepted_items_total",
			Help: "Spans, log records or metric data points stored, by signal and transport.",
		}, []string{"signal", "transport"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otlpd_ingest_rejected_items_total",
			Help: "Items rejected through partial success (invalid, or refused by storage), by signal and transport.",
		}, []string{"signal", "transport"}),
	}
	reg.MustRegister(m.requests, m.accepted, m.rejected)
	// Make the usual series exist from the start, so that rates work from the first scrape.
	for _, sig := range []string{"traces", "metrics", "logs"} {
		for _, tr := range []string{"grpc", "http"} {
			m.accepted.WithLabelValues(sig, tr)
			m.rejected.WithLabelValues(sig, tr)
		}
	}
	return m
}

func (m *ingestMetrics) Exported(signal, transport string, accepted, rejected int64, status string) {
	m.requests.WithLabelValues(signal, transport, status).Inc()
	if accepted > 0 {
		m.accepted.WithLabelValues(signal, transport).Add(float64(accepted))
	}
	if rejected > 0 {
		m.rejected.WithLabelValues(signal, transport).Add(float64(rejected))
	}
}

// authRefusals counts requests refused for a missing or wrong bearer token, by listener.
type authRefusals struct{ c *prometheus.CounterVec }

func newAuthRefusals(reg prometheus.Registerer) authRefusals {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "otlpd_auth_refused_total",
		Help: "Requests refused for a missing or wrong bearer token, by listener (grpc, http, ui).",
	}, []string{"listener"})
	reg.MustRegister(c)
	return authRefusals{c}
}

// inc returns the function that counts a refusal on listener.
func (a authRefusals) inc(listener string) func() {
	c := a.c.WithLabelValues(listener)
	return c.Inc
}

// registerPipelineMetrics exposes the pipeline's bytes in flight and overload refusals.
func registerPipelineMetrics(reg prometheus.Registerer, p *pipeline.Pipeline, budget int64) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "otlpd_pipeline_in_flight_bytes",
			Help: "Encoded bytes of the batches being consumed now.",
		}, func() float64 { return float64(p.InFlightBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "otlpd_pipeline_max_in_flight_bytes",
			Help: "The in-flight budget (ingest.max_in_flight_bytes); above it exports are refused as overloaded.",
		}, func() float64 { return float64(budget) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "otlpd_pipeline_overload_refusals_total",
			Help: "Batches refused because the in-flight budget was full (answered with 503 or UNAVAILABLE).",
		}, func() float64 { return float64(p.Refused()) }),
	)
}

// writeLatency times the writes of a pipeline consumer, by store and signal.
type writeLatency struct {
	hist *prometheus.HistogramVec
}

func newWriteLatency(reg prometheus.Registerer) *writeLatency {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "otlpd_storage_write_duration_seconds",
		Help: "Time to write one accepted batch to a store, by store (backend: spans and logs and points; tsdb: the Prometheus store) and signal, failures included.",
		// 100 µs to ~26 s.
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	}, []string{"store", "signal"})
	reg.MustRegister(h)
	return &writeLatency{hist: h}
}

// wrap returns c with each of its writes timed under the name store.
func (l *writeLatency) wrap(store string, c pipeline.Consumer) pipeline.Consumer {
	if c.Traces != nil {
		c.Traces = timedTraces{c.Traces, l.hist.WithLabelValues(store, "traces")}
	}
	if c.Logs != nil {
		c.Logs = timedLogs{c.Logs, l.hist.WithLabelValues(store, "logs")}
	}
	if c.Metrics != nil {
		c.Metrics = timedMetrics{c.Metrics, l.hist.WithLabelValues(store, "metrics")}
	}
	return c
}

type timedTraces struct {
	next pipeline.TracesConsumer
	obs  prometheus.Observer
}

func (t timedTraces) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	defer observeSince(t.obs, time.Now())
	return t.next.ConsumeTraces(ctx, td)
}

// ConsumeTracesEncoded passes raw on when the next consumer takes it.
func (t timedTraces) ConsumeTracesEncoded(ctx context.Context, td ptrace.Traces, raw []byte) error {
	defer observeSince(t.obs, time.Now())
	if ec, ok := t.next.(pipeline.EncodedTracesConsumer); ok {
		return ec.ConsumeTracesEncoded(ctx, td, raw)
	}
	return t.next.ConsumeTraces(ctx, td)
}

// ConsumeTracesRaw passes raw on when the next consumer takes it, timed; otherwise it asks for the batch
// decoded (errors.ErrUnsupported), and the decoded write is timed instead.
func (t timedTraces) ConsumeTracesRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	rc, ok := t.next.(pipeline.RawTracesConsumer)
	if !ok {
		return errors.ErrUnsupported
	}
	start := time.Now()
	err := rc.ConsumeTracesRaw(ctx, raw, idx)
	if !errors.Is(err, errors.ErrUnsupported) {
		observeSince(t.obs, start)
	}
	return err
}

type timedLogs struct {
	next pipeline.LogsConsumer
	obs  prometheus.Observer
}

func (t timedLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	defer observeSince(t.obs, time.Now())
	return t.next.ConsumeLogs(ctx, ld)
}

// ConsumeLogsEncoded passes raw on when the next consumer takes it.
func (t timedLogs) ConsumeLogsEncoded(ctx context.Context, ld plog.Logs, raw []byte) error {
	defer observeSince(t.obs, time.Now())
	if ec, ok := t.next.(pipeline.EncodedLogsConsumer); ok {
		return ec.ConsumeLogsEncoded(ctx, ld, raw)
	}
	return t.next.ConsumeLogs(ctx, ld)
}

// ConsumeLogsRaw is timedTraces.ConsumeTracesRaw for logs.
func (t timedLogs) ConsumeLogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error {
	rc, ok := t.next.(pipeline.RawLogsConsumer)
	if !ok {
		return errors.ErrUnsupported
	}
	start := time.Now()
	err := rc.ConsumeLogsRaw(ctx, raw, idx)
	if !errors.Is(err, errors.ErrUnsupported) {
		observeSince(t.obs, start)
	}
	return err
}

type timedMetrics struct {
	next pipeline.MetricsConsumer
	obs  prometheus.Observer
}

func (t timedMetrics) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	defer observeSince(t.obs, time.Now())
	return t.next.ConsumeMetrics(ctx, md)
}

// ConsumeMetricsEncoded passes raw on when the next consumer takes it.
func (t timedMetrics) ConsumeMetricsEncoded(ctx context.Context, md pmetric.Metrics, raw []byte) error {
	defer observeSince(t.obs, time.Now())
	if ec, ok := t.next.(pipeline.EncodedMetricsConsumer); ok {
		return ec.ConsumeMetricsEncoded(ctx, md, raw)
	}
	return t.next.ConsumeMetrics(ctx, md)
}

func observeSince(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

// pprofRoutes mounts Go's profiling handlers under /debug/pprof/ (only with --pprof: profiles reveal code
// paths and memory contents, and a CPU profile costs CPU while it runs).
func pprofRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// registerSpanMetrics exposes the state of the span metrics generator.
func registerSpanMetrics(reg prometheus.Registerer, g *spanmetrics.Generator) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "otlpd_spanmetrics_series",
			Help: "Keys (service, span name, kind, status code) the span metrics generator holds.",
		}, func() float64 { return float64(g.Series()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "otlpd_spanmetrics_overflow_spans_total",
			Help: "Spans counted in an overflow series because span_metrics.max_series was reached.",
		}, func() float64 { return float64(g.OverflowSpans()) }),
	)
}

// engineStats is what the engine reports of itself (engine.Engine.Stats).
type engineStats interface{ Stats() engine.Stats }

// storageCollector exposes the engine's parts, heads and write-ahead log on /metrics, read at each scrape.
type storageCollector struct {
	e                                                   engineStats
	parts, rows, bytes, oldest, newest, head, wal, quar *prometheus.Desc
}

func newStorageCollector(e engineStats) *storageCollector {
	sig := []string{"signal"}
	return &storageCollector{e: e,
		parts:  prometheus.NewDesc("otlpd_storage_parts", "Parts on disk, by signal.", sig, nil),
		rows:   prometheus.NewDesc("otlpd_storage_items", "Items in parts on disk (spans, log records, metric batches), by signal.", sig, nil),
		bytes:  prometheus.NewDesc("otlpd_storage_bytes", "Bytes of the parts on disk, by signal (the write-ahead log not included).", sig, nil),
		oldest: prometheus.NewDesc("otlpd_storage_oldest_item_timestamp_seconds", "Time of the oldest item in parts, by signal (retention drops from here).", sig, nil),
		newest: prometheus.NewDesc("otlpd_storage_newest_item_timestamp_seconds", "Time of the newest item in parts, by signal.", sig, nil),
		head:   prometheus.NewDesc("otlpd_storage_head_items", "Items in memory not yet in parts: the active head, and a frozen head being flushed.", []string{"head"}, nil),
		wal:    prometheus.NewDesc("otlpd_storage_wal_bytes", "Bytes of the write-ahead log segments.", nil, nil),
		quar:   prometheus.NewDesc("otlpd_storage_quarantined_parts", "Parts moved to quarantine/ because they could not be read.", nil, nil),
	}
}

func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.parts, c.rows, c.bytes, c.oldest, c.newest, c.head, c.wal, c.quar} {
		ch <- d
	}
}

func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	for sig, k := range map[string]engine.KindStats{"traces": s.Spans, "logs": s.Logs, "metrics": s.Metrics} {
		ch <- prometheus.MustNewConstMetric(c.parts, prometheus.GaugeValue, float64(k.Parts), sig)
		ch <- prometheus.MustNewConstMetric(c.rows, prometheus.GaugeValue, float64(k.Rows), sig)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(k.Bytes), sig)
		if k.Parts > 0 {
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, float64(k.OldestNanos)/1e9, sig)
			ch <- prometheus.MustNewConstMetric(c.newest, prometheus.GaugeValue, float64(k.NewestNanos)/1e9, sig)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(s.HeadItems), "active")
	ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(s.FrozenItems), "frozen")
	ch <- prometheus.MustNewConstMetric(c.wal, prometheus.GaugeValue, float64(s.WALBytes))
	ch <- prometheus.MustNewConstMetric(c.quar, prometheus.GaugeValue, float64(s.Quarantined))
}
