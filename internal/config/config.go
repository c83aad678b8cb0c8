// Package config is otlpd's configuration: one struct with defaults, loaded from an optional YAML file, then
// overridden by the command-line flags that bootstrap the server (addresses, data directory, storage).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is everything `otlpd serve` can be told. YAML keys are the snake_case names below.
type Config struct {
	DataDir  string `yaml:"data_dir"`
	Storage  string `yaml:"storage"`   // "engine" (default) or "memory"
	GRPCAddr string `yaml:"grpc_addr"` // OTLP/gRPC
	HTTPAddr string `yaml:"http_addr"` // OTLP/HTTP
	UIAddr   string `yaml:"ui_addr"`   // UI and query APIs
	// Pprof mounts Go's profiling handlers (net/http/pprof) under /debug/pprof/ on the UI address.
	Pprof bool `yaml:"pprof"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes (as GOMEMLIMIT, which wins when set): the
	// garbage collector works harder as the process nears it, so the peak resident memory stays about there
	// while the live data fits. 0 means automatic (DefaultEngineMemoryLimit with the engine, none with the
	// memory backend, whose contents are its live data); -1 means none.
	MemoryLimit int64 `yaml:"memory_limit"`

	Ingest    Ingest    `yaml:"ingest"`
	Retention Retention `yaml:"retention"`
	Memory    Memory    `yaml:"memory"`
	Engine    Engine    `yaml:"engine"`
	Metrics   Metrics   `yaml:"metrics"`
	// SpanMetrics derives request, error and duration metrics from the spans received.
	SpanMetrics SpanMetrics `yaml:"span_metrics"`
	// Rules are Prometheus recording and alerting rules evaluated against the metrics store.
	Rules Rules `yaml:"rules"`
	Auth  Auth  `yaml:"auth"`
	TLS   TLS   `yaml:"tls"`
}

// Auth is bearer-token authentication (docs/security.md). It is on when at least one token is configured,
// in Tokens or in TokensFile; a request must then carry "Authorization: Bearer <token>" (gRPC metadata
// "authorization") with one of them.
type Auth struct {
	Tokens []string `yaml:"tokens"`
	// TokensFile holds more tokens, one a line; blank lines and lines starting with # are ignored. It is read
	// when the server starts.
	TokensFile string `yaml:"tokens_file"`
	// Ingest and Query say what the tokens protect: OTLP (gRPC and HTTP), and the UI address except
	// /healthz and /readyz. Both are true by default.
	Ingest bool `yaml:"ingest"`
	Query  bool `yaml:"query"`
}

// TLS serves every listener (OTLP/gRPC, OTLP/HTTP, UI) over TLS when CertFile and KeyFile are set.
type TLS struct {
	CertFile string `yaml:"cert_file"` // PEM certificate chain, leaf first
	KeyFile  string `yaml:"key_file"`  // PEM private key
	// MinVersion is the lowest TLS version accepted: "1.2" (default) or "1.3".
	MinVersion string `yaml:"min_version"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Engine tunes the embedded storage engine.
type Engine struct {
	// Sync is "batch" (an export is acknowledged once its data is fsynced; concurrent exports share fsyncs) or
	// "none" (acknowledged before fsync: a machine crash or power loss loses acknowledged data; for benchmarks).
	Sync string `yaml:"sync"`
	// FlushItems flushes the in-memory head to parts once it holds this many items. 0: the engine's default.
	FlushItems int `yaml:"flush_items"`
	// OTLPMetrics also keeps every metric batch as it was sent (OTLP), for GET /api/otlpd/metrics/{name}.
	// PromQL reads the metrics store either way; the copy costs about a sixth of metric ingest CPU and more
	// disk than the metrics store itself, so it is off by default.
	OTLPMetrics bool `yaml:"otlp_metrics"`
}

// Ingest limits what the OTLP receivers accept.
type Ingest struct {
	// MaxRequestBytes bounds an OTLP/HTTP body after decompression (413 above it) and an OTLP/gRPC message
	// (RESOURCE_EXHAUSTED above it).
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
	// MaxGRPCMessageBytes bounds one OTLP/gRPC message after decompression.
	MaxGRPCMessageBytes int `yaml:"max_grpc_message_bytes"`
	// MaxAttributeValueBytes bounds one string or bytes attribute value (and a log body); an item holding a
	// larger one is rejected through partial success.
	MaxAttributeValueBytes int `yaml:"max_attribute_value_bytes"`
	// MaxInFlightBytes bounds the batches being stored at once, counted as the bytes of their requests after
	// decompression (decoded, they take about 3-5 times that in memory); above it exports are refused with a
	// retryable overload code.
	MaxInFlightBytes int64 `yaml:"max_in_flight_bytes"`
	// CORSAllowedOrigins lists the origins browser SDKs may export from ("*" for any). None by default.
	CORSAllowedOrigins []string `yaml:"cors_allowed_origins"`
}

// Retention bounds what is kept.
type Retention struct {
	MaxAge   Duration `yaml:"max_age"`   // 0: keep forever
	MaxBytes int64    `yaml:"max_bytes"` // on disk; 0: no cap
}

// Memory bounds the in-memory backend; the oldest items are evicted first.
type Memory struct {
	MaxSpans  int `yaml:"max_spans"`
	MaxLogs   int `yaml:"max_logs"`
	MaxPoints int `yaml:"max_points"`
}

// Metrics configures the Prometheus side of otlpd: the translation of OTLP metrics, the TSDB under
// <data_dir>/metrics, its cardinality guard, and PromQL.
type Metrics struct {
	// NamingStrategy is how OTLP names become Prometheus names: UnderscoreEscapingWithSuffixes,
	// UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes or NoTranslation.
	NamingStrategy string `yaml:"naming_strategy"`
	// PromoteResourceAttributes are resource attributes added as labels to every series.
	PromoteResourceAttributes []string `yaml:"promote_resource_attributes"`
	// MaxSeries and MaxSeriesPerMetric bound the active Prometheus series, in total and per OTLP metric (a
	// histogram's _bucket, _count and _sum series together); new series past them are refused.
	MaxSeries          int `yaml:"max_series"`
	MaxSeriesPerMetric int `yaml:"max_series_per_metric"`
	// OutOfOrderWindow accepts samples up to this much older than the newest of their series.
	OutOfOrderWindow Duration `yaml:"out_of_order_window"`
	// MaxExemplars is the size of the in-memory exemplar store.
	MaxExemplars int64 `yaml:"max_exemplars"`
	// DeltaMaxSeries and DeltaIdleTTL bound the state kept to turn delta temporality into cumulative.
	DeltaMaxSeries int      `yaml:"delta_max_series"`
	DeltaIdleTTL   Duration `yaml:"delta_idle_ttl"`
	// QueryTimeout, QueryMaxSamples and LookbackDelta configure the PromQL engine.
	QueryTimeout    Duration `yaml:"query_timeout"`
	QueryMaxSamples int      `yaml:"query_max_samples"`
	LookbackDelta   Duration `yaml:"lookback_delta"`
	// RemoteWrite enables the Prometheus remote-write receiver at /api/v1/write on the UI address.
	RemoteWrite bool `yaml:"remote_write"`
}

// SpanMetrics configures the metrics otlpd derives from spans (docs/metrics.md, "Span metrics"):
// traces_span_metrics_calls_total and traces_span_metrics_duration_milliseconds per service, span name, kind
// and status code, written to the metrics store.
type SpanMetrics struct {
	Enabled bool `yaml:"enabled"`
	// Interval is how often the series get a new point.
	Interval Duration `yaml:"interval"`
	// MaxSeries bounds the (service, span name, kind, status) keys; spans of new keys past it are counted in
	// one overflow series per service, labelled otel_metric_overflow="true".
	MaxSeries int `yaml:"max_series"`
	// IdleTTL drops a key that saw no span for this long.
	IdleTTL Duration `yaml:"idle_ttl"`
	// Histogram is "native" (one native-histogram series per key) or "classic" (explicit buckets, a series
	// per bucket).
	Histogram string `yaml:"histogram"`
}

// Rules configures rule evaluation (docs/alerting.md).
type Rules struct {
	// Files are Prometheus rule files, or globs of them.
	Files []string `yaml:"files"`
	// EvaluationInterval is how often a group is evaluated when its file sets no interval.
	EvaluationInterval Duration `yaml:"evaluation_interval"`
	// Alertmanagers are the base URLs of Alertmanagers to send alerts to (API v2).
	Alertmanagers []string `yaml:"alertmanagers"`
	// ExternalURL is how people reach otlpd's UI address; alerts link back to it. Default: http://<ui_addr>.
	ExternalURL string `yaml:"external_url"`
}

// DefaultEngineMemoryLimit is the soft memory limit with the engine when MemoryLimit is 0: the engine's live
// data (heads, batches in flight, a flush) stays well under it, and under it the process stays within 1 GiB.
const DefaultEngineMemoryLimit = 800 << 20

// EffectiveMemoryLimit returns the soft memory limit c asks for, or -1 for none.
func (c Config) EffectiveMemoryLimit() int64 {
	switch {
	case c.MemoryLimit > 0:
		return c.MemoryLimit
	case c.MemoryLimit == 0 && c.Storage == "engine":
		return DefaultEngineMemoryLimit
	default:
		return -1
	}
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:  "./data",
		Storage:  "engine",
		GRPCAddr: "127.0.0.1:4317",
		HTTPAddr: "127.0.0.1:4318",
		UIAddr:   "127.0.0.1:4320",
		Ingest: Ingest{
			MaxRequestBytes:        20 << 20,
			MaxGRPCMessageBytes:    4 << 20,
			MaxAttributeValueBytes: 64 << 10,
			MaxInFlightBytes:       64 << 20,
		},
		Retention: Retention{MaxAge: Duration(7 * 24 * time.Hour)},
		SpanMetrics: SpanMetrics{Enabled: true, Interval: Duration(15 * time.Second), MaxSeries: 10_000,
			IdleTTL: Duration(10 * time.Minute), Histogram: "native"},
		Rules:  Rules{EvaluationInterval: Duration(time.Minute)},
		Auth:   Auth{Ingest: true, Query: true},
		TLS:    TLS{MinVersion: "1.2"},
		Memory: Memory{MaxSpans: 200_000, MaxLogs: 200_000, MaxPoints: 1_000_000},
		Engine: Engine{Sync: "batch"},
		Metrics: Metrics{
			NamingStrategy:     "UnderscoreEscapingWithSuffixes",
			MaxSeries:          1_000_000,
			MaxSeriesPerMetric: 500_000,
			OutOfOrderWindow:   Duration(30 * time.Minute),
			MaxExemplars:       100_000,
			DeltaMaxSeries:     100_000,
			DeltaIdleTTL:       Duration(time.Hour),
			QueryTimeout:       Duration(2 * time.Minute),
			QueryMaxSamples:    50_000_000,
			LookbackDelta:      Duration(5 * time.Minute),
			RemoteWrite:        true,
		},
	}
}

