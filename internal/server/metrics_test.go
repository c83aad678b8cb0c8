package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otlpd/otlpd/internal/metrics"
)

// TestRemoveStaleTempDirs checks which temporary TSDB directories the memory storage cleans at start: those
// whose TSDB lock nobody holds, and old ones without a lock file; never a TSDB open now, a fresh directory
// without a lock file, or a directory not named like otlpd's.
func TestRemoveStaleTempDirs(t *testing.T) {
	tmp := t.TempDir()
	now := time.Now()
	dir := func(name string, lockFile bool, age time.Duration) string {
		d := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(d, "wal"), 0o755); err != nil {
			t.Fatal(err)
		}
		if lockFile {
			if err := os.WriteFile(filepath.Join(d, "lock"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(d, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// A TSDB open in this process holds its lock, as a running otlpd does.
	live := filepath.Join(tmp, tempDirPrefix+"live")
	st, err := metrics.Open(metrics.Options{Dir: live, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := os.Chtimes(live, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	killed := dir(tempDirPrefix+"killed", true, time.Second) // lock file left, no holder
	fresh := dir(tempDirPrefix+"fresh", false, time.Second)  // just created by a starting otlpd
	old := dir(tempDirPrefix+"old", false, time.Hour)        // died before opening the TSDB
	other := dir("other-program-1", true, time.Hour)

	var logs bytes.Buffer
	removeStaleTempDirs(tmp, now, slog.New(slog.NewTextHandler(&logs, nil)))

	for d, wantKept := range map[string]bool{live: true, killed: false, fresh: true, old: false, other: true} {
		_, err := os.Stat(d)
		if kept := err == nil; kept != wantKept {
			t.Errorf("%s: kept %v, want %v", filepath.Base(d), kept, wantKept)
		}
	}
	if !bytes.Contains(logs.Bytes(), []byte("killed")) {
		t.Errorf("removal not logged:\n%s", logs.String())
	}
	// The live store still works after the sweep.
	if _, err := os.Stat(filepath.Join(live, "lock")); err != nil {
		t.Errorf("the live TSDB lost its lock file: %v", err)
	}
}
