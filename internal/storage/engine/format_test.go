package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otlpd/otlpd/internal/storage"
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
	if err == nil || !strings.Contains(err.Error(), "format version 1") || !strings.Contains(err.Error(), "reads versions 2 and 3") {
		t.Fatalf("Open of a version 1 directory: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "otlpd-engine 1\n" {
		t.Fatalf("FORMAT rewritten: %q", data)
	}
}

// A data directory of format version 2 opens, keeps its data and is marked version 3.
func TestFormatV2Upgraded(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, testOptions())
	if err := e.WriteLogs(t.Context(), mkLogs([]ctxSpec{{"a", "h", "lib"}}, 5, 1, 0, 1)); err != nil {
		t.Fatal(err)
	}
	e.Close()
	path := filepath.Join(dir, "FORMAT")
	if err := os.WriteFile(path, []byte("otlpd-engine 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, testOptions())
	defer e.Close()
	if data, _ := os.ReadFile(path); string(data) != "otlpd-engine 3\n" {
		t.Fatalf("FORMAT after opening a version 2 directory: %q", data)
	}
	n := 0
	for ld, err := range e.FindLogs(t.Context(), storage.LogQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		n += ld.LogRecordCount()
	}
	if n != 5 {
		t.Fatalf("%d records after the upgrade, want 5", n)
	}
}
