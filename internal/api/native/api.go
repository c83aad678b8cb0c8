package native

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// Prefix is the path under which the API is mounted.
const Prefix = "/api/otlpd/"

// Reader is what the API reads from.
type Reader interface {
	storage.SpanReader
	storage.LogReader
	storage.MetricReader
}

// API serves the native JSON API. Safe for concurrent use.
type API struct {
	store Reader
	q     *query.Querier // search and analysis (query.go, search.go, ...)
	log   *slog.Logger
}

// New returns an API reading from store.
func New(store Reader, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{store: store, q: query.New(store, store, query.Options{Logger: log}), log: log}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix+"traces/{traceID}", a.getTrace)
	mux.HandleFunc("GET "+Prefix+"services", a.getServices)
	mux.HandleFunc("GET "+Prefix+"logs", a.getLogs)
	mux.HandleFunc("GET "+Prefix+"metrics", a.getMetrics)
	mux.HandleFunc("GET "+Prefix+"metrics/{name}", a.getMetricPoints)
	a.registerQuery(mux)
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRaw(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// internalError logs err and tells the client no more than that the query failed.
func (a *API) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	a.log.ErrorContext(r.Context(), "api query failed", "op", op, "err", err)
	writeError(w, http.StatusInternalServerError, op+" failed; see the server log")
}

// parseLimit reads the limit query parameter (def when absent); on a bad value it writes a 400 and returns
// false.
func parseLimit(w http.ResponseWriter, r *http.Request, def, max int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to "+strconv.Itoa(max))
		return 0, false
	}
	return n, true
}
