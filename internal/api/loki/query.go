package loki

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// categorizeHeader is the request header with which a client (Grafana) asks for stream labels, structured
// metadata and parsed labels apart, as a third element of each value.
const (
	categorizeHeader = "X-Loki-Response-Encoding-Flags"
	categorizeFlag   = "categorize-labels"
)

// queryResponse is the answer of query and query_range.
type queryResponse struct {
	Status   string    `json:"status"`
	Data     queryData `json:"data"`
	Warnings []string  `json:"warnings,omitempty"`
}

type queryData struct {
	ResultType    string   `json:"resultType"`
	Result        any      `json:"result"`
	Stats         stats    `json:"stats"`
	EncodingFlags []string `json:"encodingFlags,omitempty"`
}

// stats is the summary of the statistics Loki reports; otlpd fills what it measures.
type stats struct {
	Summary statsSummary `json:"summary"`
}

type statsSummary struct {
	BytesProcessedPerSecond int64   `json:"bytesProcessedPerSecond"`
	LinesProcessedPerSecond int64   `json:"linesProcessedPerSecond"`
	TotalBytesProcessed     int64   `json:"totalBytesProcessed"`
	TotalLinesProcessed     int64   `json:"totalLinesProcessed"`
	ExecTime                float64 `json:"execTime"`
	QueueTime               float64 `json:"queueTime"`
	Subqueries              int     `json:"subqueries"`
	TotalEntriesReturned    int     `json:"totalEntriesReturned"`
	Splits                  int     `json:"splits"`
	Shards                  int     `json:"shards"`
}

// scanStats counts what a scan read.
type scanStats struct {
	lines, bytes int64
	truncated    bool // the scan stopped at MaxScan records
}

func (s *scanStats) summary(began time.Time, entries int) stats {
	el := time.Since(began)
	sum := statsSummary{TotalBytesProcessed: s.bytes, TotalLinesProcessed: s.lines, ExecTime: el.Seconds(),
		Subqueries: 1, TotalEntriesReturned: entries}
	if secs := el.Seconds(); secs > 0 {
		sum.BytesProcessedPerSecond = int64(float64(s.bytes) / secs)
		sum.LinesProcessedPerSecond = int64(float64(s.lines) / secs)
	}
	return stats{Summary: sum}
}

func (a *API) truncatedWarning() string {
	return "results are incomplete: the query read the limit of " + strconv.Itoa(a.opts.MaxScan) + " log records; narrow the time range or the stream selector"
}

