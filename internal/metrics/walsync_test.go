package metrics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// TestWALSyncGroupCommit checks that callers arriving while an fsync runs share the next one, that every
// caller waits for an fsync that started after it asked, and that an fsync error is sticky.
func TestWALSyncGroupCommit(t *testing.T) {
	s := newWALSyncer(t.TempDir())
	var rounds, inFlight atomic.Int64
	s.do = func() error {
		if inFlight.Add(1) != 1 {
			t.Error("two fsync rounds ran at once")
		}
		rounds.Add(1)
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		return nil
	}
	const callers = 32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if err := s.sync(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := rounds.Load(); n < 1 || n > callers/2 {
		t.Fatalf("%d concurrent syncs ran %d fsync rounds; want between 1 and %d (group commit)", callers, n, callers/2)
	}

	// A caller always gets an fsync that started after its call: the first round cannot cover a second
	// caller that arrives while it runs.
	s2 := newWALSyncer(t.TempDir())
	release := make(chan struct{})
	var calls atomic.Int64
	s2.do = func() error {
		if calls.Add(1) == 1 {
			<-release
		}
		return nil
	}
	first := make(chan error)
	go func() { first <- s2.sync() }()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error)
	go func() { second <- s2.sync() }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if err := errors.Join(<-first, <-second); err != nil {
		t.Fatal(err)
	}
	if c := calls.Load(); c != 2 {
		t.Fatalf("a sync asked during a running fsync was covered by %d rounds, want 2 (its own round)", c)
	}

	// Sticky error.
	s3 := newWALSyncer(t.TempDir())
	s3.do = func() error { return errors.New("disk gone") }
	if err := s3.sync(); err == nil {
		t.Fatal("fsync error not returned")
	}
	s3.do = func() error { return nil }
	if err := s3.sync(); err == nil {
		t.Fatal("a sync after a failed fsync succeeded; the error must be sticky")
	}
}

// TestCommitSyncsWAL checks that an acknowledged export has had its WAL segment fsynced, and that NoSync
// skips it.
func TestCommitSyncsWAL(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "metrics")
		s, err := Open(Options{Dir: dir, NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeMetrics(context.Background(), gauges("a", 5, time.Now())); err != nil {
			t.Fatal(err)
		}
		switch {
		case noSync && s.syncer != nil:
			t.Error("NoSync: a syncer runs")
		case !noSync && (s.syncer == nil || s.syncer.count() != 1):
			t.Errorf("one commit: want 1 fsync round, got syncer %v", s.syncer)
		case !noSync:
			// The real round found and kept the WAL's newest segment.
			if l := s.syncer.logs[0]; l.f == nil || l.last < 0 {
				t.Errorf("WAL segment not synced: %+v", l)
			} else if _, err := os.Stat(l.f.Name()); err != nil {
				t.Error(err)
			}
		}
		if !noSync {
			// The remote-write path: a raw appender's Commit syncs as well.
			app := s.Appender(context.Background())
			if _, err := app.Append(0, labels.FromStrings("__name__", "rw", "i", "1"), 0, time.Now().UnixMilli(), 1, nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatal(err)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			if n := s.syncer.count(); n != 2 {
				t.Errorf("after an appender commit: %d fsync rounds, want 2", n)
			}
			// An out-of-order sample goes to the write-behind log, which is synced as well.
			if err := s.ConsumeMetrics(context.Background(), gauges("a", 5, time.Now().Add(-5*time.Minute))); err != nil {
				t.Fatal(err)
			}
			if l := s.syncer.logs[1]; l.f == nil || l.last < 0 {
				t.Errorf("WBL segment not synced after an out-of-order sample: %+v", l)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
