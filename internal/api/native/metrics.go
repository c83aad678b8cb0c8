package native

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/storage"
)

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

// Limits of GET /api/otlpd/metrics/{name}.
const (
	defaultPointLimit = 1000
	maxPointLimit     = 100_000
)

// getMetricPoints serves GET /api/otlpd/metrics/{name}?limit=: the points of one metric, oldest first, as an
// OTLP JSON MetricsData.
func (a *API) getMetricPoints(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	limit, ok := parseLimit(w, r, defaultPointLimit, maxPointLimit)
	if !ok {
		return
	}
	all := pmetric.NewMetrics()
	for page, err := range a.store.FindMetrics(r.Context(), storage.MetricQuery{Name: name, Limit: limit}) {
		if err != nil {
			a.internalError(w, r, "find metric points", err)
			return
		}
		page.ResourceMetrics().MoveAndAppendTo(all.ResourceMetrics())
	}
	if all.DataPointCount() == 0 && all.ResourceMetrics().Len() == 0 {
		writeError(w, http.StatusNotFound, "metric "+strconv.Quote(name)+" not found")
		return
	}
	body, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(all)
	if err != nil {
		a.internalError(w, r, "encode metric points", err)
		return
	}
	writeRaw(w, body)
}
