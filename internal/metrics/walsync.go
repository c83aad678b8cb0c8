package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/prometheus/tsdb/wlog"
)

// walSyncer makes what the TSDB has written to its write-ahead logs durable. The TSDB writes a commit's
// records to the WAL (and, for out-of-order samples, the WBL) before Commit returns, but leaves them in the
// page cache; fsync on another descriptor of the same file flushes them all the same, so the syncer opens
// the logs' newest segments itself.
//
// Group commit: a caller asking while an fsync runs waits for the next one, which covers every caller that
// arrived meanwhile. One fsync is thus in flight at a time and a commit waits for at most two.
//
// An fsync error is sticky: after a failed fsync the kernel may have dropped the dirty pages, so nothing
// written since can be promised durable; every later sync fails, and otlpd must be restarted (the WAL
// replay then shows what is on disk).
type walSyncer struct {
	logs []*segmentSyncer
	do   func() error // one fsync round: syncLogs (tests replace it)

	mu      sync.Mutex
	cond    *sync.Cond
	asked   uint64 // tickets handed out
	done    uint64 // tickets covered by a finished fsync
	running bool
	err     error // sticky
	syncs   uint64
}

func newWALSyncer(dir string) *walSyncer {
	s := &walSyncer{logs: []*segmentSyncer{
		{dir: filepath.Join(dir, "wal"), last: -1},
		{dir: filepath.Join(dir, wlog.WblDirName), last: -1},
	}}
	s.cond = sync.NewCond(&s.mu)
	s.do = s.syncLogs
	return s
}

// sync returns once everything the TSDB wrote to its logs before the call is on stable storage.
func (s *walSyncer) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	ticket := s.asked
	for s.done < ticket && s.err == nil {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		upTo := s.asked
		s.mu.Unlock()
		err := s.do()
		s.mu.Lock()
		s.running = false
		s.syncs++
		if err != nil {
			s.err = fmt.Errorf("fsync the metrics write-ahead log: %w", err)
		}
		s.done = upTo
		s.cond.Broadcast()
	}
	return s.err
}

// count returns the number of fsync rounds run (for tests).
func (s *walSyncer) count() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}

func (s *walSyncer) syncLogs() error {
	var errs []error
	for _, l := range s.logs {
		errs = append(errs, l.sync())
	}
	return errors.Join(errs...)
}

func (s *walSyncer) close() error {
	var errs []error
	for _, l := range s.logs {
		if l.f != nil {
			errs = append(errs, l.f.Close())
			l.f = nil
		}
	}
	return errors.Join(errs...)
}

// segmentSyncer fsyncs one log directory (the WAL or the WBL). Only the syncer's single running round uses
// it.
type segmentSyncer struct {
	dir  string
	last int      // newest segment synced so far; -1: none yet
	f    *os.File // open descriptor of segment last
}

func (l *segmentSyncer) sync() error {
	first, last, err := wlog.Segments(l.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // no out-of-order sample yet: the WBL does not exist
		}
		return err
	}
	if last < 0 {
		return nil
	}
	if last == l.last && l.f != nil {
		return l.f.Sync()
	}
	// The TSDB moved to a new segment since the last round (or this is the first): the older ones may hold
	// records the TSDB fsyncs only in the background, so sync them, and the directory for the new entries.
	from := max(first, l.last)
	if l.last < 0 {
		from = first
	}
	for i := from; i < last; i++ {
		if err := syncFile(wlog.SegmentName(l.dir, i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err // a segment may have been truncated away meanwhile; else the error counts
		}
	}
	f, err := os.Open(wlog.SegmentName(l.dir, last))
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := syncFile(l.dir); err != nil {
		f.Close()
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.last = f, last
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}
