package jaeger

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// Defaults of the Jaeger API, as Jaeger's query service has them.
const (
	DefaultSearchLookback     = 48 * time.Hour // /api/traces without start
	DefaultSearchLimit        = 100            // traces
	DefaultDependencyLookback = 24 * time.Hour // /api/dependencies without lookback
	// MaxSpansPerSearchTrace caps the spans of each trace in a search result; the full trace is one click
	// away (/api/traces/{id}), which streams any size.
	MaxSpansPerSearchTrace = 10_000
)

// API serves the Jaeger query API. Safe for concurrent use.
type API struct {
	q   *query.Querier
	log *slog.Logger
	now func() time.Time
}

// New returns an API answering from q. A nil log discards.
func New(q *query.Querier, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{q: q, log: log, now: q.Options().Now}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/services", a.getServices)
	mux.HandleFunc("GET /api/services/{service}/operations", a.getServiceOperations)
	mux.HandleFunc("GET /api/operations", a.getOperations)
	mux.HandleFunc("GET /api/traces", a.findTraces)
	mux.HandleFunc("GET /api/traces/{traceID}", a.getTrace)
	mux.HandleFunc("GET /api/dependencies", a.getDependencies)
	a.registerV3(mux)
}

// response is the envelope of every answer.
type response struct {
	Data   any        `json:"data"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
	Errors []apiError `json:"errors"`
}

type apiError struct {
	Code    int    `json:"code,omitempty"`
	Msg     string `json:"msg"`
	TraceID string `json:"traceID,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeData(w http.ResponseWriter, data any, total int) {
	writeJSON(w, http.StatusOK, response{Data: data, Total: total})
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, response{Errors: []apiError{{Code: code, Msg: msg}}})
}

// fail maps a query error to a status and writes it in the legacy envelope.
func (a *API) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	code, msg := a.errorStatus(r, op, err)
	writeError(w, code, msg)
}

// errorStatus maps a query error to a status and a message for the client: 400 for a bad request (the
// message says why), 404 for a missing trace, 503 for a timeout, 501 when traces are not stored, else 500
// with no internals (the server log has them).
func (a *API) errorStatus(r *http.Request, op string, err error) (int, string) {
	switch {
	case errors.Is(err, query.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound, "trace not found"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, op + " timed out after " + a.q.Options().Timeout.String()
	case errors.Is(err, errors.ErrUnsupported):
		return http.StatusNotImplemented, op + ": traces are not stored by this server"
	default:
		a.log.ErrorContext(r.Context(), "jaeger api query failed", "op", op, "err", err)
		return http.StatusInternalServerError, op + " failed; see the server log"
	}
}
