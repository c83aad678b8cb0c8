package query

import (
	"context"
	"slices"
	"strings"

	"github.com/otlpd/otlpd/internal/storage"
)

// PathStats is what one trace has at one service/operation path.
type PathStats struct {
	Count         int   `json:"count"`
	DurationNanos int64 `json:"durationNanos"` // sum over the spans at the path
	SelfNanos     int64 `json:"selfNanos"`
	Errors        int   `json:"errors"`
}

// PathDiff compares the spans of two traces at one path: the chain of "service: operation" from the root to
// the spans.
type PathDiff struct {
	Path  []string   `json:"path"`
	State string     `json:"state"` // "a" (only in A), "b" (only in B) or "both"
	A     *PathStats `json:"a,omitempty"`
	B     *PathStats `json:"b,omitempty"`
	// DeltaNanos is B's total duration minus A's, for paths in both.
	DeltaNanos int64 `json:"deltaNanos"`
}

// Comparison is the answer of Compare.
type Comparison struct {
	TraceA    string     `json:"traceA"`
	TraceB    string     `json:"traceB"`
	DurationA int64      `json:"durationNanosA"`
	DurationB int64      `json:"durationNanosB"`
	Paths     []PathDiff `json:"paths"` // in depth-first path order
	OnlyA     int        `json:"onlyA"`
	OnlyB     int        `json:"onlyB"`
	Both      int        `json:"both"`
	Truncated bool       `json:"truncated,omitempty"`
}

// pathSep joins path elements into a map key; it cannot occur in the elements' text as sent by OTLP (a span
// name or service with a NUL byte would merge paths, which is harmless).
const pathSep = "\x00"

// Compare groups the spans of traces a and b by their service/operation path from the root and reports the
// paths found in one trace only, and for paths in both the change in count and duration. Clock skew is
// corrected as in Analyze before durations and self times are summed.
func (q *Querier) Compare(ctx context.Context, a, b storage.TraceID) (Comparison, error) {
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	c := Comparison{TraceA: traceIDString(a), TraceB: traceIDString(b), Paths: []PathDiff{}}
	stats := [2]map[string]*PathStats{}
	var order []string
	seen := map[string][]string{}
	for i, id := range []storage.TraceID{a, b} {
		nodes, roots, truncated, err := q.loadTrace(ctx, id)
		if err != nil {
			return Comparison{}, err
		}
		c.Truncated = c.Truncated || truncated
		adjustSkew(roots)
		selfTimes(nodes)
		stats[i] = map[string]*PathStats{}
		var minS, maxE int64
		for j, n := range nodes {
			if j == 0 || n.s() < minS {
				minS = n.s()
			}
			maxE = max(maxE, n.e())
		}
		if i == 0 {
			c.DurationA = maxE - minS
		} else {
			c.DurationB = maxE - minS
		}
		// Depth first from each root, children in start order, so paths come out in tree order.
		var walk func(n *anode, prefix []string)
		walk = func(n *anode, prefix []string) {
			path := append(slices.Clip(prefix), n.service+": "+n.name)
			key := strings.Join(path, pathSep)
			ps := stats[i][key]
			if ps == nil {
				ps = &PathStats{}
				stats[i][key] = ps
				if _, ok := seen[key]; !ok {
					seen[key] = path
					order = append(order, key)
				}
			}
			ps.Count++
			ps.DurationNanos += n.e() - n.s()
			ps.SelfNanos += n.self
			if n.isErr {
				ps.Errors++
			}
			for _, ch := range n.children {
				walk(ch, path)
			}
		}
		for _, r := range roots {
			walk(r, nil)
		}
	}
	for _, key := range order {
		d := PathDiff{Path: seen[key], A: stats[0][key], B: stats[1][key]}
		switch {
		case d.A != nil && d.B != nil:
			d.State = "both"
			d.DeltaNanos = d.B.DurationNanos - d.A.DurationNanos
			c.Both++
		case d.A != nil:
			d.State = "a"
			c.OnlyA++
		default:
			d.State = "b"
			c.OnlyB++
		}
		c.Paths = append(c.Paths, d)
	}
	return c, nil
}
