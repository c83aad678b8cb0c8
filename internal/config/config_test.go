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
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}
