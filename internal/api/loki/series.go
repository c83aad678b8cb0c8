package loki

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// DefaultMaxLabelScan is how many of the newest records in range the label, label values and series
// endpoints read.
const DefaultMaxLabelScan = 100_000

// listResponse is the answer of labels, label values and series.
type listResponse struct {
	Status   string   `json:"status"`
	Data     any      `json:"data"`
	Warnings []string `json:"warnings,omitempty"`
}

// streamSets calls fn with the stream labels of the records in [start, end] that match one of the
// selectors (every record when there is none), once per distinct set, newest records first. It reads at
// most DefaultMaxLabelScan records per selector and reports whether it stopped there.
func (a *API) streamSets(ctx context.Context, selectors [][]*labels.Matcher, start, end time.Time, fn func(ls labelSet)) (bool, error) {
	maxScan := min(a.opts.MaxScan, DefaultMaxLabelScan)
	seen := map[string]bool{}
	truncated := false
	scanOne := func(ms []*labels.Matcher) error {
		q := storage.LogQuery{Start: start, End: end, Order: storage.NewestFirst, Limit: maxScan + 1}
		if len(ms) > 0 {
			var ok bool
			if q, ok = storageQuery(&LogExpr{Matchers: ms}, start, end, storage.NewestFirst); !ok {
				return nil
			}
			q.Limit = maxScan + 1
		}
		read := 0
		var cache resourceCache
		for ld, err := range a.logs.FindLogs(ctx, q) {
			if err != nil {
				return err
			}
			rls := ld.ResourceLogs()
			for i := range rls.Len() {
				rl := rls.At(i)
				rlabels := cache.get(rl.Resource())
				sls := rl.ScopeLogs()
				for j := range sls.Len() {
					recs := sls.At(j).LogRecords()
					for k := range recs.Len() {
						if read == maxScan {
							truncated = true
							return nil
						}
						read++
						ts := query.LogTime(recs.At(k))
						if ts < start.UnixNano() || ts > end.UnixNano() {
							continue
						}
						ls := rlabels.forRecord(recs.At(k).SeverityNumber())
						if !matchStream(ms, ls) {
							continue
						}
						if k := ls.key(); !seen[k] {
							seen[k] = true
							fn(ls)
						}
					}
				}
			}
		}
		return ctx.Err()
	}
	if len(selectors) == 0 {
		return truncated, scanOne(nil)
	}
	for _, ms := range selectors {
		if err := scanOne(ms); err != nil {
			return truncated, err
		}
	}
	return truncated, nil
}

// selectorParam reads an optional query parameter that must be a stream selector (a pipeline is ignored).
func selectorParam(r *http.Request, name string) ([][]*labels.Matcher, *apiError) {
	var out [][]*labels.Matcher
	for _, s := range r.Form[name] {
		if s == "" {
			continue
		}
		e, err := ParseLogQL(s)
		if err != nil {
			return nil, badRequest("invalid parameter %q: %v", name, err)
		}
		le, ok := e.(*LogExpr)
		if !ok {
			return nil, badRequest("invalid parameter %q: %q is not a stream selector", name, truncate(s, 80))
		}
		out = append(out, le.Matchers)
	}
	return out, nil
}

func (a *API) list(data any, truncated bool) listResponse {
	resp := listResponse{Status: "success", Data: data}
	if truncated {
		resp.Warnings = []string{"results cover the newest " + itoa(min(a.opts.MaxScan, DefaultMaxLabelScan)) + " log records in range only"}
	}
	return resp
}

// labelNames serves /loki/api/v1/labels?start=&end=&since=&query=: the sorted names of the stream labels.
func (a *API) labelNames(ctx context.Context, r *http.Request) (any, *apiError) {
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	sel, aerr := selectorParam(r, "query")
	if aerr != nil {
		return nil, aerr
	}
	names := map[string]bool{}
	truncated, err := a.streamSets(ctx, sel, start, end, func(ls labelSet) {
		for _, l := range ls {
			names[l.Name] = true
		}
	})
	if err != nil {
		return nil, &apiError{err: err}
	}
	return a.list(sortedKeys(names), truncated), nil
}

// labelValues serves /loki/api/v1/label/{name}/values?start=&end=&since=&query=.
func (a *API) labelValues(ctx context.Context, r *http.Request) (any, *apiError) {
	name := r.PathValue("name")
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	sel, aerr := selectorParam(r, "query")
	if aerr != nil {
		return nil, aerr
	}
	values := map[string]bool{}
	truncated, err := a.streamSets(ctx, sel, start, end, func(ls labelSet) {
		if v, ok := ls.get(name); ok {
			values[v] = true
		}
	})
	if err != nil {
		return nil, &apiError{err: err}
	}
	return a.list(sortedKeys(values), truncated), nil
}

// series serves /loki/api/v1/series?match[]=&start=&end=&since=: the distinct stream label sets.
func (a *API) series(ctx context.Context, r *http.Request) (any, *apiError) {
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	sel, aerr := selectorParam(r, "match[]")
	if aerr != nil {
		return nil, aerr
	}
	more, aerr := selectorParam(r, "match")
	if aerr != nil {
		return nil, aerr
	}
	sel = append(sel, more...)
	if len(sel) == 0 {
		return nil, badRequest("invalid parameter \"match[]\": at least one stream selector is needed")
	}
	var sets []labelSet
	truncated, err := a.streamSets(ctx, sel, start, end, func(ls labelSet) { sets = append(sets, ls) })
	if err != nil {
		return nil, &apiError{err: err}
	}
	slices.SortFunc(sets, func(x, y labelSet) int { return strings.Compare(x.key(), y.key()) })
	out := make([]map[string]string, 0, len(sets))
	seen := map[string]bool{}
	for _, ls := range sets {
		if k := ls.key(); !seen[k] { // the same set may match two selectors
			seen[k] = true
			out = append(out, ls.toMap())
		}
	}
	return a.list(out, truncated), nil
}

// indexStatsResponse is the answer of /loki/api/v1/index/stats.
type indexStatsResponse struct {
	Streams int   `json:"streams"`
	Chunks  int   `json:"chunks"`
	Entries int64 `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

// indexStats serves /loki/api/v1/index/stats?query=&start=&end=: how many streams, entries and bytes of
// lines the selector covers (chunks is always 0: otlpd has none).
func (a *API) indexStats(ctx context.Context, r *http.Request) (any, *apiError) {
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := parseQuery(r)
	if aerr != nil {
		return nil, aerr
	}
	le, ok := e.(*LogExpr)
	if !ok {
		return nil, badRequest("invalid parameter \"query\": index/stats needs a stream selector")
	}
	var st scanStats
	streams := map[string]bool{}
	var resp indexStatsResponse
	sel := &LogExpr{Matchers: le.Matchers}
	err := a.scan(ctx, sel, start.UnixNano(), end.UnixNano(), storage.NewestFirst, 0, &st, func(e *entry) bool {
		streams[e.stream.key()] = true
		resp.Entries++
		resp.Bytes += int64(len(e.line))
		return true
	})
	if err != nil {
		return nil, &apiError{err: err}
	}
	resp.Streams = len(streams)
	return resp, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