// scan reads the records of le's streams with times in [lo, hi] (Unix nanoseconds), in order, and calls fn
// with each entry the pipeline keeps until fn returns false. It reads at most MaxScan records; want > 0 says
// that fn stops after want entries, which lets the storage stop there too when it evaluates the whole query.
func (a *API) scan(ctx context.Context, le *LogExpr, lo, hi int64, order storage.Order, want int, st *scanStats, fn func(e *entry) bool) error {
	q, ok := storageQuery(le, time.Unix(0, lo), time.Unix(0, hi), order)
	if !ok {
		return nil
	}
	q.Limit = a.opts.MaxScan + 1
	if want > 0 && want < q.Limit && storageEvaluatesAll(le) {
		q.Limit = want
	}
	var e entry
	var cache resourceCache
	read := 0
	for ld, err := range a.logs.FindLogs(ctx, q) {
		if err != nil {
			return err
		}
		rls := ld.ResourceLogs()
		for i := range rls.Len() {
			rl := rls.At(i)
			var rlabels *resourceLabels
			sls := rl.ScopeLogs()
			for j := range sls.Len() {
				recs := sls.At(j).LogRecords()
				for k := range recs.Len() {
					if read == a.opts.MaxScan {
						st.truncated = true
						return nil
					}
					read++
					rec := recs.At(k)
					ts := query.LogTime(rec)
					if ts < lo || ts > hi {
						continue
					}
					if rlabels == nil {
						rlabels = cache.get(rl.Resource())
					}
					sl := rlabels.forRecord(rec.SeverityNumber())
					if !matchStream(le.Matchers, sl) {
						continue
					}
					line := lineOf(rec)
					st.lines++
					st.bytes += int64(len(line))
					e.reset(ts, line, sl, rec)
					if !run(le.Stages, &e) {
						continue
					}
					if !fn(&e) {
						return nil
					}
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// streamOut is one stream of a log query's answer.
type streamOut struct {
	Stream map[string]string `json:"stream"`
	Values []valueOut        `json:"values"`
}

// valueOut is [ "<Unix ns>", "<line>" ] or, with categorized labels, [ "<ns>", "<line>", {...} ].
type valueOut struct {
	ts         int64
	line       string
	metadata   labelSet
	parsed     labelSet
	categorize bool
}

func (v valueOut) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(v.line)+40)
	b = append(b, `["`...)
	b = strconv.AppendInt(b, v.ts, 10)
	b = append(b, `",`...)
	lb, err := json.Marshal(v.line)
	if err != nil {
		return nil, err
	}
	b = append(b, lb...)
	if v.categorize {
		extra := map[string]map[string]string{}
		if len(v.metadata) > 0 {
			extra["structuredMetadata"] = v.metadata.toMap()
		}
		if len(v.parsed) > 0 {
			extra["parsed"] = v.parsed.toMap()
		}
		eb, err := json.Marshal(extra)
		if err != nil {
			return nil, err
		}
		b = append(b, ',')
		b = append(b, eb...)
	}
	return append(b, ']'), nil
}

// logQuery answers a log query: at most limit entries in [start, end), grouped in streams.
func (a *API) logQuery(ctx context.Context, le *LogExpr, start, end time.Time, limit int, order storage.Order, categorize bool) (queryResponse, *apiError) {
	began := time.Now()
	var st scanStats
	var streams []*streamOut
	index := map[string]int{}
	n := 0
	err := a.scan(ctx, le, start.UnixNano(), end.UnixNano()-1, order, limit, &st, func(e *entry) bool {
		v := valueOut{ts: e.ts, line: e.line, categorize: categorize}
		var ls labelSet
		if categorize {
			ls = e.visibleStream()
			v.metadata = e.visibleMetadata()
			v.parsed = e.parsed()
		} else {
			ls = e.seriesLabels()
		}
		key := ls.key()
		i, ok := index[key]
		if !ok {
			i = len(streams)
			index[key] = i
			streams = append(streams, &streamOut{Stream: ls.toMap()})
		}
		streams[i].Values = append(streams[i].Values, v)
		n++
		return n < limit
	})
	if err != nil {
		return queryResponse{}, &apiError{err: err}
	}
	resp := queryResponse{Status: "success", Data: queryData{ResultType: "streams", Result: nonNil(streams), Stats: st.summary(began, n)}}
	if categorize {
		resp.Data.EncodingFlags = []string{categorizeFlag}
	}
	if st.truncated {
		resp.Warnings = append(resp.Warnings, a.truncatedWarning())
	}
	return resp, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func wantsCategorized(r *http.Request) bool {
	for _, v := range r.Header.Values(categorizeHeader) {
		for f := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(f) == categorizeFlag {
				return true
			}
		}
	}
	return false
}

// queryRange serves /loki/api/v1/query_range: query, start, end, since, limit, direction, step (interval is
// accepted and ignored).
func (a *API) queryRange(ctx context.Context, r *http.Request) (any, *apiError) {
	e, aerr := parseQuery(r)
	if aerr != nil {
		return nil, aerr
	}
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	if le, ok := e.(*LogExpr); ok {
		limit, aerr := a.limitParam(r)
		if aerr != nil {
			return nil, aerr
		}
		order, aerr := directionParam(r)
		if aerr != nil {
			return nil, aerr
		}
		return a.logQuery(ctx, le, start, end, limit, order, wantsCategorized(r))
	}
	step := defaultStep(start, end)
	if s := r.FormValue("step"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, badRequest("invalid parameter \"step\": %v", err)
		}
		if d <= 0 {
			return nil, badRequest("invalid parameter \"step\": it must be positive")
		}
		step = d
	}
	if end.Sub(start)/step >= MaxPoints {
		return nil, badRequest("step %s gives more than %d points over %s; increase step", step, MaxPoints, end.Sub(start))
	}
	return a.metricQuery(ctx, e, start, end, step, true)
}

// defaultStep is Loki's: the range divided in 250, in whole seconds, at least one second.
func defaultStep(start, end time.Time) time.Duration {
	return max(end.Sub(start)/250/time.Second*time.Second, time.Second)
}

// query serves /loki/api/v1/query: an instant metric query at time (default now).
func (a *API) query(ctx context.Context, r *http.Request) (any, *apiError) {
	e, aerr := parseQuery(r)
	if aerr != nil {
		return nil, aerr
	}
	t, aerr := timeParam(r, "time", a.opts.Now())
	if aerr != nil {
		return nil, aerr
	}
	if le, ok := e.(*LogExpr); ok {
		// A log query at an instant looks back like a range query ending then.
		limit, aerr := a.limitParam(r)
		if aerr != nil {
			return nil, aerr
		}
		order, aerr := directionParam(r)
		if aerr != nil {
			return nil, aerr
		}
		return a.logQuery(ctx, le, t.Add(-DefaultLookback), t, limit, order, wantsCategorized(r))
	}
	return a.metricQuery(ctx, e, t, t, 0, false)
}
