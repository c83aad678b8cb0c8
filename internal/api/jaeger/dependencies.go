package jaeger

import (
	"net/http"
	"strconv"
	"time"

	"github.com/otlpd/otlpd/internal/query"
)

// dependencyLink is an element of GET /api/dependencies.
type dependencyLink struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount int64  `json:"callCount"`
}

// getDependencies serves GET /api/dependencies?endTs=<ms>&lookback=<ms>: the service graph of the spans that
// started in [endTs-lookback, endTs].
func (a *API) getDependencies(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	end := a.now()
	if raw := v.Get("endTs"); raw != "" {
		ms, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || ms < 0 || ms > 1<<50 {
			writeError(w, http.StatusBadRequest, "parameter 'endTs' must be a time in milliseconds since the Unix epoch")
			return
		}
		end = time.UnixMilli(ms).UTC()
	}
	lookback := DefaultDependencyLookback
	if raw := v.Get("lookback"); raw != "" {
		ms, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || ms <= 0 || ms > 1<<50 {
			writeError(w, http.StatusBadRequest, "parameter 'lookback' must be a positive number of milliseconds")
			return
		}
		lookback = time.Duration(ms) * time.Millisecond
	}
	g, err := a.q.DependenciesWithPeers(r.Context(), query.TimeRange{Start: end.Add(-lookback), End: end})
	if err != nil {
		a.fail(w, r, "dependencies", err)
		return
	}
	out := make([]dependencyLink, 0, len(g.Edges))
	name := func(s string) string {
		if s == "" {
			return noServiceName
		}
		return s
	}
	for _, e := range g.Edges {
		out = append(out, dependencyLink{Parent: name(e.Parent), Child: name(e.Child), CallCount: e.CallCount})
	}
	writeData(w, out, len(out))
}
