package native

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines (test servers, connections) behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
