// Package leakcheck fails a test binary whose tests leave goroutines running.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// Main runs the tests, then waits up to 5 seconds for the goroutine count to return to where it started, and
// exits non-zero with every goroutine's stack if it does not.
func Main(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "goroutine leak: %d goroutines after the tests, %d before:\n%s\n", n, before,
				buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}
