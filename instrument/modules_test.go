package instrument_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestInstrumentModules runs `go test ./...` in each instrumentation module; `go test ./...` at the root does
// not descend into nested modules by itself.
func TestInstrumentModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the nested modules' tests")
	}
	for _, dir := range []string{"websocket"} {
		cmd := exec.Command("go", "test", "./...")
		cmd.Dir = dir
		cmd.Env = os.Environ()
		out, err := cmd.CombinedOutput()
		t.Logf("go test ./... in instrument/%s:\n%s", dir, out)
		if err != nil {
			t.Errorf("instrument/%s: %v", dir, err)
		}
	}
}