// Load returns Default overlaid with the YAML file at path (no file when path is ""). Unknown keys are errors,
// so that a misspelt setting is not silently ignored.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("parse config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate names the first field that holds a value otlpd cannot use.
func (c Config) Validate() error {
	switch c.Storage {
	case "memory", "engine":
	default:
		return fmt.Errorf("storage: %q is not a storage backend (want memory or engine)", c.Storage)
	}
	for _, a := range []struct{ name, addr string }{{"grpc_addr", c.GRPCAddr}, {"http_addr", c.HTTPAddr}, {"ui_addr", c.UIAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s: %q is not host:port: %v", a.name, a.addr, err)
		}
	}
	if c.Engine.Sync != "batch" && c.Engine.Sync != "none" {
		return fmt.Errorf("engine.sync: %q is not a sync mode (want batch or none)", c.Engine.Sync)
	}
	if c.Engine.FlushItems < 0 {
		return errors.New("engine.flush_items: must not be negative")
	}
	if c.Storage == "engine" && c.DataDir == "" {
		return errors.New("data_dir: must be set for the engine storage")
	}
	if c.Ingest.MaxRequestBytes <= 0 {
		return errors.New("ingest.max_request_bytes: must be positive")
	}
	if c.Ingest.MaxGRPCMessageBytes <= 0 {
		return errors.New("ingest.max_grpc_message_bytes: must be positive")
	}
	if c.Ingest.MaxAttributeValueBytes <= 0 {
		return errors.New("ingest.max_attribute_value_bytes: must be positive")
	}
	if c.MemoryLimit < -1 {
		return errors.New("memory_limit: must be a number of bytes, 0 (automatic) or -1 (none)")
	}
	if c.Ingest.MaxInFlightBytes <= 0 {
		return errors.New("ingest.max_in_flight_bytes: must be positive")
	}
	if c.Retention.MaxAge < 0 || c.Retention.MaxBytes < 0 {
		return errors.New("retention: max_age and max_bytes must not be negative")
	}
	if c.Memory.MaxSpans <= 0 || c.Memory.MaxLogs <= 0 || c.Memory.MaxPoints <= 0 {
		return errors.New("memory: max_spans, max_logs and max_points must be positive")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls: cert_file and key_file must be set together")
	}
	switch c.TLS.MinVersion {
	case "", "1.2", "1.3": // empty: 1.2
	default:
		return fmt.Errorf("tls.min_version: %q is not a TLS version (want 1.2 or 1.3)", c.TLS.MinVersion)
	}
	for i, tok := range c.Auth.Tokens {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
			return fmt.Errorf("auth.tokens[%d]: a token must be non-empty and without whitespace", i)
		}
	}
	if h := c.SpanMetrics.Histogram; h != "native" && h != "classic" {
		return fmt.Errorf("span_metrics.histogram: %q is not a histogram kind (want native or classic)", h)
	}
	if c.Rules.EvaluationInterval <= 0 {
		return errors.New("rules.evaluation_interval: must be positive")
	}
	if c.SpanMetrics.Interval <= 0 || c.SpanMetrics.MaxSeries <= 0 || c.SpanMetrics.IdleTTL <= 0 {
		return errors.New("span_metrics: interval, max_series and idle_ttl must be positive")
	}
	return c.Metrics.validate()
}

func (m Metrics) validate() error {
	switch m.NamingStrategy {
	case "UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes", "NoUTF8EscapingWithSuffixes", "NoTranslation":
	default:
		return fmt.Errorf("metrics.naming_strategy: %q is not a naming strategy (want UnderscoreEscapingWithSuffixes, "+
			"UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes or NoTranslation)", m.NamingStrategy)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max_series", int64(m.MaxSeries)}, {"max_series_per_metric", int64(m.MaxSeriesPerMetric)},
		{"out_of_order_window", int64(m.OutOfOrderWindow)}, {"max_exemplars", m.MaxExemplars},
		{"delta_max_series", int64(m.DeltaMaxSeries)}, {"delta_idle_ttl", int64(m.DeltaIdleTTL)},
		{"query_timeout", int64(m.QueryTimeout)}, {"query_max_samples", int64(m.QueryMaxSamples)},
		{"lookback_delta", int64(m.LookbackDelta)},
	} {
		if f.v <= 0 {
			return fmt.Errorf("metrics.%s: must be positive", f.name)
		}
	}
	return nil
}

// Duration is a time.Duration written in YAML as "72h", "30m" or "1.5s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 72h or 30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }
