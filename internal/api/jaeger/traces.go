package jaeger

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/storage"
)

// MaxSearchLimit caps the limit parameter of /api/traces.
const MaxSearchLimit = query.MaxTraceLimit

// searchParams is a parsed /api/traces request.
type searchParams struct {
	search   query.TraceSearch
	traceIDs []storage.TraceID // when given, the search fields are ignored
}

// badParam is a request parameter error; its text goes to the client.
func badParam(format string, args ...any) error {
	return fmt.Errorf("%w: %s", query.ErrInvalid, fmt.Sprintf(format, args...))
}

// parseMicros reads a time in microseconds since the Unix epoch.
func parseMicros(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<53 {
		return time.Time{}, badParam("parameter '%s' must be a time in microseconds since the Unix epoch", name)
	}
	return time.UnixMicro(n).UTC(), nil
}

// parseSearch reads the parameters of GET /api/traces (Jaeger's query_parser rules).
func parseSearch(v url.Values, now time.Time) (searchParams, error) {
	var p searchParams
	for _, s := range v["traceID"] {
		id, err := query.ParseTraceID(s)
		if err != nil {
			return p, err
		}
		p.traceIDs = append(p.traceIDs, id)
	}
	s := &p.search
	s.Service = v.Get("service")
	if s.Service == "" && len(p.traceIDs) == 0 {
		return p, badParam("parameter 'service' is required")
	}
	s.Operation = v.Get("operation")
	var err error
	if s.Start, err = parseMicros(v, "start"); err != nil {
		return p, err
	}
	if s.End, err = parseMicros(v, "end"); err != nil {
		return p, err
	}
	if s.End.IsZero() {
		s.End = now
	}
	if s.Start.IsZero() {
		lookback := DefaultSearchLookback
		if lb := v.Get("lookback"); lb != "" && lb != "custom" {
			if d, err := time.ParseDuration(lb); err == nil && d > 0 {
				lookback = d
			}
		}
		s.Start = s.End.Add(-lookback)
	}
	if s.End.Before(s.Start) {
		return p, badParam("parameter 'end' is before 'start'")
	}
	if err := parseDurations(v, "minDuration", "maxDuration", s); err != nil {
		return p, err
	}
	if s.Limit, err = parseLimit(v, "limit"); err != nil {
		return p, err
	}
	tags := map[string]string{}
	for _, raw := range v["tags"] {
		var m map[string]string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return p, badParam("parameter 'tags' must be a JSON object of strings, e.g. {\"http.status_code\":\"500\"}")
		}
		for k, val := range m {
			tags[k] = val
		}
	}
	for _, raw := range v["tag"] {
		k, val, ok := strings.Cut(raw, ":")
		if !ok || k == "" {
			return p, badParam("parameter 'tag' must be key:value")
		}
		tags[k] = val
	}
	if err := applyTags(s, tags); err != nil {
		return p, err
	}
	return p, nil
}

// parseDurations reads the minimum and maximum span durations of a search (Go durations; the maximum, when
// given, must not be below the minimum).
func parseDurations(v url.Values, minName, maxName string, s *query.TraceSearch) error {
	for _, name := range []string{minName, maxName} {
		raw := v.Get(name)
		if raw == "" {
			continue
		}
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			return badParam("parameter '%s' must be a non-negative duration such as 100ms or 1.5s", name)
		}
		if name == minName {
			s.MinDuration = d
		} else {
			s.MaxDuration = d
		}
	}
	if s.MaxDuration != 0 && s.MaxDuration < s.MinDuration {
		return badParam("'%s' must be greater than or equal to '%s'", maxName, minName)
	}
	return nil
}

// parseLimit reads the number of traces of a search from the first of names given: DefaultSearchLimit when
// absent or 0, at most MaxSearchLimit.
func parseLimit(v url.Values, names ...string) (int, error) {
	for _, name := range names {
		raw := v.Get(name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return 0, badParam("parameter '%s' must be a non-negative integer", name)
		}
		if n > 0 {
			return min(n, MaxSearchLimit), nil
		}
	}
	return DefaultSearchLimit, nil
}

// applyTags turns Jaeger tag filters into the search: error, span.kind and otel.status_code are span fields
// in OTLP; every other tag must equal, as a string, an attribute of the span, its scope, its resource
// (process tags) or one of its events (Jaeger's log fields), as Jaeger matches tags.
func applyTags(s *query.TraceSearch, tags map[string]string) error {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var conds []string
	var m tagMatcher
	for _, k := range keys {
		val := tags[k]
		switch k {
		case "error":
			if val == "true" {
				conds = append(conds, "status = error")
				continue
			}
		case "span.kind":
			kind, ok := ParseKind(val)
			if !ok || kind == ptrace.SpanKindUnspecified {
				return badParam("tag 'span.kind' must be one of server, client, producer, consumer, internal")
			}
			s.Kind = kind
			continue
		case "otel.status_code":
			switch strings.ToUpper(val) {
			case "OK":
				conds = append(conds, "status = ok")
				continue
			case "ERROR":
				conds = append(conds, "status = error")
				continue
			}
		}
		m = append(m, storage.AttrPredicate{Scope: storage.AttrAny, Key: k, Op: storage.OpEqual, Value: val})
	}
	s.Filter = strings.Join(conds, " and ")
	if len(m) > 0 {
		s.Match = m
	}
	return nil
}

