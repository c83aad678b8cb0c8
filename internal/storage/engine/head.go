package engine

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// The head holds what was written since the last flush, as the written pdata batches (read-only once added),
// with per-batch time bounds and a trace-ID index. Queries scan it batch by batch like part blocks.
type head struct {
	created time.Time
	walSeq  uint64 // set when frozen: the newest WAL segment whose records it holds

	mu      sync.RWMutex
	spans   []*spanBatch
	logs    []*logBatch
	metrics []*metricBatch
	traces  map[storage.TraceID][]int32 // trace ID -> indexes of the span batches holding it (ascending)
	nItems  int
	bytes   int64
}

type spanBatch struct {
	td           ptrace.Traces
	minTS, maxTS int64
	n            int
	arrival      uint64
}

type logBatch struct {
	ld           plog.Logs
	minTS, maxTS int64
	n            int
	arrival      uint64
}

type metricBatch struct {
	md           pmetric.Metrics
	minTS, maxTS int64
	n            int
	arrival      uint64
}

func newHead(now time.Time) *head {
	return &head{created: now, traces: map[storage.TraceID][]int32{}}
}

func (h *head) items() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.nItems
}

func (h *head) size() (int, int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.nItems, h.bytes
}

func (h *head) addSpans(td ptrace.Traces, arrival uint64, bytes int) {
	b := &spanBatch{td: td, arrival: arrival, minTS: 1<<63 - 1, maxTS: -1 << 63}
	ids := make([]storage.TraceID, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				sp := spans.At(k)
				ts := int64(sp.StartTimestamp())
				b.minTS, b.maxTS = min(b.minTS, ts), max(b.maxTS, ts)
				ids = append(ids, storage.TraceID(sp.TraceID()))
				b.n++
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	idx := int32(len(h.spans))
	h.spans = append(h.spans, b)
	for _, id := range ids {
		// A batch's spans are indexed once per trace: the batch is the last one listed when it is there.
		if l := h.traces[id]; len(l) == 0 || l[len(l)-1] != idx {
			h.traces[id] = append(l, idx)
		}
	}
	h.nItems += b.n
	h.bytes += int64(bytes)
}

func logTS(rec plog.LogRecord) int64 {
	if t := int64(rec.Timestamp()); t != 0 {
		return t
	}
	return int64(rec.ObservedTimestamp())
}

func (h *head) addLogs(ld plog.Logs, arrival uint64, bytes int) {
	b := &logBatch{ld: ld, arrival: arrival, minTS: 1<<63 - 1, maxTS: -1 << 63}
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			recs := sls.At(j).LogRecords()
			for k := range recs.Len() {
				ts := logTS(recs.At(k))
				b.minTS, b.maxTS = min(b.minTS, ts), max(b.maxTS, ts)
				b.n++
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, b)
	h.nItems += b.n
	h.bytes += int64(bytes)
}

func (h *head) addMetrics(md pmetric.Metrics, arrival uint64, bytes int) {
	b := &metricBatch{md: md, arrival: arrival, minTS: 1<<63 - 1, maxTS: -1 << 63}
	forEachPoint(md, func(m pmetric.Metric, i int, ts int64) {
		b.minTS, b.maxTS = min(b.minTS, ts), max(b.maxTS, ts)
		b.n++
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.metrics = append(h.metrics, b)
	h.nItems += b.n
	h.bytes += int64(bytes)
}

// snapshot returns the batches added so far; they are immutable, so the caller reads them without a lock.
func (h *head) snapshot() (spans []*spanBatch, logs []*logBatch, metrics []*metricBatch) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.spans[:len(h.spans):len(h.spans)], h.logs[:len(h.logs):len(h.logs)], h.metrics[:len(h.metrics):len(h.metrics)]
}

// traceBatches returns the span batches that hold spans of trace id.
func (h *head) traceBatches(id storage.TraceID) []*spanBatch {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*spanBatch
	for _, i := range h.traces[id] {
		out = append(out, h.spans[i])
	}
	return out
}
