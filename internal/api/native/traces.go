package native

import (
	"encoding/hex"
	"errors"
	"net/http"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// getTrace serves GET /api/otlpd/traces/{traceID}: every span of one trace as an OTLP JSON TracesData.
func (a *API) getTrace(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("traceID")
	id, ok := parseTraceID(raw)
	if !ok {
		writeError(w, http.StatusBadRequest, "trace ID must be 32 hex digits and not all zeros")
		return
	}
	all := ptrace.NewTraces()
	for page, err := range a.store.GetTrace(r.Context(), storage.TraceQuery{TraceID: id}) {
		if errors.Is(err, storage.ErrNotFound) {
			writeError(w, http.StatusNotFound, "trace "+hex.EncodeToString(id[:])+" not found")
			return
		}
		if err != nil {
			a.internalError(w, r, "get trace", err)
			return
		}
		page.ResourceSpans().MoveAndAppendTo(all.ResourceSpans())
	}
	if all.SpanCount() == 0 {
		writeError(w, http.StatusNotFound, "trace "+hex.EncodeToString(id[:])+" not found")
		return
	}
	body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(all)
	if err != nil {
		a.internalError(w, r, "encode trace", err)
		return
	}
	writeRaw(w, body)
}

// parseTraceID parses 32 hex digits (either case) into a non-zero trace ID.
func parseTraceID(s string) (storage.TraceID, bool) {
	var id storage.TraceID
	if len(s) != 2*len(id) {
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, false
	}
	return id, !id.IsEmpty()
}
