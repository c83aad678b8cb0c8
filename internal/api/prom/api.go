// Package prom serves the Prometheus HTTP API (/api/v1/...) over otlpd's metrics: PromQL instant and range
// queries, series, label names and values, metadata, exemplars and build information, so that Grafana's
// Prometheus data source works unchanged; /federate, so that a Prometheus server can scrape what otlpd holds;
// and a remote-write (v1) receiver at /api/v1/write.
//
// Responses use the Prometheus envelope {"status","data","errorType","error","warnings","infos"} with the
// status codes of the Prometheus API: 400 bad_data, 422 execution, 503 timeout or canceled, 500 internal,
// 404 not_found. Every query endpoint that Grafana may POST to accepts GET and form-encoded POST.
package prom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// BuildInfo is what /api/v1/status/buildinfo reports.
type BuildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// Options configures the API.
type Options struct {
	Queryable storage.Queryable
	Exemplars storage.ExemplarQueryable // nil: query_exemplars returns nothing
	// Metadata returns the metadata of every metric family; nil: /api/v1/metadata returns nothing.
	Metadata func() map[string]metadata.Metadata
	// Appender opens an appender for remote write; nil: /api/v1/write answers 404.
	Appender func(ctx context.Context) storage.AppenderV2
	Build    BuildInfo
	Logger   *slog.Logger // nil: discard
	// Rules answers /api/v1/rules and /api/v1/alerts; nil: no rules (empty answers).
	Rules RuleSource

	Timeout       time.Duration // per query, and the most a client's timeout may ask; 0: 2 minutes
	MaxSamples    int           // samples a query may hold in memory; 0: 50,000,000
	LookbackDelta time.Duration // 0: 5 minutes
	MaxWriteBytes int           // remote-write body after decompression; 0: 32 MiB
	Now           func() time.Time
}

// API is the Prometheus HTTP API. Safe for concurrent use.
type API struct {
	opts   Options
	engine *promql.Engine
	parser parser.Parser
	log    *slog.Logger
	mux    *http.ServeMux
}

// New returns the API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = 50_000_000
	}
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = 5 * time.Minute
	}
	if opts.MaxWriteBytes <= 0 {
		opts.MaxWriteBytes = 32 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := parser.NewParser(parser.Options{})
	a := &API{
		opts: opts,
		engine: promql.NewEngine(promql.EngineOpts{
			Logger:                   opts.Logger.With("component", "promql"),
			MaxSamples:               opts.MaxSamples,
			Timeout:                  opts.Timeout,
			LookbackDelta:            opts.LookbackDelta,
			NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
			EnableAtModifier:         true,
			EnableNegativeOffset:     true,
			Parser:                   p,
		}),
		parser: p,
		log:    opts.Logger,
		mux:    http.NewServeMux(),
	}
	a.route("/api/v1/query", a.query)
	a.route("/api/v1/query_range", a.queryRange)
	a.route("/api/v1/series", a.series)
	a.route("/api/v1/labels", a.labelNames)
	a.route("/api/v1/label/{name}/values", a.labelValues)
	a.route("/api/v1/metadata", a.metadata)
	a.route("/api/v1/query_exemplars", a.queryExemplars)
	a.route("/api/v1/status/buildinfo", a.buildInfo)
	a.route("/api/v1/rules", a.rulesList)
	a.route("/api/v1/alerts", a.alertsList)
	a.mux.HandleFunc("POST /api/v1/write", a.remoteWrite)
	a.mux.HandleFunc("GET /federate", a.federate)
	a.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiError{typ: errNotFound, err: fmt.Errorf("no API endpoint %s %s", r.Method, r.URL.Path)})
	})
	return a
}

// ServeHTTP serves /api/v1/... and /federate.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Engine is the PromQL engine (for the UI and the CLI).
func (a *API) Engine() *promql.Engine { return a.engine }

