package tail

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines started by the tests (streams, servers, subscribers) outlive them.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if leaked := waitGoroutines(before); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func waitGoroutines(want int) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if runtime.NumGoroutine() <= want {
			return ""
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			return strings.TrimSpace(string(buf[:runtime.Stack(buf, true)]))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
