package native

import (
	"encoding/json"
	"net/http"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query"
)

// tracePageResponse is the body of GET /api/otlpd/traces/{traceID}/spans.
type tracePageResponse struct {
	Total int             `json:"total"` // spans in the trace
	Count int             `json:"count"` // spans in this page
	Next  string          `json:"next,omitempty"`
	Spans json.RawMessage `json:"spans"` // OTLP JSON TracesData
}

// getTraceSpans serves GET /api/otlpd/traces/{traceID}/spans?after=&limit=: one page of the trace's spans in
// (start time, span ID) order, for traces too large to load at once. next is the after of the next page.
func (a *API) getTraceSpans(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	id := p.traceID(r.PathValue("traceID"), "trace ID")
	limit := p.int("limit", 1, query.MaxPageSize)
	var after *query.SpanKey
	if s := p.str("after"); s != "" && p.err == nil {
		k, err := query.ParseSpanKey(s)
		if err != nil {
			p.err = err
		}
		after = &k
	}
	if p.err != nil {
		a.queryError(w, r, "get trace spans", p.err)
		return
	}
	page, err := a.q.TracePage(r.Context(), id, after, limit)
	if err != nil {
		a.queryError(w, r, "get trace spans", err)
		return
	}
	body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(page.Spans)
	if err != nil {
		a.internalError(w, r, "encode trace spans", err)
		return
	}
	resp := tracePageResponse{Total: page.Total, Count: page.Count, Spans: body}
	if page.Next != nil {
		resp.Next = page.Next.String()
	}
	writeJSON(w, http.StatusOK, resp)
}

// getTraceSummary serves GET /api/otlpd/traces/{traceID}/summary.
func (a *API) getTraceSummary(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	id := p.traceID(r.PathValue("traceID"), "trace ID")
	if p.err != nil {
		a.queryError(w, r, "trace summary", p.err)
		return
	}
	sum, err := a.q.TraceSummary(r.Context(), id)
	if err != nil {
		a.queryError(w, r, "trace summary", err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

// getTraceAnalysis serves GET /api/otlpd/traces/{traceID}/analysis: critical path and per-span self and
// critical time (docs/analysis.md).
func (a *API) getTraceAnalysis(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	id := p.traceID(r.PathValue("traceID"), "trace ID")
	if p.err != nil {
		a.queryError(w, r, "trace analysis", p.err)
		return
	}
	an, err := a.q.Analyze(r.Context(), id)
	if err != nil {
		a.queryError(w, r, "trace analysis", err)
		return
	}
	writeJSON(w, http.StatusOK, an)
}

// logsResponse is the body of the log searches.
type logsResponse struct {
	Count      int              `json:"count"`
	NextOffset int              `json:"nextOffset,omitempty"`
	Histogram  *query.Histogram `json:"histogram,omitempty"`
	Logs       json.RawMessage  `json:"logs"` // OTLP JSON LogsData
}

func (a *API) writeLogs(w http.ResponseWriter, r *http.Request, res query.LogSearchResult) {
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(res.Logs)
	if err != nil {
		a.internalError(w, r, "encode logs", err)
		return
	}
	writeJSON(w, http.StatusOK, logsResponse{Count: res.Count, NextOffset: res.NextOffset, Histogram: res.Histogram, Logs: body})
}

// getTraceLogs serves GET /api/otlpd/traces/{traceID}/logs?start=&end=&limit=: the trace's log records,
// oldest first (by default within an hour around the trace).
func (a *API) getTraceLogs(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	id := p.traceID(r.PathValue("traceID"), "trace ID")
	tr := p.timeRange()
	limit := p.int("limit", 1, query.MaxLogLimit)
	if p.err != nil {
		a.queryError(w, r, "logs of trace", p.err)
		return
	}
	res, err := a.q.LogsOfTrace(r.Context(), id, tr, limit)
	if err != nil {
		a.queryError(w, r, "logs of trace", err)
		return
	}
	a.writeLogs(w, r, res)
}

// compareTraces serves GET /api/otlpd/compare?a=&b=: the two traces' spans grouped by service/operation path.
func (a *API) compareTraces(w http.ResponseWriter, r *http.Request) {
	p := params{v: r.URL.Query()}
	ta := p.traceID(p.str("a"), "parameter 'a' (a trace ID)")
	tb := p.traceID(p.str("b"), "parameter 'b' (a trace ID)")
	if p.err != nil {
		a.queryError(w, r, "compare traces", p.err)
		return
	}
	c, err := a.q.Compare(r.Context(), ta, tb)
	if err != nil {
		a.queryError(w, r, "compare traces", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
