package tail

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/storage"
)

// Signals is a set of signals a subscriber wants.
type Signals uint8

// Signal bits.
const (
	Spans Signals = 1 << iota
	Logs
	Metrics
)

// Filter selects what a subscriber receives. Zero fields select everything of the chosen signals.
type Filter struct {
	Signals Signals
	Service string              // service.name must equal it
	Spans   storage.SpanMatcher // compiled filter for spans; nil: every span
	Logs    storage.LogMatcher  // compiled filter for logs; nil: every log record
}

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("live tail is shut down")

// Options configures a Hub.
type Options struct {
	// Buffer is how many items a subscriber may have waiting; more are dropped. 0 means 4096.
	Buffer int
	// MaxSubscribers bounds concurrent subscribers. 0 means 64.
	MaxSubscribers int
}

// Hub fans accepted telemetry out to live subscribers. Safe for concurrent use.
type Hub struct {
	opts   Options
	n      atomic.Int32 // subscribers, read without the lock on the hot path
	mu     sync.RWMutex
	subs   map[*Subscription]struct{}
	closed bool
}

// NewHub returns a hub with no subscribers.
func NewHub(opts Options) *Hub {
	if opts.Buffer <= 0 {
		opts.Buffer = 4096
	}
	if opts.MaxSubscribers <= 0 {
		opts.MaxSubscribers = 64
	}
	return &Hub{opts: opts, subs: map[*Subscription]struct{}{}}
}

// ErrTooManySubscribers is returned by Subscribe when Options.MaxSubscribers are already subscribed.
var ErrTooManySubscribers = errors.New("too many live tail subscribers")

// Consumer returns the pipeline observer that feeds the hub.
func (h *Hub) Consumer() pipeline.Consumer {
	return pipeline.Consumer{Name: "tail", Traces: h, Logs: h, Metrics: h, Observer: true}
}

// Subscription receives matching items (Next) until Close or the hub's Close.
type Subscription struct {
	hub     *Hub
	filter  Filter
	ch      chan entry
	dropped atomic.Int64
	once    sync.Once
}

// entry is a matching item as the ingest path hands it over: references into the batch, which the pipeline
// lets observers keep read-only. Flattening into an Item happens on the subscriber's side, so a subscriber
// costs the ingest path only its filter and a channel send.
type entry struct {
	kind   uint8 // 1 span, 2 log, 3 metric point
	res    pcommon.Resource
	scope  pcommon.InstrumentationScope
	span   ptrace.Span
	log    plog.LogRecord
	metric pmetric.Metric
	point  int
}

func (e *entry) item() Item {
	switch e.kind {
	case 1:
		return spanItem(e.res, e.span)
	case 2:
		return logItem(e.res, e.log)
	default:
		return metricPoint(e.res, e.metric, e.point)
	}
}

// Subscribe adds a subscriber.
func (h *Hub) Subscribe(f Filter) (*Subscription, error) {
	if f.Signals == 0 {
		f.Signals = Spans | Logs
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if len(h.subs) >= h.opts.MaxSubscribers {
		return nil, ErrTooManySubscribers
	}
	s := &Subscription{hub: h, filter: f, ch: make(chan entry, h.opts.Buffer)}
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	return s, nil
}

// Next waits for the next matching item. ok is false when the subscription or the hub closed or ctx ended.
func (s *Subscription) Next(ctx context.Context) (it Item, ok bool) {
	select {
	case e, open := <-s.ch:
		if !open {
			return Item{}, false
		}
		return e.item(), true
	case <-ctx.Done():
		return Item{}, false
	}
}

// Dropped is how many matching items did not fit in the buffer so far.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	s.once.Do(func() {
		delete(s.hub.subs, s)
		s.hub.n.Store(int32(len(s.hub.subs)))
		close(s.ch)
	})
}

// Close ends every subscription and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		s.closeLocked()
	}
}

func (s *Subscription) offer(e entry) {
	select {
	case s.ch <- e:
	default:
		s.dropped.Add(1)
	}
}

// ConsumeTraces offers each span to the subscribers that want it. It never blocks and never fails.
func (h *Hub) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	if h.n.Load() == 0 {
		return nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource()
		svc := serviceOf(res)
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				for s := range h.subs {
					f := &s.filter
					if f.Signals&Spans == 0 || (f.Service != "" && f.Service != svc) ||
						(f.Spans != nil && !f.Spans.MatchSpan(res, ss.Scope(), sp)) {
						continue
					}
					s.offer(entry{kind: 1, res: res, scope: ss.Scope(), span: sp})
				}
			}
		}
	}
	return nil
}

// ConsumeLogs is ConsumeTraces for log records.
func (h *Hub) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if h.n.Load() == 0 {
		return nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource()
		svc := serviceOf(res)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				for s := range h.subs {
					f := &s.filter
					if f.Signals&Logs == 0 || (f.Service != "" && f.Service != svc) ||
						(f.Logs != nil && !f.Logs.MatchLog(res, sl.Scope(), lr)) {
						continue
					}
					s.offer(entry{kind: 2, res: res, scope: sl.Scope(), log: lr})
				}
			}
		}
	}
	return nil
}

// ConsumeMetrics offers each point to the subscribers that asked for metrics (the filter expression does
// not apply to metrics; the service does).
func (h *Hub) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	if h.n.Load() == 0 {
		return nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	var want []*Subscription
	for _, rm := range md.ResourceMetrics().All() {
		res := rm.Resource()
		svc := serviceOf(res)
		want = want[:0]
		for s := range h.subs {
			if s.filter.Signals&Metrics != 0 && (s.filter.Service == "" || s.filter.Service == svc) {
				want = append(want, s)
			}
		}
		if len(want) == 0 {
			continue
		}
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				for i := range pointCount(m) {
					for _, s := range want {
						s.offer(entry{kind: 3, res: res, scope: sm.Scope(), metric: m, point: i})
					}
				}
			}
		}
	}
	return nil
}

var (
	_ pipeline.RawTracesConsumer = (*Hub)(nil)
	_ pipeline.RawLogsConsumer   = (*Hub)(nil)
)

// ConsumeTracesRaw returns at once when no one is subscribed, so that a raw batch is not decoded for the
// hub; otherwise it asks for the batch decoded (errors.ErrUnsupported), which ConsumeTraces then offers.
func (h *Hub) ConsumeTracesRaw(context.Context, []byte, *otlpwire.Index) error {
	if h.n.Load() == 0 {
		return nil
	}
	return errors.ErrUnsupported
}

// ConsumeLogsRaw is ConsumeTracesRaw for log records.
func (h *Hub) ConsumeLogsRaw(context.Context, []byte, *otlpwire.Index) error {
	if h.n.Load() == 0 {
		return nil
	}
	return errors.ErrUnsupported
}
