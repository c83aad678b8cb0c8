package metricstest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves goroutines behind (servers, the TSDB, SDK exporters).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
