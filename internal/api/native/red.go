package native

import (
	"net/http"

	"github.com/otlpd/otlpd/internal/query"
)

// getRED serves GET /api/otlpd/red?service=&operation=&byOperation=&filter=&start=&end=&step=: request rate,
// error rate and p50/p95/p99 duration per service (and operation) in buckets of step.
func (a *API) getRED(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	rq := query.REDQuery{TimeRange: p.timeRange(), Service: p.str("service"), Operation: p.str("operation"),
		Step: p.duration("step"), Filter: p.str("filter"), ByOperation: p.bool("byOperation")}
	if p.err != nil {
		a.queryError(w, r, "RED", p.err)
		return
	}
	res, err := a.q.RED(r.Context(), rq)
	if err != nil {
		a.queryError(w, r, "RED", err)
		return
	}
	if res.Series == nil {
		res.Series = []query.REDSeries{}
	}
	writeJSON(w, http.StatusOK, res)
}

// getDependencies serves GET /api/otlpd/dependencies?start=&end=&peers=: the service graph, calls and errors
// per edge; with peers=true also the uninstrumented peers client spans name.
func (a *API) getDependencies(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	tr := p.timeRange()
	deps := a.q.Dependencies
	if p.bool("peers") {
		deps = a.q.DependenciesWithPeers
	}
	if p.err != nil {
		a.queryError(w, r, "dependencies", p.err)
		return
	}
	g, err := deps(r.Context(), tr)
	if err != nil {
		a.queryError(w, r, "dependencies", err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}
