package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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
	{Name: "POST /checkout", Service: "checkout", Attrs: map[string]string{"http.response.status_code": "200", "http.route": "/checkout"}, AtLeast: 4},
	{Name: "POST /checkout", Service: "checkout", Attrs: map[string]string{"http.response.status_code": "402"}},
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

// jaegerResponse is the part of otlpd's Jaeger-compatible GET /api/traces answer that the check reads.
type jaegerResponse struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			TraceID       string `json:"traceID"`
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			ProcessID     string `json:"processID"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			Tags []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"tags"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

// parseJaeger converts a Jaeger API trace search answer. Jaeger marks error spans with the tag error=true.
func parseJaeger(body []byte) ([]observed, error) {
	var r jaegerResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode Jaeger API response (%d bytes): %w", len(body), err)
	}
	var out []observed
	for _, tr := range r.Data {
		for _, s := range tr.Spans {
			o := observed{TraceID: s.TraceID, SpanID: s.SpanID, Name: s.OperationName,
				Service: tr.Processes[s.ProcessID].ServiceName, Attrs: map[string]string{}}
			for _, ref := range s.References {
				if ref.RefType == "CHILD_OF" {
					o.ParentID = ref.SpanID
				}
			}
			for _, t := range s.Tags {
				v := fmt.Sprint(t.Value)
				if f, ok := t.Value.(float64); ok && f == float64(int64(f)) {
					v = fmt.Sprint(int64(f)) // JSON numbers: 200, not 200.0
				}
				o.Attrs[t.Key] = v
				if t.Key == "error" && v == "true" {
					o.Error = true
				}
			}
			out = append(out, o)
		}
	}
	return out, nil
}
