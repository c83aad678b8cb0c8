package jaeger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// Jaeger's api_v3 over HTTP: the same queries as the legacy API, with traces as OTLP JSON
// ({"result": {"resourceSpans": [...]}}) and errors as {"error": {"httpCode": 400, "message": "..."}}. A
// search or trace lookup that finds nothing is a 404, as Jaeger answers.

// registerV3 adds the api_v3 routes to mux.
func (a *API) registerV3(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v3/services", a.v3Services)
	mux.HandleFunc("GET /api/v3/operations", a.v3Operations)
	mux.HandleFunc("GET /api/v3/traces", a.v3FindTraces)
	mux.HandleFunc("GET /api/v3/traces/{traceID}", a.v3GetTrace)
}

type v3Error struct {
	Error v3ErrorBody `json:"error"`
}

type v3ErrorBody struct {
	HTTPCode int    `json:"httpCode"`
	Message  string `json:"message"`
}

func writeV3Error(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, v3Error{v3ErrorBody{HTTPCode: code, Message: msg}})
}

// v3Fail maps a query error as fail does, in the api_v3 error shape.
func (a *API) v3Fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	code, msg := a.errorStatus(r, op, err)
	writeV3Error(w, code, msg)
}

// v3Services serves GET /api/v3/services: {"services": [...]}, sorted.
func (a *API) v3Services(w http.ResponseWriter, r *http.Request) {
	names, err := a.q.Services(r.Context())
	if err != nil {
		a.v3Fail(w, r, "list services", err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Services []string `json:"services"`
	}{names})
}

// v3Operations serves GET /api/v3/operations?service=&span_kind=: {"operations": [{name, spanKind}]}.
func (a *API) v3Operations(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	service := v.Get("service")
	if service == "" {
		writeV3Error(w, http.StatusBadRequest, "parameter 'service' is required")
		return
	}
	kind, ok := ParseKind(v.Get("span_kind"))
	if !ok {
		writeV3Error(w, http.StatusBadRequest, "parameter 'span_kind' must be one of server, client, producer, consumer, internal")
		return
	}
	ops, err := a.q.Operations(r.Context(), storage.OperationQuery{Service: service, Kind: kind})
	if err != nil {
		a.v3Fail(w, r, "list operations", err)
		return
	}
	out := make([]operation, 0, len(ops))
	for _, op := range ops {
		out = append(out, operation{Name: op.Name, SpanKind: KindString(op.Kind)})
	}
	writeJSON(w, http.StatusOK, struct {
		Operations []operation `json:"operations"`
	}{out})
}

