package native

import (
	"net/http"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
)

// Limits of GET /api/otlpd/logs.
const (
	defaultLogLimit = 100
	maxLogLimit     = 10_000
)

// getLogs serves GET /api/otlpd/logs?limit=&service=: the most recent log records, newest first, as an OTLP
// JSON LogsData.
func (a *API) getLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := parseLimit(w, r, defaultLogLimit, maxLogLimit)
	if !ok {
		return
	}
	all := plog.NewLogs()
	query := storage.LogQuery{Service: q.Get("service"), Order: storage.NewestFirst, Limit: limit}
	for page, err := range a.store.FindLogs(r.Context(), query) {
		if err != nil {
			a.internalError(w, r, "find logs", err)
			return
		}
		page.ResourceLogs().MoveAndAppendTo(all.ResourceLogs())
	}
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(all)
	if err != nil {
		a.internalError(w, r, "encode logs", err)
		return
	}
	writeRaw(w, body)
}
