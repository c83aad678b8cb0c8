package query

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query/filter"
	"github.com/otlpd/otlpd/internal/storage"
)

// REDQuery asks for request rate, error rate and duration percentiles.
type REDQuery struct {
	TimeRange
	Service   string        // "" : every service
	Operation string        // "" : every operation
	Step      time.Duration // bucket width; <= 0: about 60 buckets
	Filter    string        // optional extra filter on the request spans
	// ByOperation adds one series per operation to the per-service series.
	ByOperation bool
}

// REDPoint is one bucket of a series: the requests whose span started in [Time, Time+Step).
type REDPoint struct {
	Time      time.Time `json:"time"`
	Count     int64     `json:"count"`
	Errors    int64     `json:"errors"`
	Rate      float64   `json:"rate"`      // requests per second
	ErrorRate float64   `json:"errorRate"` // errors / count; 0 without requests
	P50Nanos  int64     `json:"p50Nanos"`
	P95Nanos  int64     `json:"p95Nanos"`
	P99Nanos  int64     `json:"p99Nanos"`
}

// REDSeries is the RED of one service (Operation "") or one operation of a service.
type REDSeries struct {
	Service   string     `json:"service"`
	Operation string     `json:"operation,omitempty"`
	Total     REDPoint   `json:"total"` // over the whole range
	Points    []REDPoint `json:"points"`
}

// REDResult is the answer of RED.
type REDResult struct {
	Start     time.Time   `json:"start"`
	End       time.Time   `json:"end"`
	StepNanos int64       `json:"stepNanos"`
	Series    []REDSeries `json:"series"`
	Truncated bool        `json:"truncated,omitempty"` // the span scan limit was reached; counts are partial
}

// IsRequest reports whether a span counts as a request of its service for RED: spans of kind server or
// consumer (work that came from outside the service) and spans without a parent (work the service started).
func IsRequest(sp ptrace.Span) bool {
	k := sp.Kind()
	return k == ptrace.SpanKindServer || k == ptrace.SpanKindConsumer || sp.ParentSpanID().IsEmpty()
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted: the smallest value with at
// least p% of the values at or below it. It returns 0 for no values.
func Percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

type redAcc struct {
	durs   [][]int64 // per bucket
	errs   []int64
	series REDSeries
}

// RED computes the rate, errors and duration of requests (see IsRequest) per service, and per operation when
// asked, in buckets of q.Step over the range. Percentiles are exact (nearest rank) over the scanned spans.
func (q *Querier) RED(ctx context.Context, rq REDQuery) (REDResult, error) {
	if err := q.needSpans(); err != nil {
		return REDResult{}, err
	}
	r, err := q.bound(rq.TimeRange)
	if err != nil {
		return REDResult{}, err
	}
	step, err := Step(r, rq.Step)
	if err != nil {
		return REDResult{}, err
	}
	sq := storage.SpanQuery{Start: r.Start, End: r.End, Service: rq.Service, SpanName: rq.Operation}
	f, err := filter.ParseSpans(rq.Filter)
	if err != nil {
		return REDResult{}, fmt.Errorf("%w: filter %w", ErrInvalid, err)
	}
	f.Apply(&sq)
	n := int(r.End.Sub(r.Start)/step) + 1
	type key struct{ service, op string }
	accs := map[key]*redAcc{}
	get := func(k key) *redAcc {
		a := accs[k]
		if a == nil {
			k = key{strings.Clone(k.service), strings.Clone(k.op)} // the scan's strings are not ours to keep
			a = &redAcc{durs: make([][]int64, n), errs: make([]int64, n), series: REDSeries{Service: k.service, Operation: k.op}}
			accs[k] = a
		}
		return a
	}
	start := r.Start.UnixNano()
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	byOp := rq.ByOperation || rq.Operation != ""
	truncated, err := q.scanSummaries(ctx, sq, storage.SummaryOptions{}, func(s *storage.SpanSummary) {
		if s.Kind != ptrace.SpanKindServer && s.Kind != ptrace.SpanKindConsumer && !s.ParentSpanID.IsEmpty() {
			return // not a request (see IsRequest)
		}
		st := s.Start
		b := (st - start) / int64(step)
		if st < start || b >= int64(n) {
			return
		}
		d := max(s.End-st, 0)
		isErr := s.StatusCode == ptrace.StatusCodeError
		add := func(a *redAcc) {
			a.durs[b] = append(a.durs[b], d)
			if isErr {
				a.errs[b]++
			}
		}
		add(get(key{s.Service, ""}))
		if byOp {
			add(get(key{s.Service, s.Name}))
		}
	})
	if err != nil {
		return REDResult{}, fmt.Errorf("RED: %w", err)
	}
	out := REDResult{Start: r.Start, End: r.End, StepNanos: int64(step), Truncated: truncated}
	secs := step.Seconds()
	for _, a := range accs {
		s := a.series
		s.Points = make([]REDPoint, n)
		var all []int64
		for i := range n {
			d := a.durs[i]
			slices.Sort(d)
			s.Points[i] = point(r.Start.Add(time.Duration(i)*step), d, a.errs[i], secs)
			all = append(all, d...)
			s.Total.Errors += a.errs[i]
		}
		slices.Sort(all)
		s.Total = point(r.Start, all, s.Total.Errors, r.End.Sub(r.Start).Seconds())
		out.Series = append(out.Series, s)
	}
	slices.SortFunc(out.Series, func(a, b REDSeries) int {
		if c := cmp.Compare(a.Service, b.Service); c != 0 {
			return c
		}
		return cmp.Compare(a.Operation, b.Operation)
	})
	return out, nil
}

func point(t time.Time, sorted []int64, errs int64, secs float64) REDPoint {
	p := REDPoint{Time: t, Count: int64(len(sorted)), Errors: errs,
		P50Nanos: Percentile(sorted, 50), P95Nanos: Percentile(sorted, 95), P99Nanos: Percentile(sorted, 99)}
	if secs > 0 {
		p.Rate = float64(p.Count) / secs
	}
	if p.Count > 0 {
		p.ErrorRate = float64(errs) / float64(p.Count)
	}
	return p
}
