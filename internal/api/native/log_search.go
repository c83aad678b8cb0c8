package native

import (
	"net/http"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// searchLogs serves GET /api/otlpd/logs/search?filter=&traceID=&start=&end=&order=newest|oldest&limit=&offset=
// &step=&histogram=: one page of matching records and, with histogram=true, their counts over time.
func (a *API) searchLogs(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	s := query.LogSearch{TimeRange: p.timeRange(), Filter: p.str("filter"),
		Limit: p.int("limit", 1, query.MaxLogLimit), Offset: p.int("offset", 0, query.MaxOffset)}
	if raw := p.str("traceID"); raw != "" {
		s.TraceID = p.traceID(raw, "parameter 'traceID'")
	}
	switch p.str("order") {
	case "", "newest":
	case "oldest":
		s.Order = storage.OldestFirst
	default:
		p.fail("order", "newest or oldest")
	}
	if p.bool("histogram") {
		s.Step = p.duration("step")
		if s.Step == 0 {
			s.Step = -1 // automatic
		}
	}
	if p.err != nil {
		a.queryError(w, r, "search logs", p.err)
		return
	}
	res, err := a.q.SearchLogs(r.Context(), s)
	if err != nil {
		a.queryError(w, r, "search logs", err)
		return
	}
	a.writeLogs(w, r, res)
}
