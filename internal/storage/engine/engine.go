package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
	"github.com/otlpd/otlpd/internal/storage/engine/wal"
)

// FormatVersion is the version of the data directory layout, written in its FORMAT file. A directory of
// version 2 (which differs only in never holding attribute sections coded by set) is opened and marked
// version 3, as merges may now write such sections; a directory of another version is refused by Open.
const FormatVersion = 3

// upgradableVersion is the older version Open reads and marks FormatVersion.
const upgradableVersion = 2

const formatFile = "FORMAT"

// SyncMode says when a write is acknowledged.
type SyncMode = wal.SyncMode

const (
	// SyncBatch (the default) acknowledges a write once it is fsynced; concurrent writes share fsyncs.
	SyncBatch = wal.SyncBatch
	// SyncNone acknowledges a write once the OS has it, without fsync. Unsafe: a machine crash or power loss
	// loses acknowledged data. For benchmarks.
	SyncNone = wal.SyncNone
)

// Options configures an Engine. Zero fields take the defaults given.
type Options struct {
	Logger *slog.Logger // default: discard
	Sync   SyncMode
	// MaxAge drops partitions (days) whose newest item is older than this. 0: keep forever.
	MaxAge time.Duration
	// MaxBytes bounds the parts on disk; the oldest parts are dropped first. 0: no cap.
	MaxBytes int64
	// Now is the clock (retention, flush age). Default time.Now.
	Now func() time.Time
	// HeadMaxItems flushes the head when it holds this many spans, records and points. Default 131072.
	HeadMaxItems int
	// HeadMaxBytes flushes the head when its WAL records reach this size. Default 64 MiB. (The head holds span
	// and log batches as protobuf, their size, plus what queries keep decoded, at most about 96 MiB, and metric
	// batches as pdata, a few times their size; a frozen head being flushed doubles that.)
	HeadMaxBytes int64
	// FlushInterval flushes a non-empty head at least this often. Default 30s.
	FlushInterval time.Duration
	// BlockRows is the number of rows per part block. Default 8192 (BenchmarkBytesPerItem: 36.35 B/span and
	// 37.04 B/log; at 4096, 38.31 and 38.63, for the same ingest CPU).
	BlockRows int
	// MergeMinParts merges the parts of a day once it has this many. Default 8.
	MergeMinParts int
	// MaintenanceInterval is how often retention and merges run. Default 10s.
	MaintenanceInterval time.Duration

	noCloseFlush bool // tests: Close leaves the head in the WAL, as a crash would
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HeadMaxItems <= 0 {
		o.HeadMaxItems = 1 << 17
	}
	if o.HeadMaxBytes <= 0 {
		o.HeadMaxBytes = 64 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 30 * time.Second
	}
	if o.BlockRows <= 0 {
		o.BlockRows = 8192
	}
	if o.MergeMinParts <= 1 {
		o.MergeMinParts = 8
	}
	if o.MaintenanceInterval <= 0 {
		o.MaintenanceInterval = 10 * time.Second
	}
}

// Engine stores spans, logs and metric points in a data directory. Safe for concurrent use.
type Engine struct {
	dir  string
	opts Options
	log  *slog.Logger
	wal  *wal.Writer

	// writeMu is held shared by writers from their WAL append to their head insert, and exclusively by a flush
	// while it rotates the WAL and swaps the head, so that a frozen head holds exactly the records of the WAL
	// segments it covers.
	writeMu sync.RWMutex

	mu       sync.RWMutex
	active   *head
	frozen   *head // being flushed, still searchable
	parts    []*partHandle
	cat      catalog
	closed   bool
	flushErr error

	flushMu sync.Mutex // one flush at a time (retention takes it too)
	// mergeMu is held by a merge from its check that its inputs are still parts to the replacement of them,
	// so that no other merge (or retention) takes the same inputs meanwhile. Merges run alongside flushes.
	mergeMu   sync.Mutex
	nextID    atomic.Uint64
	arrival   atomic.Uint64
	kick      chan struct{}
	mergeKick chan struct{} // a flush added parts: merges may have work
	// unmerged counts the parts of spans and logs that flushes wrote and no merge took yet (under mu, see
	// countUnmerged); writers wait while there are maxUnmerged of them (waitRoom).
	unmerged int
	stop     chan struct{}
	bg       sync.WaitGroup
	// room is closed (and replaced) whenever the heads change in a way that may let waiting writers in: a
	// freeze, the end of a flush, Close. Under mu.
	room chan struct{}
	lock *os.File // holds an exclusive flock on dir/LOCK while open
}

