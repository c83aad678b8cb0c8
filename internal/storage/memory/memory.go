package memory

import (
	"context"
	"log/slog"
	"sync"

	"github.com/otlpd/otlpd/internal/storage"
)

// Defaults used for zero Options fields and zero query fields.
const (
	DefaultMaxSpans  = 200_000
	DefaultMaxLogs   = 200_000
	DefaultMaxPoints = 1_000_000

	DefaultTraceLimit = 100    // FindTraceIDs with a zero Limit
	DefaultSpanLimit  = 1000   // FindSpans with a zero Limit
	DefaultLogLimit   = 1000   // FindLogs with a zero Limit
	DefaultPointLimit = 10_000 // FindMetrics with a zero Limit
	DefaultPageSize   = 1000   // items per yielded page (GetTrace with a zero PageSize, and every search)
)

// Options configures a Store. Zero fields take the defaults above.
type Options struct {
	MaxSpans  int // spans kept; older ones are evicted first
	MaxLogs   int // log records kept
	MaxPoints int // metric data points kept
	Logger    *slog.Logger
}

// Store is the in-memory backend. Safe for concurrent use.
type Store struct {
	opts Options
	log  *slog.Logger

	mu     sync.RWMutex
	closed bool
	seq    uint64 // arrival number of the last stored item, all signals

	spans    fifo[*spanEntry]
	traces   map[storage.TraceID]*traceEntry
	services map[string]*serviceEntry

	logs fifo[*logEntry]

	points  fifo[*pointEntry]
	metrics map[string]int // metric name -> stored points

	evicting [3]bool // a signal has started evicting (logged once)
}

var _ storage.Backend = (*Store)(nil)

// New returns an empty store.
func New(opts Options) *Store {
	if opts.MaxSpans <= 0 {
		opts.MaxSpans = DefaultMaxSpans
	}
	if opts.MaxLogs <= 0 {
		opts.MaxLogs = DefaultMaxLogs
	}
	if opts.MaxPoints <= 0 {
		opts.MaxPoints = DefaultMaxPoints
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{
		opts:     opts,
		log:      opts.Logger,
		traces:   make(map[storage.TraceID]*traceEntry),
		services: make(map[string]*serviceEntry),
		metrics:  make(map[string]int),
	}
}

// Close releases the stored data. Every later call returns storage.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	s.closed = true
	s.spans = fifo[*spanEntry]{}
	s.traces = nil
	s.services = nil
	s.logs = fifo[*logEntry]{}
	s.points = fifo[*pointEntry]{}
	s.metrics = nil
	return nil
}

const (
	sigSpans = iota
	sigLogs
	sigPoints
)

var signalNames = [3]string{"spans", "log records", "metric points"}

// noteEviction logs the first eviction of a signal. s.mu is held for writing.
func (s *Store) noteEviction(sig, limit int) {
	if s.evicting[sig] {
		return
	}
	s.evicting[sig] = true
	s.log.Info("memory store full, evicting the oldest "+signalNames[sig], "limit", limit)
}

// pageSize returns the page size for a requested one.
func pageSize(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return n
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// fifo is a growable ring buffer.
type fifo[T any] struct {
	buf  []T
	head int
	n    int
}

func (q *fifo[T]) len() int { return q.n }

func (q *fifo[T]) at(i int) T { return q.buf[(q.head+i)%len(q.buf)] }

func (q *fifo[T]) push(v T) {
	if q.n == len(q.buf) {
		nb := make([]T, max(16, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = q.at(i)
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = v
	q.n++
}

func (q *fifo[T]) pop() T {
	if q.n == 0 {
		panic("BUG: pop from an empty fifo")
	}
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return v
}

// inRange reports whether t (unix ns) is within [start, end], where 0 is unbounded.
func inRange(t, start, end int64) bool {
	return (start == 0 || t >= start) && (end == 0 || t <= end)
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}
