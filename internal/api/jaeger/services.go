package jaeger

import (
	"net/http"
	"slices"

	"github.com/otlpd/otlpd/internal/storage"
)

// getServices serves GET /api/services: data is the sorted service names.
func (a *API) getServices(w http.ResponseWriter, r *http.Request) {
	names, err := a.q.Services(r.Context())
	if err != nil {
		a.fail(w, r, "list services", err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeData(w, names, len(names))
}

// getServiceOperations serves GET /api/services/{service}/operations: data is the sorted, distinct span
// names of the service (strings; what Grafana reads).
func (a *API) getServiceOperations(w http.ResponseWriter, r *http.Request) {
	ops, err := a.q.Operations(r.Context(), storage.OperationQuery{Service: r.PathValue("service")})
	if err != nil {
		a.fail(w, r, "list operations", err)
		return
	}
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, op.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	writeData(w, names, len(names))
}

// operation is an element of GET /api/operations.
type operation struct {
	Name     string `json:"name"`
	SpanKind string `json:"spanKind"`
}

// getOperations serves GET /api/operations?service=&spanKind=: data is [{name, spanKind}].
func (a *API) getOperations(w http.ResponseWriter, r *http.Request) {
	service := r.URL.Query().Get("service")
	if service == "" {
		writeError(w, http.StatusBadRequest, "parameter 'service' is required")
		return
	}
	kind, ok := ParseKind(r.URL.Query().Get("spanKind"))
	if !ok {
		writeError(w, http.StatusBadRequest, "parameter 'spanKind' must be one of server, client, producer, consumer, internal")
		return
	}
	ops, err := a.q.Operations(r.Context(), storage.OperationQuery{Service: service, Kind: kind})
	if err != nil {
		a.fail(w, r, "list operations", err)
		return
	}
	out := make([]operation, 0, len(ops))
	for _, op := range ops {
		out = append(out, operation{Name: op.Name, SpanKind: KindString(op.Kind)})
	}
	writeData(w, out, len(out))
}
