package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// The head holds what was written since the last flush: span and log batches as their OTLP protobuf encoding
// (a copy of the WAL record; decoded into pdata only when a query first needs a batch), metric batches as
// pdata, all read-only once added, with per-batch time bounds and a trace-ID index. Queries scan it batch by
// batch like part blocks.
type head struct {
	created time.Time
	walSeq  uint64 // set when frozen: the newest WAL segment whose records it holds

	mu      sync.RWMutex
	spans   []*spanBatch
	logs    []*logBatch
	metrics []*metricBatch
	traces  map[storage.TraceID][]int32 // trace ID -> indexes of the span batches holding it (ascending)
	groups  map[uint64][]*wireGroup     // the distinct groups of its batches, by hash (intern)
	nItems  int
	bytes   int64
	decoded atomic.Int64 // estimated bytes of the pdata its batches keep decoded (headDecodedBudget)
}

// headDecodedBudget bounds the estimated memory of the pdata a head keeps decoded for queries (a decoded
// batch takes about decodedFactor times its encoding). Batches decoded past it are decoded again by each
// query that needs them: queries on recent data at full ingest cost CPU rather than memory.
const (
	headDecodedBudget = 96 << 20
	decodedFactor     = 4
)

type spanBatch struct {
	raw          []byte    // TracesData
	scan         batchScan // what the write read of raw (views of it)
	minTS, maxTS int64
	n            int
	arrival      uint64
	decoded      *atomic.Int64 // the head's estimate of the pdata kept decoded
	mu           sync.Mutex
	td           ptrace.Traces // kept decoded; the zero value until then
}

// traces returns the batch as pdata (read-only), decoded on first use and kept while the head's budget
// allows.
func (b *spanBatch) traces() ptrace.Traces {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.td != (ptrace.Traces{}) {
		return b.td
	}
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(b.raw)
	if err != nil { // the write checked the batch: not expected
		return ptrace.NewTraces()
	}
	if keep(b.decoded, len(b.raw)) {
		b.td = td
	}
	return td
}

type logBatch struct {
	raw          []byte    // LogsData
	scan         batchScan // what the write read of raw (views of it)
	minTS, maxTS int64
	n            int
	arrival      uint64
	decoded      *atomic.Int64
	mu           sync.Mutex
	ld           plog.Logs
}

// logs is traces for log batches.
func (b *logBatch) logs() plog.Logs {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ld != (plog.Logs{}) {
		return b.ld
	}
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b.raw)
	if err != nil {
		return plog.NewLogs()
	}
	if keep(b.decoded, len(b.raw)) {
		b.ld = ld
	}
	return ld
}

// keep takes room for a decoded batch of n encoded bytes in a head's budget, if there is some.
func keep(decoded *atomic.Int64, n int) bool {
	cost := int64(n) * decodedFactor
	if decoded.Add(cost) <= headDecodedBudget {
		return true
	}
	decoded.Add(-cost)
	return false
}

type metricBatch struct {
	md           pmetric.Metrics
	minTS, maxTS int64
	n            int
	arrival      uint64
}

func newHead(now time.Time) *head {
	return &head{created: now, traces: map[storage.TraceID][]int32{}, groups: map[uint64][]*wireGroup{}}
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

// addSpans adds a TracesData message (kept: the caller must not change it) with what scanSpans read of it.
func (h *head) addSpans(raw []byte, sc batchScan, arrival uint64) {
	b := &spanBatch{raw: raw, arrival: arrival, minTS: sc.minTS, maxTS: sc.maxTS, n: sc.n, scan: sc, decoded: &h.decoded}
	h.mu.Lock()
	defer h.mu.Unlock()
	idx := int32(len(h.spans))
	h.spans = append(h.spans, b)
	for _, id := range sc.ids {
		// A batch's spans are indexed once per trace: the batch is the last one listed when it is there.
		if l := h.traces[id]; len(l) == 0 || l[len(l)-1] != idx {
			h.traces[id] = append(l, idx)
		}
	}
	b.scan.ids = nil // indexed
	h.intern(b.scan.groups)
	h.nItems += b.n
	h.bytes += int64(len(raw))
}

func logTS(rec plog.LogRecord) int64 {
	if t := int64(rec.Timestamp()); t != 0 {
		return t
	}
	return int64(rec.ObservedTimestamp())
}

// addLogs adds a LogsData message (kept) with what scanLogs read of it.
func (h *head) addLogs(raw []byte, sc batchScan, arrival uint64) {
	b := &logBatch{raw: raw, arrival: arrival, minTS: sc.minTS, maxTS: sc.maxTS, n: sc.n, scan: sc, decoded: &h.decoded}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.intern(b.scan.groups)
	h.logs = append(h.logs, b)
	h.nItems += b.n
	h.bytes += int64(len(raw))
}

// intern makes each group of a batch being added that holds the same messages as a group of an earlier
// batch share that group's memory: its messages are then read, and compared, while the request is in the
// CPU's cache, and the flush, which looks up the attribute set of every group of the head in one serial pass
// (partBuilder.setWire), compares equal groups by their pointers (bytes.Equal of one memory is immediate)
// instead of reading both from memory long after. Called with h.mu held for writing.
func (h *head) intern(groups []wireGroup) {
next:
	for i := range groups {
		g := &groups[i]
		for _, c := range h.groups[g.hash] {
			if c.same(g) {
				*g = *c
				continue next
			}
		}
		h.groups[g.hash] = append(h.groups[g.hash], g)
	}
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
