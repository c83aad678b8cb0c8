package native

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// registerQuery adds the search and analysis routes (docs/api.md, "Search and analysis").
func (a *API) registerQuery(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix+"traces", a.searchTraces)
	mux.HandleFunc("GET "+Prefix+"traces/{traceID}/spans", a.getTraceSpans)
	mux.HandleFunc("GET "+Prefix+"traces/{traceID}/summary", a.getTraceSummary)
	mux.HandleFunc("GET "+Prefix+"traces/{traceID}/analysis", a.getTraceAnalysis)
	mux.HandleFunc("GET "+Prefix+"traces/{traceID}/logs", a.getTraceLogs)
	mux.HandleFunc("GET "+Prefix+"compare", a.compareTraces)
	mux.HandleFunc("GET "+Prefix+"logs/search", a.searchLogs)
	mux.HandleFunc("GET "+Prefix+"operations", a.getOperations)
	mux.HandleFunc("GET "+Prefix+"attributes", a.getAttributes)
	mux.HandleFunc("GET "+Prefix+"red", a.getRED)
	mux.HandleFunc("GET "+Prefix+"dependencies", a.getDependencies)
}

// queryError answers a failed query: 400 with the reason for a bad request, 404 for a missing trace, 503 on
// timeout, 501 when the signal is not stored, else 500 with no internals.
func (a *API) queryError(w http.ResponseWriter, r *http.Request, op string, err error) {
	switch {
	case errors.Is(err, query.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "trace not found")
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, op+" timed out after "+a.q.Options().Timeout.String())
	case errors.Is(err, errors.ErrUnsupported):
		writeError(w, http.StatusNotImplemented, op+": not stored by this server")
	default:
		a.internalError(w, r, op, err)
	}
}

// params reads query parameters, keeping the first error; its text names the parameter.
type params struct {
	v   url.Values
	err error
}

func (p *params) fail(name, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: parameter '%s' must be %s", query.ErrInvalid, name, want)
	}
}

func (p *params) str(name string) string { return p.v.Get(name) }

// time reads RFC 3339 or Unix milliseconds.
func (p *params) time(name string) time.Time {
	s := p.v.Get(name)
	if s == "" {
		return time.Time{}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 && ms < 1<<50 {
		return time.UnixMilli(ms).UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.fail(name, "an RFC 3339 time or Unix milliseconds")
	}
	return t
}

func (p *params) timeRange() query.TimeRange {
	return query.TimeRange{Start: p.time("start"), End: p.time("end")}
}

func (p *params) duration(name string) time.Duration {
	s := p.v.Get(name)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.fail(name, "a non-negative duration such as 250ms or 1.5s")
	}
	return d
}

func (p *params) int(name string, lo, hi int) int {
	s := p.v.Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(name, "an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n
}

func (p *params) bool(name string) bool {
	s := p.v.Get(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(name, "true or false")
	}
	return b
}

func (p *params) traceID(raw, name string) storage.TraceID {
	id, err := query.ParseTraceID(raw)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("%w: %s must be 1 to 32 hex digits", query.ErrInvalid, name)
	}
	return id
}
