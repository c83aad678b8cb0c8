package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestResourceExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	region := filepath.Join(t.TempDir(), "region")
	if err := os.WriteFile(region, []byte("eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "team=payments,deployment.environment.name=staging")
	t.Setenv("OTEL_SERVICE_NAME", "")
	if _, err := run(ctx, config{endpoint: srv.GRPCAddr(), regionFile: region}); err != nil {
		t.Fatal(err)
	}
	span := srv.WaitSpan(ctx, "startup")
	host, _ := os.Hostname()
	otlptest.AssertResource(t, span.Resource, map[string]any{
		"service.name":                "inventory",
		"service.namespace":           "shop",
		"service.version":             "2.3.0",
		"deployment.environment.name": "staging", // the environment overrides the code default
		"team":                        "payments",
		"cloud.region":                "eu-west-1", // custom detector
		"host.name":                   host,
		"os.type":                     runtime.GOOS,
		"process.pid":                 os.Getpid(),
		"process.runtime.name":        "go",
		"process.runtime.version":     runtime.Version(),
		"telemetry.sdk.language":      "go",
		"telemetry.sdk.name":          "opentelemetry",
	})
	if _, ok := span.Resource["process.command_args"]; ok {
		t.Error("command arguments must not be recorded")
	}
}

func TestResourceServiceNameFromEnv(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "inventory-canary")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	res, err := newResource(context.Background(), filepath.Join(t.TempDir(), "missing"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range res.Attributes() {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	if got["service.name"] != "inventory-canary" {
		t.Errorf("service.name = %q, want the OTEL_SERVICE_NAME override", got["service.name"])
	}
	if _, ok := got["cloud.region"]; ok {
		t.Error("a missing region file must leave cloud.region out")
	}
}