// tagMatcher holds when every tag equals an attribute of the span, its scope or resource, or of one of its
// events. Each tag may be found in a different place.
type tagMatcher []storage.AttrPredicate

func (m tagMatcher) MatchSpan(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool {
	for _, p := range m {
		if p.Match(span.Attributes(), scope.Attributes(), res.Attributes()) {
			continue
		}
		found := false
		events := span.Events()
		for i := range events.Len() {
			if v, ok := events.At(i).Attributes().Get(p.Key); ok && v.AsString() == p.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// findTraces serves GET /api/traces: data is the matching traces, newest first, each with all its spans (up
// to MaxSpansPerSearchTrace). A trace is never returned without spans.
func (a *API) findTraces(w http.ResponseWriter, r *http.Request) {
	p, err := parseSearch(r.URL.Query(), a.now())
	if err != nil {
		a.fail(w, r, "search traces", err)
		return
	}
	ids := p.traceIDs
	var errs []apiError
	if len(ids) == 0 {
		refs, _, err := a.q.FindTraces(r.Context(), p.search)
		if err != nil {
			a.fail(w, r, "search traces", err)
			return
		}
		for _, ref := range refs {
			ids = append(ids, ref.TraceID)
		}
	}
	traces := make([]Trace, 0, len(ids))
	for _, id := range ids {
		t, err := a.loadTrace(r, id, MaxSpansPerSearchTrace)
		if errors.Is(err, storage.ErrNotFound) {
			if len(p.traceIDs) > 0 {
				errs = append(errs, apiError{Code: http.StatusNotFound, Msg: "trace not found", TraceID: traceIDHex(id)})
			}
			continue
		}
		if err != nil {
			a.fail(w, r, "search traces", err)
			return
		}
		traces = append(traces, t)
	}
	writeJSON(w, http.StatusOK, response{Data: traces, Total: len(traces), Errors: errs})
}

// loadTrace translates one trace, at most maxSpans spans of it.
func (a *API) loadTrace(r *http.Request, id storage.TraceID, maxSpans int) (Trace, error) {
	b := newTraceBuilder()
	t := Trace{TraceID: traceIDHex(id), Spans: []Span{}}
	total := 0
	err := a.q.EachTracePage(r.Context(), id, func(td ptrace.Traces) bool {
		b.add(td, func(s Span) bool {
			total++
			if len(t.Spans) < maxSpans {
				t.Spans = append(t.Spans, s)
			}
			return true
		})
		return true
	})
	if err != nil {
		return Trace{}, err
	}
	if len(t.Spans) == 0 {
		return Trace{}, fmt.Errorf("trace %s: %w", t.TraceID, storage.ErrNotFound)
	}
	if total > len(t.Spans) {
		t.Warnings = append(t.Warnings, fmt.Sprintf("trace has %d spans; this search result shows %d, the trace view shows all", total, len(t.Spans)))
	}
	t.Processes = b.processes
	return t, nil
}

// getTrace serves GET /api/traces/{traceID}: data is [trace], or 404. The trace is streamed page by page as
// the backend yields it, so its size is bounded by the query's span limit, not by memory. start, end and raw
// are accepted and ignored (no time range is needed, and spans are never adjusted).
func (a *API) getTrace(w http.ResponseWriter, r *http.Request) {
	id, err := query.ParseTraceID(r.PathValue("traceID"))
	if err != nil {
		a.fail(w, r, "get trace", err)
		return
	}
	maxSpans := a.q.Options().MaxTraceSpans
	b := newTraceBuilder()
	var bw *bufio.Writer
	var enc *json.Encoder
	n, total := 0, 0
	err = a.q.EachTracePage(r.Context(), id, func(td ptrace.Traces) bool {
		if td.SpanCount() == 0 {
			return true
		}
		if bw == nil { // the trace exists: commit to a 200 and start the envelope
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			bw = bufio.NewWriterSize(w, 64<<10)
			enc = json.NewEncoder(bw)
			fmt.Fprintf(bw, `{"data":[{"traceID":%q,"spans":[`, traceIDHex(id))
		}
		b.add(td, func(s Span) bool {
			total++
			if n == maxSpans {
				return true
			}
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			_ = enc.Encode(s) // Encode appends a newline, which is JSON whitespace
			return true
		})
		return true
	})
	if bw == nil {
		if err == nil {
			err = fmt.Errorf("trace %s: %w", traceIDHex(id), storage.ErrNotFound)
		}
		a.fail(w, r, "get trace", err)
		return
	}
	if err != nil {
		// The status line is sent: cut the response so the client sees a broken body, not a short trace.
		a.log.ErrorContext(r.Context(), "jaeger api: trace stream failed", "trace", traceIDHex(id), "err", err)
		panic(http.ErrAbortHandler)
	}
	var warnings []string
	if total > n {
		warnings = append(warnings, fmt.Sprintf("trace has %d spans; only the first %d are shown", total, n))
	}
	procs, _ := json.Marshal(b.processes)
	warn, _ := json.Marshal(warnings)
	fmt.Fprintf(bw, `],"processes":%s,"warnings":%s}],"total":1,"limit":0,"offset":0,"errors":null}`+"\n", procs, warn)
	if err := bw.Flush(); err != nil {
		a.log.DebugContext(r.Context(), "jaeger api: client went away", "err", err)
	}
}