// lockDir takes an exclusive lock on dir/LOCK so that two processes never write one data directory. The
// kernel releases it when the process dies, however it dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("open engine: data directory %s is in use by another otlpd (lock: %w)", dir, err)
	}
	return f, nil
}

var _ storage.Backend = (*Engine)(nil)

// Open opens (creating if needed) the data directory dir: it checks the format version, loads the parts
// (quarantining corrupt ones), replays the write-ahead log, and starts the background flush and maintenance.
func Open(dir string, opts Options) (_ *Engine, err error) {
	opts.defaults()
	e := &Engine{dir: dir, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1),
		mergeKick: make(chan struct{}, 1), stop: make(chan struct{})}
	e.room = make(chan struct{})
	e.cat.init()
	for _, d := range []string{dir, e.walDir(), e.partsDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open engine: %w", err)
		}
	}
	if e.lock, err = lockDir(dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			for _, p := range e.parts {
				p.release()
			}
			e.lock.Close()
		}
	}()
	if err := e.checkFormat(); err != nil {
		return nil, err
	}
	flushed, err := e.readFlushed()
	if err != nil {
		return nil, err
	}
	if err := e.loadParts(flushed); err != nil {
		return nil, err
	}
	e.active = newHead(opts.Now())
	last, err := e.replay(flushed)
	if err != nil {
		return nil, err
	}
	w, err := wal.Create(e.walDir(), last+1, opts.Sync)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	e.wal = w
	e.bg.Add(2)
	go e.flushLoop()
	go e.maintenanceLoop()
	return e, nil
}

func (e *Engine) walDir() string   { return filepath.Join(e.dir, "wal") }
func (e *Engine) partsDir() string { return filepath.Join(e.dir, "parts") }

func (e *Engine) checkFormat() error {
	path := filepath.Join(e.dir, formatFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		ents, _ := os.ReadDir(e.partsDir())
		segs, _ := wal.Segments(e.walDir())
		if len(ents) > 0 || len(segs) > 0 {
			return fmt.Errorf("open engine: %s holds data but no %s file; refusing to guess its format", e.dir, formatFile)
		}
		return writeFileAtomic(path, fmt.Appendf(nil, "otlpd-engine %d\n", FormatVersion))
	}
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	var v int
	if _, err := fmt.Sscanf(string(data), "otlpd-engine %d", &v); err != nil {
		return fmt.Errorf("open engine: %s is not an otlpd engine format file (%q)", path, strings.TrimSpace(string(data)))
	}
	switch v {
	case FormatVersion:
		return nil
	case upgradableVersion:
		e.log.Info("engine: data directory marked format version 3 (attribute sections coded by set); otlpd versions reading only version 2 will refuse it", "dir", e.dir)
		return writeFileAtomic(path, fmt.Appendf(nil, "otlpd-engine %d\n", FormatVersion))
	}
	return fmt.Errorf("open engine: data directory %s has format version %d; this otlpd reads versions %d and %d (upgrade otlpd or use another --data-dir)", e.dir, v, upgradableVersion, FormatVersion)
}

