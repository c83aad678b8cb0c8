package native

import "net/http"

// metricsResponse is the body of GET /api/otlpd/metrics.
type metricsResponse struct {
	Metrics []string `json:"metrics"`
}

// getMetrics serves GET /api/otlpd/metrics: the sorted OTLP names of every metric received.
func (a *API) getMetrics(w http.ResponseWriter, r *http.Request) {
	names, err := a.store.MetricNames(r.Context())
	if err != nil {
		a.internalError(w, r, "list metrics", err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, metricsResponse{Metrics: names})
}