// parseV3Time reads an RFC 3339 time (with or without fractional seconds); required says whether it may be
// absent.
func parseV3Time(v url.Values, name string, required bool) (time.Time, error) {
	raw := v.Get(name)
	if raw == "" {
		if required {
			return time.Time{}, badParam("parameter '%s' is required (an RFC 3339 time such as 2026-01-02T15:04:05.5Z)", name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, badParam("parameter '%s' must be an RFC 3339 time such as 2026-01-02T15:04:05.5Z", name)
	}
	return t.UTC(), nil
}

// parseV3Search reads the parameters of GET /api/v3/traces.
func parseV3Search(v url.Values) (query.TraceSearch, error) {
	var s query.TraceSearch
	s.Service = v.Get("query.service_name")
	s.Operation = v.Get("query.operation_name")
	var err error
	if s.Start, err = parseV3Time(v, "query.start_time_min", true); err != nil {
		return s, err
	}
	if s.End, err = parseV3Time(v, "query.start_time_max", true); err != nil {
		return s, err
	}
	if s.End.Before(s.Start) {
		return s, badParam("parameter 'query.start_time_max' is before 'query.start_time_min'")
	}
	if err := parseDurations(v, "query.duration_min", "query.duration_max", &s); err != nil {
		return s, err
	}
	if s.Limit, err = parseLimit(v, "query.num_traces", "query.search_depth"); err != nil {
		return s, err
	}
	tags := map[string]string{}
	if raw := v.Get("query.attributes"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &tags); err != nil {
			return s, badParam("parameter 'query.attributes' must be a JSON object of strings, e.g. {\"http.route\":\"/cart\"}")
		}
	}
	if err := applyTags(&s, tags); err != nil {
		return s, err
	}
	return s, nil
}

// v3FindTraces serves GET /api/v3/traces: the spans of the matching traces (newest trace first, at most
// MaxSpansPerSearchTrace spans of each) as one OTLP JSON TracesData; 404 when nothing matches.
func (a *API) v3FindTraces(w http.ResponseWriter, r *http.Request) {
	s, err := parseV3Search(r.URL.Query())
	if err != nil {
		a.v3Fail(w, r, "search traces", err)
		return
	}
	refs, _, err := a.q.FindTraces(r.Context(), s)
	if err != nil {
		a.v3Fail(w, r, "search traces", err)
		return
	}
	all := ptrace.NewTraces()
	for _, ref := range refs {
		if err := a.appendTrace(r, all, ref.TraceID, MaxSpansPerSearchTrace); err != nil {
			a.v3Fail(w, r, "search traces", err)
			return
		}
	}
	if all.SpanCount() == 0 {
		writeV3Error(w, http.StatusNotFound, "no traces found")
		return
	}
	a.writeV3Traces(w, r, all)
}

// v3GetTrace serves GET /api/v3/traces/{traceID}: the trace as OTLP JSON, at most the query's trace span
// limit; 404 when not stored. start_time and end_time are checked but not needed (a trace is found by ID);
// raw_traces is accepted and ignored (spans are never adjusted).
func (a *API) v3GetTrace(w http.ResponseWriter, r *http.Request) {
	id, err := query.ParseTraceID(r.PathValue("traceID"))
	if err != nil {
		a.v3Fail(w, r, "get trace", err)
		return
	}
	v := r.URL.Query()
	for _, name := range []string{"start_time", "end_time"} {
		if _, err := parseV3Time(v, name, false); err != nil {
			a.v3Fail(w, r, "get trace", err)
			return
		}
	}
	td := ptrace.NewTraces()
	if err := a.appendTrace(r, td, id, a.q.Options().MaxTraceSpans); err != nil {
		a.v3Fail(w, r, "get trace", err)
		return
	}
	if td.SpanCount() == 0 {
		writeV3Error(w, http.StatusNotFound, "trace not found")
		return
	}
	a.writeV3Traces(w, r, td)
}

// appendTrace moves the spans of trace id into dst, at most maxSpans of them. A trace that is not stored adds
// nothing.
func (a *API) appendTrace(r *http.Request, dst ptrace.Traces, id storage.TraceID, maxSpans int) error {
	n := 0
	err := a.q.EachTracePage(r.Context(), id, func(td ptrace.Traces) bool {
		if n+td.SpanCount() > maxSpans {
			keepFirst(td, maxSpans-n)
		}
		n += td.SpanCount()
		td.ResourceSpans().MoveAndAppendTo(dst.ResourceSpans())
		return n < maxSpans
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// keepFirst removes all but the first n spans of td, and the resources and scopes left empty.
func keepFirst(td ptrace.Traces, n int) {
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(ptrace.Span) bool {
				if n > 0 {
					n--
					return false
				}
				return true
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
}

// writeV3Traces writes {"result": <OTLP JSON TracesData>}.
func (a *API) writeV3Traces(w http.ResponseWriter, r *http.Request, td ptrace.Traces) {
	var m ptrace.JSONMarshaler
	body, err := m.MarshalTraces(td)
	if err != nil {
		a.v3Fail(w, r, "encode traces", fmt.Errorf("marshal OTLP JSON: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"result":`))
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("}\n"))
}