// The "flushed" file holds the number of the newest WAL segment whose records are all in parts.
func (e *Engine) readFlushed() (uint64, error) {
	data, err := os.ReadFile(filepath.Join(e.dir, "flushed"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open engine: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("open engine: flushed file holds %q, not a segment number", data)
	}
	return n, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return part.SyncDir(filepath.Dir(path))
}

// replay loads the WAL segments newer than flushed into the head and returns the newest segment number.
func (e *Engine) replay(flushed uint64) (uint64, error) {
	segs, err := wal.Segments(e.walDir())
	if err != nil {
		return 0, fmt.Errorf("open engine: %w", err)
	}
	last := flushed
	records := 0
	for _, seq := range segs {
		last = max(last, seq)
		if seq <= flushed {
			if err := os.Remove(wal.SegmentPath(e.walDir(), seq)); err != nil {
				e.log.Warn("engine: cannot remove flushed wal segment", "segment", seq, "err", err)
			}
			continue
		}
		err := wal.Replay(e.walDir(), seq, e.log, func(typ byte, payload []byte) error {
			if err := e.applyRecord(typ, payload); err != nil {
				// A record that passed its CRC but does not decode was written by a broken writer; keep going.
				e.log.Warn("engine: skipping undecodable wal record", "segment", seq, "err", err)
			}
			records++
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("open engine: %w", err)
		}
	}
	if records > 0 {
		e.log.Info("engine: replayed write-ahead log", "records", records, "segments", len(segs))
	}
	return last, nil
}

// Close flushes the head to parts and closes the engine. Calls after Close return storage.ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return storage.ErrClosed
	}
	e.closed = true
	e.wakeWriters()
	e.mu.Unlock()
	close(e.stop)
	e.bg.Wait()
	var err error
	if !e.opts.noCloseFlush {
		err = e.flush()
	}
	// Writers that got past the closed check have finished once we hold writeMu.
	e.writeMu.Lock()
	if werr := e.wal.Close(); err == nil {
		err = werr
	}
	e.writeMu.Unlock()
	e.mu.Lock()
	for _, p := range e.parts {
		p.release()
	}
	e.parts = nil
	e.mu.Unlock()
	e.lock.Close()
	return err
}

func (e *Engine) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

func (e *Engine) flushLoop() {
	defer e.bg.Done()
	t := time.NewTicker(max(e.opts.FlushInterval/4, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-e.kick:
		case <-t.C:
			e.mu.RLock()
			h := e.active
			old := h.items() > 0 && e.opts.Now().Sub(h.created) >= e.opts.FlushInterval
			e.mu.RUnlock()
			if !old {
				continue
			}
		}
		if err := e.flush(); err != nil {
			e.log.Error("engine: flush failed; will retry", "err", err)
			select {
			case <-e.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (e *Engine) maintenanceLoop() {
	defer e.bg.Done()
	t := time.NewTicker(e.opts.MaintenanceInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.stop
		cancel()
	}()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if err := e.applyRetention(); err != nil {
				e.log.Error("engine: retention failed", "err", err)
			}
		case <-e.mergeKick:
		}
		if err := e.mergeBacklog(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("engine: merge failed", "err", err)
		}
	}
}

// Maintain applies retention and merges small parts now. It runs in the background every
// Options.MaintenanceInterval; tests and tools call it directly.
func (e *Engine) Maintain(ctx context.Context) error {
	if err := e.applyRetention(); err != nil {
		return err
	}
	return e.mergeAll(ctx)
}

// Flush writes the head to parts now (it happens in the background on its own).
func (e *Engine) Flush(ctx context.Context) error {
	if e.isClosed() {
		return storage.ErrClosed
	}
	return e.flush()
}

func listPartFiles(dir string) ([]string, error) {
	var out []string
	days, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range days {
		if !d.IsDir() {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(dir, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range ents {
			name := f.Name()
			full := filepath.Join(dir, d.Name(), name)
			if strings.HasSuffix(name, ".tmp") {
				os.Remove(full) // an unfinished write
				continue
			}
			if strings.HasSuffix(name, ".part") {
				out = append(out, full)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
