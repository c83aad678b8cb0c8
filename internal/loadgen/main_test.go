package loadgen

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind (connections, servers, workers, streams).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
