package main

import (
	"fmt"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// observed is a span as either backend reports it, reduced to what expectations look at.
type observed struct {
	TraceID, SpanID, ParentID string
	Name, Service             string
	Attrs                     map[string]string // values in string form
	Error                     bool
}

// expectation is one span the integration test requires. A span matches when name, service and every
// attribute match and, if Parent is set, its parent is a span named Parent in the same trace.
type expectation struct {
	Name, Service, Parent string
	Attrs                 map[string]string
	Error                 bool // the span must have error status
	AtLeast               int  // matching spans needed (0 means 1)
}

func (e expectation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q in %s", e.Name, e.Service)
	if e.Parent != "" {
		fmt.Fprintf(&b, " under %q", e.Parent)
	}
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, e.Attrs[k])
	}
	if e.Error {
		b.WriteString(" with error status")
	}
	return b.String()
}

// checkoutExpectations is what 5 checkouts, the last declined, must produce.
var checkoutExpectations = []expectation{
	{Name: "place order", Service: "checkout", AtLeast: 5},
	{Name: "POST /checkout", Service: "checkout", Parent: "place order", Attrs: map[string]string{"http.response.status_code": "200", "http.route": "/checkout"}, AtLeast: 4},
	{Name: "POST /checkout", Service: "checkout", Parent: "place order", Attrs: map[string]string{"http.response.status_code": "402"}},
	{Name: "reserve stock", Service: "checkout", Parent: "POST /checkout", AtLeast: 5},
	{Name: "charge card", Service: "checkout", Parent: "POST /checkout", Attrs: map[string]string{"payment.provider": "acmepay"}, AtLeast: 5},
	{Name: "charge card", Service: "checkout", Parent: "POST /checkout", Error: true},
}

// missing returns a line for each expectation the spans do not meet; empty means all are met.
func missing(spans []observed, want []expectation) []string {
	byID := map[string]observed{}
	for _, s := range spans {
		byID[s.TraceID+"/"+s.SpanID] = s
	}
	var out []string
	for _, e := range want {
		need := max(e.AtLeast, 1)
		got := 0
		for _, s := range spans {
			if s.Name != e.Name || s.Service != e.Service || (e.Error && !s.Error) {
				continue
			}
			ok := true
			for k, v := range e.Attrs {
				if s.Attrs[k] != v {
					ok = false
				}
			}
			if e.Parent != "" {
				p, found := byID[s.TraceID+"/"+s.ParentID]
				ok = ok && found && p.Name == e.Parent
			}
			if ok {
				got++
			}
		}
		if got < need {
			out = append(out, fmt.Sprintf("want %d× %s, found %d", need, e, got))
		}
	}
	return out
}

// parseTracesJSON converts otlpd's GET /api/otlpd/traces/{id} answer, an OTLP JSON TracesData.
func parseTracesJSON(body []byte) ([]observed, error) {
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
	if err != nil {
		return nil, fmt.Errorf("decode OTLP JSON traces (%d bytes): %w", len(body), err)
	}
	var out []observed
	for _, rs := range td.ResourceSpans().All() {
		service, _ := rs.Resource().Attributes().Get("service.name")
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				o := observed{TraceID: s.TraceID().String(), SpanID: s.SpanID().String(), Name: s.Name(),
					Service: service.AsString(), Attrs: map[string]string{}, Error: s.Status().Code() == ptrace.StatusCodeError}
				if !s.ParentSpanID().IsEmpty() {
					o.ParentID = s.ParentSpanID().String()
				}
				for k, v := range s.Attributes().All() {
					o.Attrs[k] = v.AsString()
				}
				out = append(out, o)
			}
		}
	}
	return out, nil
}
