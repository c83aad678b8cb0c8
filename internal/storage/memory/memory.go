package memory

import (
	"context"
	"log/slog"
	"slices"
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

	spans        fifo[*spanEntry]
	traces       index[storage.TraceID, *spanEntry]
	spanServices index[string, *spanEntry] // by service.name ("" for none)
	operations   map[string]map[opKey]int  // service -> operation -> stored spans

	logs        fifo[*logEntry]
	logTraces   index[storage.TraceID, *logEntry] // records with a trace ID
	logServices index[string, *logEntry]

	points  fifo[*pointEntry]
	metrics index[string, *pointEntry] // by metric name

	evicted  [3]int64 // items evicted, by signal
	evicting [3]bool  // a signal has started evicting (logged once)
}

// Stats counts what a Store holds and what it has evicted.
type Stats struct {
	Spans, Logs, Points                      int
	EvictedSpans, EvictedLogs, EvictedPoints int64
}

// Stats returns the current counts. Safe for concurrent use; valid after Close (all zero but the evictions).
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{
		Spans: s.spans.len(), Logs: s.logs.len(), Points: s.points.len(),
		EvictedSpans: s.evicted[sigSpans], EvictedLogs: s.evicted[sigLogs], EvictedPoints: s.evicted[sigPoints],
	}
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
		opts:         opts,
		log:          opts.Logger,
		traces:       make(index[storage.TraceID, *spanEntry]),
		spanServices: make(index[string, *spanEntry]),
		operations:   make(map[string]map[opKey]int),
		logTraces:    make(index[storage.TraceID, *logEntry]),
		logServices:  make(index[string, *logEntry]),
		metrics:      make(index[string, *pointEntry]),
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
	s.spans, s.traces, s.spanServices, s.operations = fifo[*spanEntry]{}, nil, nil, nil
	s.logs, s.logTraces, s.logServices = fifo[*logEntry]{}, nil, nil
	s.points, s.metrics = fifo[*pointEntry]{}, nil
	return nil
}

const (
	sigSpans = iota
	sigLogs
	sigPoints
)

var signalNames = [3]string{"spans", "log records", "metric points"}

// noteEviction counts an eviction and logs the first of a signal. s.mu is held for writing.
func (s *Store) noteEviction(sig, limit int) {
	s.evicted[sig]++
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

// scan calls match with each element for which keep holds, oldest first, checking ctx every 4096 elements.
func (q *fifo[T]) scan(ctx context.Context, keep func(T) bool, match func(T)) error {
	for i := range q.len() {
		if i%4096 == 4095 {
			if err := ctxErr(ctx); err != nil {
				return err
			}
		}
		if e := q.at(i); keep(e) {
			match(e)
		}
	}
	return nil
}

// yieldPages copies entries into pages of at most size items with build and yields them, stopping with ctx's
// error when it is done. The entries are immutable, so no lock is needed.
func yieldPages[E, P any](ctx context.Context, entries []E, size int, build func([]E) P, empty func() P, yield func(P, error) bool) {
	for len(entries) > 0 {
		if err := ctxErr(ctx); err != nil {
			yield(empty(), err)
			return
		}
		n := min(size, len(entries))
		if !yield(build(entries[:n]), nil) {
			return
		}
		entries = entries[n:]
	}
}

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

// index lists the stored items of each key in arrival order. Since eviction follows arrival order, the item
// evicted is always the first of its key.
type index[K comparable, E comparable] map[K]*fifo[E]

func (ix index[K, E]) add(k K, e E) {
	q := ix[k]
	if q == nil {
		q = &fifo[E]{}
		ix[k] = q
	}
	q.push(e)
}

// evict removes e, the oldest item of k.
func (ix index[K, E]) evict(k K, e E) {
	q := ix[k]
	if q == nil || q.len() == 0 || q.at(0) != e {
		panic("BUG: evicted item is not the oldest of its index key")
	}
	q.pop()
	if q.len() == 0 {
		delete(ix, k)
	}
}

// items returns the items of k, oldest first.
func (ix index[K, E]) items(k K) []E {
	q := ix[k]
	if q == nil {
		return nil
	}
	out := make([]E, q.len())
	for i := range out {
		out[i] = q.at(i)
	}
	return out
}

// topK keeps the first k items offered in the order given by before (before(a, b): a comes first). It is a
// heap whose root is the last item kept, so a scan costs O(n log k) and keeps k items, not every match.
type topK[T any] struct {
	k      int
	before func(a, b T) bool
	h      []T
}

func newTopK[T any](k int, before func(a, b T) bool) *topK[T] {
	return &topK[T]{k: k, before: before}
}

func (t *topK[T]) offer(x T) {
	if len(t.h) < t.k {
		t.h = append(t.h, x)
		t.up(len(t.h) - 1)
		return
	}
	if t.k > 0 && t.before(x, t.h[0]) {
		t.h[0] = x
		t.down(0)
	}
}

// after reports whether h[i] should sit above h[j]: it comes later in the output.
func (t *topK[T]) after(i, j int) bool { return t.before(t.h[j], t.h[i]) }

func (t *topK[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.after(i, p) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topK[T]) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(t.h) {
			return
		}
		m := l
		if r := l + 1; r < len(t.h) && t.after(r, l) {
			m = r
		}
		if !t.after(m, i) {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// sorted returns the kept items in output order.
func (t *topK[T]) sorted() []T {
	out := t.h
	slices.SortFunc(out, func(a, b T) int {
		switch {
		case t.before(a, b):
			return -1
		case t.before(b, a):
			return 1
		}
		return 0
	})
	return out
}
