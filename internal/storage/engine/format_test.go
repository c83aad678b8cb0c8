package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A data directory of format version 1 (parts of version 1) is refused with a message naming both versions,
// and its files are left alone.
func TestFormatV1Refused(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	e.Close()
	path := filepath.Join(dir, "FORMAT")
	if err := os.WriteFile(path, []byte("otlpd-engine 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, testOptions())
	if err == nil || !strings.Contains(err.Error(), "format version 1") || !strings.Contains(err.Error(), "reads version 2") {
		t.Fatalf("Open of a version 1 directory: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "otlpd-engine 1\n" {
		t.Fatalf("FORMAT rewritten: %q", data)
	}
}
