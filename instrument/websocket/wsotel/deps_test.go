package wsotel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestModuleHasNoServerDependencies keeps the instrument module light: applications import it, so its
// (non-test) package graph must not reach otlpd's server, gRPC, Prometheus or the OpenTelemetry SDK.
func TestModuleHasNoServerDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "github.com/otlpd/otlpd/instrument/websocket/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// Packages under internal/ are test fixtures that applications cannot import.
	public := []string{"list", "-deps"}
	for _, p := range strings.Fields(string(out)) {
		if !strings.Contains(p, "/internal/") {
			public = append(public, p)
		}
	}
	out, err = exec.Command("go", public...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages: %q", len(deps), deps)
	}
	forbidden := []string{
		"google.golang.org/grpc",
		"github.com/prometheus/",
		"go.opentelemetry.io/collector",
		"go.opentelemetry.io/otel/sdk",
		"go.opentelemetry.io/otel/exporters",
		"github.com/otlpd/otlpd/internal",
		"github.com/otlpd/otlpd/otlptest",
	}
	required := map[string]bool{
		"github.com/coder/websocket":     false,
		"github.com/gorilla/websocket":   false,
		"go.opentelemetry.io/otel/trace": false,
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("instrument/websocket depends on %s", d)
			}
		}
		if _, ok := required[d]; ok {
			required[d] = true
		}
	}
	for d, seen := range required {
		if !seen {
			t.Errorf("dependency list lacks %s; is the package pattern still right?", d)
		}
	}
}
