package native

import (
	"net/http"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// operationJSON is an element of GET /api/otlpd/operations.
type operationJSON struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	Kind    string `json:"kind"` // SPAN_KIND_SERVER, ... as in OTLP JSON
}

// getOperations serves GET /api/otlpd/operations?service=: span names and kinds, per service.
func (a *API) getOperations(w http.ResponseWriter, r *http.Request) {
	ops, err := a.q.Operations(r.Context(), storage.OperationQuery{Service: r.URL.Query().Get("service")})
	if err != nil {
		a.queryError(w, r, "list operations", err)
		return
	}
	out := make([]operationJSON, 0, len(ops))
	for _, op := range ops {
		out = append(out, operationJSON{Service: op.Service, Name: op.Name, Kind: storage.SpanKindName(op.Kind)})
	}
	writeJSON(w, http.StatusOK, struct {
		Operations []operationJSON `json:"operations"`
	}{out})
}

// getAttributes serves GET /api/otlpd/attributes?signal=spans|logs&service=&key=&scope=&prefix=&limit=&sample=
// &start=&end=: attribute keys (or the values of key) for autocomplete, most frequent first, from a bounded
// sample of the newest items.
func (a *API) getAttributes(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	cq := query.CatalogQuery{TimeRange: p.timeRange(), Service: p.str("service"), Key: p.str("key"), Prefix: p.str("prefix"),
		Limit: p.int("limit", 1, query.MaxCatalogLimit), Sample: p.int("sample", 1, query.MaxCatalogSample)}
	switch sig := p.str("signal"); sig {
	case "", "spans", "logs":
		cq.Signal = sig
	default:
		p.fail("signal", "spans or logs")
	}
	switch p.str("scope") {
	case "", "any":
	case "span", "log":
		cq.Scope = storage.AttrSpan
	case "resource":
		cq.Scope = storage.AttrResource
	case "scope":
		cq.Scope = storage.AttrScopeSet
	default:
		p.fail("scope", "span, log, resource, scope or any")
	}
	if p.err != nil {
		a.queryError(w, r, "attribute catalog", p.err)
		return
	}
	cat, err := a.q.Attributes(r.Context(), cq)
	if err != nil {
		a.queryError(w, r, "attribute catalog", err)
		return
	}
	if cat.Entries == nil {
		cat.Entries = []query.CatalogEntry{}
	}
	writeJSON(w, http.StatusOK, cat)
}
