package otlp

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/workload"
)

// Test and benchmark payloads come from the reference workload generator, each signal from its own seeded
// generator so that a payload depends on its seed and size alone.

// genTraces returns the first n spans of the reference trace stream for seed.
func genTraces(seed int64, n int) ptrace.Traces {
	return workload.New(seed, workload.Options{}).NextTraces(n)
}

// genLogs returns the first n log records of the reference log stream for seed.
func genLogs(seed int64, n int) plog.Logs {
	return workload.New(seed, workload.Options{}).NextLogs(n)
}

// genMetrics returns the first n points of the reference metric stream for seed.
func genMetrics(seed int64, n int) pmetric.Metrics {
	return workload.New(seed, workload.Options{}).NextMetrics(n)
}
