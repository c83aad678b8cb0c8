package native

import "net/http"

// servicesResponse is the body of GET /api/otlpd/services.
type servicesResponse struct {
	Services []string `json:"services"`
}

// getServices serves GET /api/otlpd/services: the sorted names of every service that sent spans.
func (a *API) getServices(w http.ResponseWriter, r *http.Request) {
	names, err := a.store.Services(r.Context())
	if err != nil {
		a.internalError(w, r, "list services", err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, servicesResponse{Services: names})
}
