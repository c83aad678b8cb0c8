package native

import (
	"net/http"

	"github.com/otlpd/otlpd/internal/query"
)

// searchTraces serves GET /api/otlpd/traces?filter=&service=&operation=&minDuration=&maxDuration=&start=&end=
// &limit=&offset=: summaries of the matching traces, newest first.
func (a *API) searchTraces(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	s := query.TraceSearch{
		TimeRange: p.timeRange(), Filter: p.str("filter"), Service: p.str("service"), Operation: p.str("operation"),
		MinDuration: p.duration("minDuration"), MaxDuration: p.duration("maxDuration"),
		Limit: p.int("limit", 1, query.MaxTraceLimit), Offset: p.int("offset", 0, query.MaxOffset),
	}
	if p.err != nil {
		a.queryError(w, r, "search traces", p.err)
		return
	}
	res, err := a.q.SearchTraces(r.Context(), s)
	if err != nil {
		a.queryError(w, r, "search traces", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
