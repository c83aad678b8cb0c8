package loki

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultVolumeLimit is how many series index/volume answers without limit.
const DefaultVolumeLimit = 100

// volumeParams reads what index/volume and index/volume_range share: the selector, the labels to group by
// (targetLabels, else the labels the selector names) and limit.
func (a *API) volumeParams(r *http.Request) (*LogExpr, *VectorAgg, int, *apiError) {
	e, aerr := parseQuery(r)
	if aerr != nil {
		return nil, nil, 0, aerr
	}
	le, ok := e.(*LogExpr)
	if !ok {
		return nil, nil, 0, badRequest("invalid parameter \"query\": the volume endpoints need a stream selector")
	}
	switch r.FormValue("aggregateBy") {
	case "", "series":
	default:
		return nil, nil, 0, badRequest("invalid parameter \"aggregateBy\": otlpd supports series only, not %q", truncate(r.FormValue("aggregateBy"), 40))
	}
	group := &VectorAgg{Op: "sum", Grouping: []string{}}
	if t := r.FormValue("targetLabels"); t != "" {
		for n := range strings.SplitSeq(t, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(group.Grouping, n) {
				group.Grouping = append(group.Grouping, n)
			}
		}
	} else {
		for _, m := range le.Matchers {
			if !slices.Contains(group.Grouping, m.Name) {
				group.Grouping = append(group.Grouping, m.Name)
			}
		}
	}
	limit := DefaultVolumeLimit
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, nil, 0, badRequest("invalid parameter \"limit\": %q is not a positive integer", truncate(s, 40))
		}
		limit = min(n, a.opts.MaxSeries)
	}
	// The pipeline, if any, is not part of a volume query: only the selector counts.
	return &LogExpr{Matchers: le.Matchers}, group, limit, nil
}

// volume serves /loki/api/v1/index/volume?query=&start=&end=&limit=&targetLabels=&aggregateBy=series: the
// bytes of lines in [start, end] per group, largest first, as a vector at end.
func (a *API) volume(ctx context.Context, r *http.Request) (any, *apiError) {
	le, group, limit, aerr := a.volumeParams(r)
	if aerr != nil {
		return nil, aerr
	}
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	ev := &evaluator{a: a, ctx: ctx, start: end.UnixNano(), n: 1}
	window := end.Sub(start)
	if window < math.MaxInt64 {
		window++ // the window (end-window, end] then holds start
	}
	v, aerr := ev.rangeAgg(&RangeAgg{Op: "bytes_over_time", Log: le, Range: window}, group)
	if aerr != nil {
		return nil, aerr
	}
	return a.volumeAnswer(ev, v.m, limit, false), nil
}

// volumeRange serves /loki/api/v1/index/volume_range (the parameters of volume and step): the bytes of
// lines per group in each step, as a matrix of the limit groups with the most bytes.
func (a *API) volumeRange(ctx context.Context, r *http.Request) (any, *apiError) {
	le, group, limit, aerr := a.volumeParams(r)
	if aerr != nil {
		return nil, aerr
	}
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, aerr
	}
	step := defaultStep(start, end)
	if s := r.FormValue("step"); s != "" {
		d, err := parseDuration(s)
		if err != nil || d <= 0 {
			return nil, badRequest("invalid parameter \"step\": %q is not a positive duration", truncate(s, 40))
		}
		step = d
	}
	if end.Sub(start)/step >= MaxPoints {
		return nil, badRequest("step %s gives more than %d points over %s; increase step", step, MaxPoints, end.Sub(start))
	}
	ev := &evaluator{a: a, ctx: ctx, start: start.UnixNano(), step: int64(step), n: int(end.Sub(start)/step) + 1}
	v, aerr := ev.rangeAgg(&RangeAgg{Op: "bytes_over_time", Log: le, Range: step}, group)
	if aerr != nil {
		return nil, aerr
	}
	return a.volumeAnswer(ev, v.m, limit, true), nil
}

// topByTotal orders series by their total over the steps, largest first, then by labels.
func topByTotal(ss []*series) {
	total := func(s *series) float64 {
		t := 0.0
		for i, ok := range s.has {
			if ok {
				t += s.vals[i]
			}
		}
		return t
	}
	slices.SortFunc(ss, func(x, y *series) int {
		if c := cmp.Compare(total(y), total(x)); c != 0 {
			return c
		}
		return strings.Compare(x.ls.key(), y.ls.key())
	})
}

func (a *API) volumeAnswer(ev *evaluator, ss []*series, limit int, isRange bool) queryResponse {
	topByTotal(ss)
	ss = ss[:min(limit, len(ss))]
	resp := queryResponse{Status: "success", Data: queryData{Stats: ev.st.summary(time.Now(), 0)}}
	if ev.st.truncated {
		resp.Warnings = append(resp.Warnings, a.truncatedWarning())
	}
	if isRange {
		out := []matrixSeries{}
		for _, s := range ss {
			ms := matrixSeries{Metric: s.ls.toMap()}
			for i := range ev.n {
				if s.has[i] {
					ms.Values = append(ms.Values, point{ev.at(i), s.vals[i]})
				}
			}
			out = append(out, ms)
		}
		resp.Data.ResultType, resp.Data.Result = "matrix", out
		return resp
	}
	out := []vectorSample{}
	for _, s := range ss {
		if s.has[0] {
			out = append(out, vectorSample{Metric: s.ls.toMap(), Value: point{ev.start, s.vals[0]}})
		}
	}
	resp.Data.ResultType, resp.Data.Result = "vector", out
	return resp
}
