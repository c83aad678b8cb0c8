package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/otlpd/otlpd/internal/storage"
)

// Defaults and limits of the API.
const (
	DefaultLookback   = time.Hour        // a query without start looks this far back from end, as Loki does
	DefaultTimeout    = 30 * time.Second // per request
	DefaultLimit      = 100              // entries of a log query without limit
	DefaultMaxEntries = 5000             // the largest limit a log query may ask for
	DefaultMaxScan    = 1 << 20          // records one metric, label or series query reads
	DefaultMaxSeries  = 10_000           // series a metric query may produce
	MaxPoints         = 11_000           // steps of a range query
	MaxSamples        = 10_000_000       // series times steps a range aggregation may hold (8 bytes each)
)

// BuildInfo is what /loki/api/v1/status/buildinfo reports.
type BuildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// Options configures the API. Zero fields take the defaults above.
type Options struct {
	Logger     *slog.Logger // nil: discard
	Now        func() time.Time
	Timeout    time.Duration
	MaxEntries int
	MaxScan    int
	MaxSeries  int
	Build      BuildInfo
}

// API serves the Loki HTTP API from a log reader. Safe for concurrent use.
type API struct {
	logs storage.LogReader
	opts Options
	log  *slog.Logger
}

// New returns an API reading logs from logs.
func New(logs storage.LogReader, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxScan <= 0 {
		opts.MaxScan = DefaultMaxScan
	}
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	return &API{logs: logs, opts: opts, log: opts.Logger}
}

// Register adds the routes under /loki/api/v1/ and /ready to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.route(mux, "/loki/api/v1/query", a.query)
	a.route(mux, "/loki/api/v1/query_range", a.queryRange)
	a.route(mux, "/loki/api/v1/labels", a.labelNames)
	a.route(mux, "/loki/api/v1/label", a.labelNames) // the older spelling
	a.route(mux, "/loki/api/v1/label/{name}/values", a.labelValues)
	a.route(mux, "/loki/api/v1/series", a.series)
	a.route(mux, "/loki/api/v1/index/stats", a.indexStats)
	a.route(mux, "/loki/api/v1/index/volume", a.volume)
	a.route(mux, "/loki/api/v1/index/volume_range", a.volumeRange)
	mux.HandleFunc("GET /loki/api/v1/status/buildinfo", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.opts.Build)
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/loki/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{code: http.StatusNotFound, msg: fmt.Sprintf("otlpd serves no Loki endpoint %s %s (docs/loki.md lists those it does)", r.Method, r.URL.Path)})
	})
}

// handler answers a request with a value to encode as JSON, or an error.
type handler func(ctx context.Context, r *http.Request) (any, *apiError)

func (a *API) route(mux *http.ServeMux, path string, h handler) {
	f := func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(w, badRequest("parse form: %v", err))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
		defer cancel()
		v, aerr := h(ctx, r)
		if aerr != nil {
			if aerr.err != nil {
				aerr = a.storageError(r, aerr.err)
			}
			writeError(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
	mux.HandleFunc("GET "+path, f)
	mux.HandleFunc("POST "+path, f)
}

// apiError is an answer other than 200: code and message, or err (a storage failure, mapped by storageError).
type apiError struct {
	code int
	msg  string
	err  error
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// storageError maps a failure of the storage: 503 on timeout or cancellation, else 500 with no internals
// (the server log has them).
func (a *API) storageError(r *http.Request, err error) *apiError {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{code: http.StatusServiceUnavailable, msg: "query timed out after " + a.opts.Timeout.String()}
	case errors.Is(err, context.Canceled):
		return &apiError{code: http.StatusServiceUnavailable, msg: "query canceled"}
	}
	a.log.ErrorContext(r.Context(), "loki api query failed", "path", r.URL.Path, "err", err)
	return &apiError{code: http.StatusInternalServerError, msg: "internal error; see the server log"}
}

// errorBody is the error answer: Grafana's Loki data source shows message.
type errorBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	typ := "internal"
	switch e.code {
	case http.StatusBadRequest:
		typ = "bad_data"
	case http.StatusNotFound:
		typ = "not_found"
	case http.StatusServiceUnavailable:
		typ = "timeout"
	}
	writeJSON(w, e.code, errorBody{Status: "error", ErrorType: typ, Message: e.msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"status":"error","errorType":"internal","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// parseTime reads a time as Loki's API takes it: an integer is Unix nanoseconds, a number with a fraction
// is Unix seconds, else RFC 3339.
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(0, n).UTC(), nil
	}
	if strings.Contains(s, ".") {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			if math.IsNaN(f) || math.Abs(f) > math.MaxInt64/1e9 {
				return time.Time{}, fmt.Errorf("%q is out of range", s)
			}
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither Unix nanoseconds, fractional Unix seconds nor RFC 3339", truncate(s, 40))
}

func timeParam(r *http.Request, name string, def time.Time) (time.Time, *apiError) {
	s := r.FormValue(name)
	if s == "" {
		return def, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return t, badRequest("invalid parameter %q: %v", name, err)
	}
	return t, nil
}

// parseDuration reads seconds (a number) or a duration such as 5m, 1h30m or 60000ms.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.Abs(f) > math.MaxInt64/1e9 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a duration such as 5m or a number of seconds", truncate(s, 40))
}

// timeRange reads start, end and since: end defaults to now, start to end minus since (or an hour).
func (a *API) timeRange(r *http.Request) (time.Time, time.Time, *apiError) {
	end, aerr := timeParam(r, "end", a.opts.Now())
	if aerr != nil {
		return end, end, aerr
	}
	lookback := DefaultLookback
	if s := r.FormValue("since"); s != "" {
		d, err := parseDuration(s)
		if err != nil || d <= 0 {
			return end, end, badRequest("invalid parameter \"since\": %q is not a positive duration", truncate(s, 40))
		}
		lookback = d
	}
	start, aerr := timeParam(r, "start", end.Add(-lookback))
	if aerr != nil {
		return start, end, aerr
	}
	if end.Before(start) {
		return start, end, badRequest("invalid parameters: end %s is before start %s", end.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
	}
	return start, end, nil
}

func (a *API) limitParam(r *http.Request) (int, *apiError) {
	s := r.FormValue("limit")
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, badRequest("invalid parameter \"limit\": %q is not a positive integer", truncate(s, 40))
	}
	if n > a.opts.MaxEntries {
		return 0, badRequest("invalid parameter \"limit\": %d is more than the limit of %d entries per query", n, a.opts.MaxEntries)
	}
	return n, nil
}

func directionParam(r *http.Request) (storage.Order, *apiError) {
	switch strings.ToLower(r.FormValue("direction")) {
	case "", "backward":
		return storage.NewestFirst, nil
	case "forward":
		return storage.OldestFirst, nil
	}
	return 0, badRequest("invalid parameter \"direction\": %q is neither forward nor backward", truncate(r.FormValue("direction"), 40))
}

func parseQuery(r *http.Request) (Expr, *apiError) {
	qs := r.FormValue("query")
	if qs == "" {
		return nil, badRequest("invalid parameter \"query\": it is empty")
	}
	e, err := ParseLogQL(qs)
	if err != nil {
		return nil, &apiError{code: http.StatusBadRequest, msg: err.Error()}
	}
	return e, nil
}
