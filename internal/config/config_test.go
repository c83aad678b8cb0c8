package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("default config does not validate: %v", err)
	}
}

func TestLoad(t *testing.T) {
	f := func(yaml, wantErr string, check func(Config) string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "otlpd.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if err == nil {
			err = cfg.Validate()
		}
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("Load(%q): error %v, want one containing %q", yaml, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("Load(%q): %v", yaml, err)
		}
		if msg := check(cfg); msg != "" {
			t.Fatalf("Load(%q): %s", yaml, msg)
		}
	}
	f("", "", func(c Config) string {
		if c.GRPCAddr != "127.0.0.1:4317" {
			return "empty file changed the defaults"
		}
		return ""
	})
	f("retention:\n  max_age: 36h\ningest:\n  cors_allowed_origins: [\"https://app.example\"]\n", "", func(c Config) string {
		if time.Duration(c.Retention.MaxAge) != 36*time.Hour {
			return "max_age not parsed"
		}
		if len(c.Ingest.CORSAllowedOrigins) != 1 || c.Ingest.MaxRequestBytes != 20<<20 {
			return "ingest section not merged with defaults"
		}
		return ""
	})
	f("retention:\n  max_age: forever\n", "not a duration", nil)
	f("ingset:\n  max_request_bytes: 1\n", "field ingset not found", nil)
	f("storage: sqlite\n", "storage:", nil)
	f("grpc_addr: localhost\n", "grpc_addr:", nil)
	f("ingest:\n  max_request_bytes: -1\n", "ingest.max_request_bytes", nil)
	f("pprof: true\nauth:\n  tokens: [abc]\n  query: false\ntls:\n  cert_file: c.pem\n  key_file: k.pem\n  min_version: \"1.3\"\n", "", func(c Config) string {
		if !c.Pprof || len(c.Auth.Tokens) != 1 || c.Auth.Query || !c.Auth.Ingest {
			return "pprof or auth not parsed (ingest must stay on by default)"
		}
		if !c.TLS.Enabled() || c.TLS.MinVersion != "1.3" {
			return "tls not parsed"
		}
		return ""
	})
	f("tls:\n  cert_file: c.pem\n", "tls: cert_file and key_file must be set together", nil)
	f("tls:\n  cert_file: c.pem\n  key_file: k.pem\n  min_version: \"1.1\"\n", "tls.min_version", nil)
	f("auth:\n  tokens: [\"a b\"]\n", "auth.tokens[0]", nil)
	f("auth:\n  tokens: [\"\"]\n", "auth.tokens[0]", nil)
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestValidateMetrics(t *testing.T) {
	f := func(field string, mut func(m *Metrics)) {
		t.Helper()
		cfg := Default()
		mut(&cfg.Metrics)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "metrics."+field+":") {
			t.Errorf("%s: Validate = %v, want an error naming metrics.%s", field, err, field)
		}
	}
	f("naming_strategy", func(m *Metrics) { m.NamingStrategy = "Dots" })
	f("max_series", func(m *Metrics) { m.MaxSeries = 0 })
	f("max_series_per_metric", func(m *Metrics) { m.MaxSeriesPerMetric = -1 })
	f("out_of_order_window", func(m *Metrics) { m.OutOfOrderWindow = 0 })
	f("max_exemplars", func(m *Metrics) { m.MaxExemplars = 0 })
	f("delta_max_series", func(m *Metrics) { m.DeltaMaxSeries = 0 })
	f("delta_idle_ttl", func(m *Metrics) { m.DeltaIdleTTL = 0 })
	f("query_timeout", func(m *Metrics) { m.QueryTimeout = 0 })
	f("query_max_samples", func(m *Metrics) { m.QueryMaxSamples = 0 })
	f("lookback_delta", func(m *Metrics) { m.LookbackDelta = 0 })
	for _, s := range []string{"UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes", "NoUTF8EscapingWithSuffixes", "NoTranslation"} {
		cfg := Default()
		cfg.Metrics.NamingStrategy = s
		if err := cfg.Validate(); err != nil {
			t.Errorf("strategy %s: %v", s, err)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	f := func(storage string, limit, want int64) {
		t.Helper()
		cfg := Default()
		cfg.Storage, cfg.MemoryLimit = storage, limit
		if err := cfg.Validate(); err != nil {
			t.Fatalf("storage %s, memory_limit %d: %v", storage, limit, err)
		}
		if got := cfg.EffectiveMemoryLimit(); got != want {
			t.Errorf("storage %s, memory_limit %d: effective limit %d, want %d", storage, limit, got, want)
		}
	}
	f("engine", 0, DefaultEngineMemoryLimit)
	f("memory", 0, -1)
	f("engine", -1, -1)
	f("memory", 2<<30, 2<<30)
	f("engine", 512<<20, 512<<20)
	cfg := Default()
	cfg.MemoryLimit = -2
	if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "memory_limit:") {
		t.Errorf("memory_limit -2: Validate = %v, want an error naming memory_limit", err)
	}
}