func (a *API) route(path string, h func(r *http.Request) (any, []string, []string, *apiError)) {
	f := func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(w, apiError{typ: errBadData, err: fmt.Errorf("parse form: %w", err)})
			return
		}
		data, warns, infos, aerr := h(r)
		if aerr != nil {
			writeError(w, *aerr)
			return
		}
		writeJSON(w, http.StatusOK, envelope{Status: "success", Data: data, Warnings: warns, Infos: infos})
	}
	a.mux.HandleFunc("GET "+path, f)
	a.mux.HandleFunc("POST "+path, f)
}

type errorType string

const (
	errBadData     errorType = "bad_data"
	errExec        errorType = "execution"
	errTimeout     errorType = "timeout"
	errCanceled    errorType = "canceled"
	errInternal    errorType = "internal"
	errNotFound    errorType = "not_found"
	errUnavailable errorType = "unavailable"
)

type apiError struct {
	typ errorType
	err error
}

func badData(format string, args ...any) *apiError {
	return &apiError{typ: errBadData, err: fmt.Errorf(format, args...)}
}

type envelope struct {
	Status    string    `json:"status"`
	Data      any       `json:"data,omitempty"`
	ErrorType errorType `json:"errorType,omitempty"`
	Error     string    `json:"error,omitempty"`
	Warnings  []string  `json:"warnings,omitempty"`
	Infos     []string  `json:"infos,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"status":"error","errorType":"internal","error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e apiError) {
	code := http.StatusInternalServerError
	switch e.typ {
	case errBadData:
		code = http.StatusBadRequest
	case errExec:
		code = http.StatusUnprocessableEntity
	case errTimeout, errCanceled, errUnavailable:
		code = http.StatusServiceUnavailable
	case errNotFound:
		code = http.StatusNotFound
	}
	msg := e.err.Error()
	switch e.typ {
	case errInternal:
		// Never send internal details to a client.
		msg = "internal error"
	case errUnavailable:
		msg = "the metrics store is unavailable"
	}
	writeJSON(w, code, envelope{Status: "error", ErrorType: e.typ, Error: msg})
}

// parseTime parses RFC3339 or decimal unix seconds.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || f > float64(maxTimeT.Unix()) || f < float64(minTimeT.Unix()) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// The time range a client may name (and the default of open ranges): what milliseconds in an int64 hold.
var (
	minTimeT = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTimeT = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
)

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, *apiError) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, badData("invalid parameter %q: %v", name, err)
	}
	return t, nil
}

// parseDuration parses float seconds or a Prometheus duration (5m, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ts := f * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) || math.IsNaN(ts) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration: it overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

func parseLimit(r *http.Request) (int, *apiError) {
	s := r.FormValue("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badData("invalid parameter \"limit\": %q is not a non-negative integer", s)
	}
	return n, nil
}

// queryContext applies the client's timeout (bounded by the server's).
func (a *API) queryContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	timeout := a.opts.Timeout
	if s := r.FormValue("timeout"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, nil, badData("invalid parameter \"timeout\": %v", err)
		}
		if d > 0 && d < timeout {
			timeout = d
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}

func (a *API) queryOpts(r *http.Request) (promql.QueryOpts, *apiError) {
	var lookback time.Duration
	if s := r.FormValue("lookback_delta"); s != "" {
		d, err := parseDuration(s)
		if err != nil || d < 0 {
			return nil, badData("invalid parameter \"lookback_delta\": %q", s)
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(r.FormValue("stats") == "all", lookback, nil), nil
}

func (a *API) query(r *http.Request) (any, []string, []string, *apiError) {
	qs := r.FormValue("query")
	if qs == "" {
		return nil, nil, nil, badData("invalid parameter \"query\": it is empty")
	}
	ts, aerr := parseTimeParam(r, "time", a.opts.Now())
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	ctx, cancel, aerr := a.queryContext(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	defer cancel()
	opts, aerr := a.queryOpts(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	q, err := a.engine.NewInstantQuery(ctx, a.opts.Queryable, opts, qs, ts)
	if err != nil {
		return nil, nil, nil, badData("invalid parameter \"query\": %v", err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, nil, nil, queryError(res.Err)
	}
	warns, infos := res.Warnings.AsStrings(qs, 10, 10)
	if limit > 0 {
		if v, ok := res.Value.(promql.Vector); ok && len(v) > limit {
			slices.SortFunc(v, func(a, b promql.Sample) int { return labels.Compare(a.Metric, b.Metric) })
			res.Value = v[:limit]
			warns = append(warns, fmt.Sprintf("results truncated due to limit of %d", limit))
		}
	}
	return queryData{ResultType: res.Value.Type(), Result: resultJSON{res.Value}}, warns, infos, nil
}

func (a *API) queryRange(r *http.Request) (any, []string, []string, *apiError) {
	qs := r.FormValue("query")
	if qs == "" {
		return nil, nil, nil, badData("invalid parameter \"query\": it is empty")
	}
	if r.FormValue("start") == "" || r.FormValue("end") == "" || r.FormValue("step") == "" {
		return nil, nil, nil, badData("query_range needs the parameters start, end and step")
	}
	start, aerr := parseTimeParam(r, "start", time.Time{})
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	end, aerr := parseTimeParam(r, "end", time.Time{})
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	if end.Before(start) {
		return nil, nil, nil, badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return nil, nil, nil, badData("invalid parameter \"step\": %v", err)
	}
	if step <= 0 {
		return nil, nil, nil, badData("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	// Like Prometheus: at most 11,000 points per series.
	if end.Sub(start)/step > 11000 {
		return nil, nil, nil, badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	ctx, cancel, aerr := a.queryContext(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	defer cancel()
	opts, aerr := a.queryOpts(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	q, err := a.engine.NewRangeQuery(ctx, a.opts.Queryable, opts, qs, start, end, step)
	if err != nil {
		return nil, nil, nil, badData("invalid parameter \"query\": %v", err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, nil, nil, queryError(res.Err)
	}
	warns, infos := res.Warnings.AsStrings(qs, 10, 10)
	return queryData{ResultType: res.Value.Type(), Result: resultJSON{res.Value}}, warns, infos, nil
}

func queryError(err error) *apiError {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		stErr    promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{typ: errCanceled, err: err}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{typ: errTimeout, err: err}
	case errors.As(err, &stErr):
		return &apiError{typ: errInternal, err: err}
	}
	return &apiError{typ: errExec, err: err}
}

type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     resultJSON       `json:"result"`
}

// matchers parses the match[] parameters.
func (a *API) matchers(r *http.Request) ([][]*labels.Matcher, *apiError) {
	var out [][]*labels.Matcher
	for _, s := range r.Form["match[]"] {
		ms, err := a.parser.ParseMetricSelector(s)
		if err != nil {
			return nil, badData("invalid parameter \"match[]\": %v", err)
		}
		out = append(out, ms)
	}
	return out, nil
}

func (a *API) timeRange(r *http.Request) (time.Time, time.Time, *apiError) {
	start, aerr := parseTimeParam(r, "start", minTimeT)
	if aerr != nil {
		return start, start, aerr
	}
	end, aerr := parseTimeParam(r, "end", maxTimeT)
	if aerr != nil {
		return start, end, aerr
	}
	if end.Before(start) {
		return start, end, badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	return start, end, nil
}

func (a *API) series(r *http.Request) (any, []string, []string, *apiError) {
	sets, aerr := a.matchers(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	if len(sets) == 0 {
		return nil, nil, nil, badData("no match[] parameter provided")
	}
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	q, err := a.opts.Queryable.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, nil, nil, &apiError{typ: errUnavailable, err: err}
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: start.UnixMilli(), End: end.UnixMilli(), Func: "series", Limit: limit}
	var set storage.SeriesSet
	if len(sets) == 1 {
		set = q.Select(r.Context(), false, hints, sets[0]...)
	} else {
		var ss []storage.SeriesSet
		for _, ms := range sets {
			ss = append(ss, q.Select(r.Context(), true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(ss, 0, storage.ChainedSeriesMerge)
	}
	out := []labels.Labels{}
	var warns []string
	for set.Next() {
		if limit > 0 && len(out) >= limit {
			warns = append(warns, fmt.Sprintf("results truncated due to limit of %d", limit))
			break
		}
		out = append(out, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return nil, nil, nil, &apiError{typ: errExec, err: err}
	}
	w, i := set.Warnings().AsStrings("", 10, 10)
	return out, append(warns, w...), i, nil
}

func (a *API) labelNames(r *http.Request) (any, []string, []string, *apiError) {
	return a.labelQuery(r, func(ctx context.Context, q storage.Querier, h *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(ctx, h, ms...)
	})
}

func (a *API) labelValues(r *http.Request) (any, []string, []string, *apiError) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if name == "" || !utf8Valid(name) {
		return nil, nil, nil, badData("invalid label name: %q", r.PathValue("name"))
	}
	return a.labelQuery(r, func(ctx context.Context, q storage.Querier, h *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(ctx, name, h, ms...)
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

type labelFunc func(ctx context.Context, q storage.Querier, h *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error)

// labelQuery runs f once per match[] (once with no matcher when there is none) and merges the results.
func (a *API) labelQuery(r *http.Request, f labelFunc) (any, []string, []string, *apiError) {
	sets, aerr := a.matchers(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	q, err := a.opts.Queryable.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, nil, nil, &apiError{typ: errUnavailable, err: err}
	}
	defer q.Close()
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	hints := &storage.LabelHints{Limit: limit}
	seen := map[string]struct{}{}
	var annots annotations.Annotations
	for _, ms := range sets {
		vals, an, err := f(r.Context(), q, hints, ms)
		if err != nil {
			return nil, nil, nil, &apiError{typ: errExec, err: err}
		}
		annots.Merge(an)
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	warns, infos := annots.AsStrings("", 10, 10)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
		warns = append(warns, fmt.Sprintf("results truncated due to limit of %d", limit))
	}
	return out, warns, infos, nil
}

type metadataJSON struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

func (a *API) metadata(r *http.Request) (any, []string, []string, *apiError) {
	limit, aerr := parseLimit(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	metric := r.FormValue("metric")
	out := map[string][]metadataJSON{}
	if a.opts.Metadata == nil {
		return out, nil, nil, nil
	}
	all := a.opts.Metadata()
	names := make([]string, 0, len(all))
	for n := range all {
		if metric == "" || n == metric {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if limit > 0 && len(out) >= limit {
			break
		}
		m := all[n]
		out[n] = []metadataJSON{{Type: string(m.Type), Help: m.Help, Unit: m.Unit}}
	}
	return out, nil, nil, nil
}

type exemplarJSON struct {
	Labels    labels.Labels `json:"labels"`
	Value     string        `json:"value"`
	Timestamp json.Number   `json:"timestamp"`
}

type exemplarSeriesJSON struct {
	SeriesLabels labels.Labels  `json:"seriesLabels"`
	Exemplars    []exemplarJSON `json:"exemplars"`
}

func (a *API) queryExemplars(r *http.Request) (any, []string, []string, *apiError) {
	qs := r.FormValue("query")
	if qs == "" {
		return nil, nil, nil, badData("invalid parameter \"query\": it is empty")
	}
	start, end, aerr := a.timeRange(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	expr, err := a.parser.ParseExpr(qs)
	if err != nil {
		return nil, nil, nil, badData("invalid parameter \"query\": %v", err)
	}
	out := []exemplarSeriesJSON{}
	if a.opts.Exemplars == nil {
		return out, nil, nil, nil
	}
	selectors := parser.ExtractSelectors(expr)
	if len(selectors) == 0 {
		return out, nil, nil, nil
	}
	eq, err := a.opts.Exemplars.ExemplarQuerier(r.Context())
	if err != nil {
		return nil, nil, nil, &apiError{typ: errUnavailable, err: err}
	}
	res, err := eq.Select(start.UnixMilli(), end.UnixMilli(), selectors...)
	if err != nil {
		return nil, nil, nil, &apiError{typ: errExec, err: err}
	}
	for _, s := range res {
		es := exemplarSeriesJSON{SeriesLabels: s.SeriesLabels, Exemplars: []exemplarJSON{}}
		for _, e := range s.Exemplars {
			es.Exemplars = append(es.Exemplars, exemplarJSON{Labels: e.Labels, Value: formatFloat(e.Value), Timestamp: json.Number(formatTime(e.Ts))})
		}
		out = append(out, es)
	}
	return out, nil, nil, nil
}

func (a *API) buildInfo(*http.Request) (any, []string, []string, *apiError) {
	return a.opts.Build, nil, nil, nil
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// formatTime writes a millisecond timestamp as decimal seconds.
func formatTime(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

// resultJSON encodes a PromQL value in the shapes of the Prometheus API.
type resultJSON struct{ v parser.Value }

func (r resultJSON) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 256)
	switch v := r.v.(type) {
	case promql.Scalar:
		b = appendPoint(b, v.T, v.V)
	case promql.String:
		b = append(b, '[')
		b = append(b, formatTime(v.T)...)
		b = append(b, ',')
		b = appendString(b, v.V)
		b = append(b, ']')
	case promql.Vector:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"metric":`...)
			b = appendLabels(b, s.Metric)
			if s.H != nil {
				b = append(b, `,"histogram":`...)
				b = appendHistogramPoint(b, s.T, s.H)
			} else {
				b = append(b, `,"value":`...)
				b = appendPoint(b, s.T, s.F)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	case promql.Matrix:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"metric":`...)
			b = appendLabels(b, s.Metric)
			if len(s.Floats) > 0 {
				b = append(b, `,"values":[`...)
				for j, p := range s.Floats {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendPoint(b, p.T, p.F)
				}
				b = append(b, ']')
			}
			if len(s.Histograms) > 0 {
				b = append(b, `,"histograms":[`...)
				for j, p := range s.Histograms {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendHistogramPoint(b, p.T, p.H)
				}
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	default:
		return nil, fmt.Errorf("BUG: unknown PromQL value type %T", r.v)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

func appendPoint(b []byte, t int64, v float64) []byte {
	b = append(b, '[')
	b = append(b, formatTime(t)...)
	b = append(b, ',', '"')
	b = append(b, formatFloat(v)...)
	return append(b, '"', ']')
}

// appendHistogramPoint writes [t,{"count":"..","sum":"..","buckets":[[rule,"lower","upper","count"],..]}].
// The boundary rule is 0 for (lower, upper], 1 for [lower, upper), 2 for (lower, upper) and 3 for
// [lower, upper].
func appendHistogramPoint(b []byte, t int64, h *histogram.FloatHistogram) []byte {
	b = append(b, '[')
	b = append(b, formatTime(t)...)
	b = append(b, `,{"count":"`...)
	b = append(b, formatFloat(h.Count)...)
	b = append(b, `","sum":"`...)
	b = append(b, formatFloat(h.Sum)...)
	b = append(b, '"')
	first := true
	it := h.AllBucketIterator()
	for it.Next() {
		bk := it.At()
		if bk.Count == 0 {
			continue
		}
		if first {
			b = append(b, `,"buckets":[`...)
		} else {
			b = append(b, ',')
		}
		first = false
		rule := 0
		switch {
		case bk.LowerInclusive && bk.UpperInclusive:
			rule = 3
		case bk.LowerInclusive:
			rule = 1
		case !bk.UpperInclusive:
			rule = 2
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(rule), 10)
		b = append(b, ',', '"')
		b = append(b, formatFloat(bk.Lower)...)
		b = append(b, `","`...)
		b = append(b, formatFloat(bk.Upper)...)
		b = append(b, `","`...)
		b = append(b, formatFloat(bk.Count)...)
		b = append(b, '"', ']')
	}
	if !first {
		b = append(b, ']')
	}
	return append(b, '}', ']')
}
