package loadgen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/otlpd/otlpd/internal/workload"
)

// payload is one encoded export request.
type payload struct {
	body  []byte
	items int
	// patch offsets: where trace IDs (traces), point timestamps (metrics) or record times (logs) sit in body.
	offsets []int
	starts  []int // metrics: where the points' start timestamps sit; logs: the records' observed times
	round   int   // the round whose values body holds
	owner   int   // metrics: the share of the interval, so that a series always goes through one worker
}

// pool is the set of requests built before the clock starts.
type pool struct {
	payloads []*payload
	json     bool
	signal   Signal
	// shift is how far metric and log timestamps move per round: the time span the pool covers.
	shift time.Duration
	// minTS and maxTS bound the log record times of the pool.
	minTS, maxTS int64
	bytes        int64
	items        int64
}

// buildPool encodes batches of the workload until maxBytes is reached (at least minPayloads requests).
func buildPool(sig Signal, jsonBody bool, seed int64, batch, minPayloads int, maxBytes int64, start time.Time) (*pool, error) {
	g := workload.New(seed, workload.Options{Start: start})
	p := &pool{json: jsonBody, signal: sig, minTS: math.MaxInt64, maxTS: math.MinInt64}
	perInterval := (workload.Resources*workload.SeriesPerResource + batch - 1) / batch
	for {
		switch sig {
		case SignalMetrics:
			// Whole intervals only, so that shifting by the covered span keeps every series in order.
			if len(p.payloads)%perInterval == 0 && len(p.payloads) >= minPayloads && p.bytes >= maxBytes {
				p.shift = time.Duration(len(p.payloads)/perInterval) * workload.MetricInterval
				// The workload's points start one interval after start; move the pool back by its span so
				// that its last points are at start (now): a query right after a short run sees them.
				for _, pl := range p.payloads {
					p.shiftTimestamps(pl, pl.offsets, -int64(p.shift))
					p.shiftTimestamps(pl, pl.starts, -int64(p.shift))
				}
				return p, nil
			}
		default:
			if len(p.payloads) >= minPayloads && p.bytes >= maxBytes {
				if sig == SignalLogs {
					// A replayed record comes one pool span later than its previous round, so records keep
					// increasing times and no two are equal.
					p.shift = time.Millisecond
					if p.maxTS >= p.minTS {
						p.shift += time.Duration(p.maxTS - p.minTS)
					}
				}
				return p, nil
			}
		}
		pl, err := p.encode(g, batch, start)
		if err != nil {
			return nil, err
		}
		if sig == SignalMetrics {
			pl.owner = len(p.payloads) % perInterval
		} else {
			pl.owner = len(p.payloads)
		}
		p.payloads = append(p.payloads, pl)
		p.bytes += int64(len(pl.body))
		p.items += int64(pl.items)
	}
}

func (p *pool) encode(g *workload.Generator, batch int, start time.Time) (*payload, error) {
	var (
		body []byte
		err  error
		pl   = &payload{items: batch}
	)
	switch p.signal {
	case SignalTraces:
		req := ptraceotlp.NewExportRequestFromTraces(g.NextTraces(batch))
		body, err = marshal(req, p.json)
		if err == nil {
			pl.offsets = traceIDOffsets(body, p.json)
		}
	case SignalLogs:
		ld := g.NextLogs(batch)
		body, err = marshal(plogotlp.NewExportRequestFromLogs(ld), p.json)
		if err == nil {
			times, observed := recordTimes(ld)
			for t := range times {
				p.minTS, p.maxTS = min(p.minTS, int64(t)), max(p.maxTS, int64(t))
			}
			pl.offsets, err = fixed64Offsets(body, p.json, times, jsonTime, 0x09)
			if err == nil {
				pl.starts, err = fixed64Offsets(body, p.json, observed, jsonObserved, 0x59)
			}
		}
	case SignalMetrics:
		md := g.NextMetrics(batch)
		body, err = marshal(pmetricotlp.NewExportRequestFromMetrics(md), p.json)
		if err == nil {
			pl.offsets, err = timestampOffsets(body, p.json, pointTimestamps(md))
		}
		if err == nil {
			pl.starts, err = fixed64Offsets(body, p.json, map[uint64]bool{uint64(start.UnixNano()): true}, jsonStart, 0x11)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", p.signal, err)
	}
	pl.body = body
	return pl, nil
}

type marshaler interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

func marshal(m marshaler, jsonBody bool) ([]byte, error) {
	if jsonBody {
		return m.MarshalJSON()
	}
	return m.MarshalProto()
}

// Proto tags of the fields rewritten between rounds:
//
//	Span { bytes trace_id = 1; }  Span.Link { bytes trace_id = 1; }   -> 0x0a 0x10 <16 bytes>
//	NumberDataPoint / HistogramDataPoint / ExponentialHistogramDataPoint { fixed64 time_unix_nano = 3; } -> 0x19 <8 bytes>
//	                                                        { fixed64 start_time_unix_nano = 2; } -> 0x11 <8 bytes>
//
// A tag match alone could be a coincidence inside another field's bytes, so a candidate counts only when the
// bytes after it are one of the batch's trace IDs (traces) or point timestamps (metrics).
var (
	jsonTraceID  = []byte(`"traceId":"`)
	jsonTime     = []byte(`"timeUnixNano":"`)
	jsonStart    = []byte(`"startTimeUnixNano":"`)
	jsonObserved = []byte(`"observedTimeUnixNano":"`)
)

// traceIDOffsets returns the offsets of the trace IDs in an encoded request (the first byte of the ID, or
// of its hex form in JSON).
func traceIDOffsets(body []byte, jsonBody bool) []int {
	var offs []int
	if jsonBody {
		for i := 0; ; {
			j := bytes.Index(body[i:], jsonTraceID)
			if j < 0 {
				return offs
			}
			at := i + j + len(jsonTraceID)
			if at+32 <= len(body) && body[at+32] == '"' {
				offs = append(offs, at)
			}
			i = at
		}
	}
	ids := map[[16]byte]bool{}
	var req = ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return nil
	}
	for _, rs := range req.Traces().ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				ids[sp.TraceID()] = true
			}
		}
	}
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte{0x0a, 0x10})
		if j < 0 {
			return offs
		}
		at := i + j + 2
		if at+16 <= len(body) && ids[[16]byte(body[at:at+16])] {
			offs = append(offs, at)
			i = at + 16
			continue
		}
		i = i + j + 1
	}
}

// recordTimes returns the times and observed times of the records of ld (zero left out).
func recordTimes(ld plog.Logs) (times, observed map[uint64]bool) {
	times, observed = map[uint64]bool{}, map[uint64]bool{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, rec := range sl.LogRecords().All() {
				if t := uint64(rec.Timestamp()); t != 0 {
					times[t] = true
				}
				if t := uint64(rec.ObservedTimestamp()); t != 0 {
					observed[t] = true
				}
			}
		}
	}
	return times, observed
}

func pointTimestamps(md pmetric.Metrics) map[uint64]bool {
	ts := map[uint64]bool{}
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						ts[uint64(dp.Timestamp())] = true
					}
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						ts[uint64(dp.Timestamp())] = true
					}
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						ts[uint64(dp.Timestamp())] = true
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						ts[uint64(dp.Timestamp())] = true
					}
				}
			}
		}
	}
	return ts
}

// timestampOffsets returns where the point timestamps sit; it fails if it cannot find one per point.
func timestampOffsets(body []byte, jsonBody bool, want map[uint64]bool) ([]int, error) {
	return fixed64Offsets(body, jsonBody, want, jsonTime, 0x19)
}

// fixed64Offsets finds the fixed64 fields with the given proto tag byte (or JSON key) whose value is in want.
func fixed64Offsets(body []byte, jsonBody bool, want map[uint64]bool, jsonKey []byte, tag byte) ([]int, error) {
	var offs []int
	if jsonBody {
		for i := 0; ; {
			j := bytes.Index(body[i:], jsonKey)
			if j < 0 {
				break
			}
			at := i + j + len(jsonKey)
			end := bytes.IndexByte(body[at:], '"')
			if end > 0 {
				if v, err := strconv.ParseUint(string(body[at:at+end]), 10, 64); err == nil && want[v] {
					offs = append(offs, at)
				}
			}
			i = at
		}
		return offs, nil
	}
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], tag)
		if j < 0 {
			return offs, nil
		}
		at := i + j + 1
		if at+8 <= len(body) && want[binary.LittleEndian.Uint64(body[at:])] {
			offs = append(offs, at)
			i = at + 8
			continue
		}
		i = at
	}
}

// roundMask is what the first 8 bytes of every trace ID are XORed with in round r.
func roundMask(r int) uint64 { return uint64(r) * 0x9e3779b97f4a7c15 }

// advance rewrites pl from its round to round r. The caller owns pl (no request using it is in flight).
func (p *pool) advance(pl *payload, r int) {
	if pl.round == r {
		return
	}
	switch p.signal {
	case SignalTraces:
		mask := roundMask(pl.round) ^ roundMask(r)
		for _, off := range pl.offsets {
			if p.json {
				var raw [8]byte
				if _, err := hex.Decode(raw[:], pl.body[off:off+16]); err != nil {
					continue
				}
				binary.BigEndian.PutUint64(raw[:], binary.BigEndian.Uint64(raw[:])^mask)
				hex.Encode(pl.body[off:off+16], raw[:])
				continue
			}
			v := binary.BigEndian.Uint64(pl.body[off:]) ^ mask
			binary.BigEndian.PutUint64(pl.body[off:], v)
		}
	case SignalMetrics:
		p.shiftTimestamps(pl, pl.offsets, int64(r-pl.round)*int64(p.shift))
	case SignalLogs:
		p.shiftTimestamps(pl, pl.offsets, int64(r-pl.round)*int64(p.shift))
		p.shiftTimestamps(pl, pl.starts, int64(r-pl.round)*int64(p.shift))
	}
	pl.round = r
}

// shiftTimestamps moves the timestamps of pl at offsets by delta nanoseconds.
func (p *pool) shiftTimestamps(pl *payload, offsets []int, delta int64) {
	for _, off := range offsets {
		if p.json {
			end := off + bytes.IndexByte(pl.body[off:], '"')
			v, err := strconv.ParseInt(string(pl.body[off:end]), 10, 64)
			if err != nil {
				continue
			}
			s := strconv.AppendInt(nil, v+delta, 10)
			if len(s) == end-off { // a number of another length would not fit; 19 digits last until 2286
				copy(pl.body[off:end], s)
			}
			continue
		}
		binary.LittleEndian.PutUint64(pl.body[off:], uint64(int64(binary.LittleEndian.Uint64(pl.body[off:]))+delta))
	}
}
