package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// Services returns the sorted names of every service seen.
func (q *Querier) Services(ctx context.Context) ([]string, error) {
	if err := q.needSpans(); err != nil {
		return nil, err
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	s, err := q.spans.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return s, nil
}

// Operations returns the span names and kinds seen for a service ("" for every service).
func (q *Querier) Operations(ctx context.Context, oq storage.OperationQuery) ([]storage.Operation, error) {
	if err := q.needSpans(); err != nil {
		return nil, err
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	ops, err := q.spans.Operations(ctx, oq)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return ops, nil
}

// Autocomplete limits.
const (
	DefaultCatalogSample = 10_000 // spans or records read to build a catalog
	MaxCatalogSample     = 100_000
	DefaultCatalogLimit  = 100 // keys or values returned
	MaxCatalogLimit      = 1000
	maxCatalogValueLen   = 256 // longer values are not suggested
)

// CatalogQuery asks for attribute keys, or the values of one key, for autocomplete.
type CatalogQuery struct {
	TimeRange
	Signal  string // "spans" (default) or "logs"
	Service string // only items of this service
	Key     string // values of this key; empty: list keys
	Scope   storage.AttrScope
	Prefix  string // only keys (or values) starting with Prefix
	Limit   int    // 0: DefaultCatalogLimit; at most MaxCatalogLimit
	Sample  int    // items read, newest first; 0: DefaultCatalogSample; at most MaxCatalogSample
}

// CatalogEntry is a key or value with the number of sampled items that have it.
type CatalogEntry struct {
	Scope string `json:"scope,omitempty"` // span, resource or scope (keys only)
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Catalog is the answer of Attributes.
type Catalog struct {
	Entries []CatalogEntry `json:"entries"`
	Sampled int            `json:"sampled"` // items read
	// Complete is false when the sample limit stopped the scan: rarer keys or values may be missing.
	Complete bool `json:"complete"`
}

var scopeNames = map[storage.AttrScope]string{storage.AttrSpan: "span", storage.AttrResource: "resource", storage.AttrScopeSet: "scope"}

// Attributes lists attribute keys (or the values of one key), most frequent first, from the newest items of
// the range. It reads at most Sample items, so it answers fast whatever is stored; Complete says whether the
// sample covered every item.
func (q *Querier) Attributes(ctx context.Context, cq CatalogQuery) (Catalog, error) {
	r, err := q.bound(cq.TimeRange)
	if err != nil {
		return Catalog{}, err
	}
	sample := clampLimit(cq.Sample, DefaultCatalogSample, MaxCatalogSample)
	limit := clampLimit(cq.Limit, DefaultCatalogLimit, MaxCatalogLimit)
	type key struct {
		scope storage.AttrScope
		name  string
	}
	counts := map[key]int{}
	var cat Catalog
	visit := func(scope storage.AttrScope, m pcommon.Map) {
		if cq.Key == "" {
			for k := range m.All() {
				if strings.HasPrefix(k, cq.Prefix) {
					counts[key{scope, k}]++
				}
			}
			return
		}
		if cq.Scope != storage.AttrAny && cq.Scope != scope {
			return
		}
		if v, ok := m.Get(cq.Key); ok {
			if s := v.AsString(); len(s) <= maxCatalogValueLen && strings.HasPrefix(s, cq.Prefix) {
				counts[key{0, s}]++
			}
		}
	}
	item := func(res pcommon.Resource, scope pcommon.InstrumentationScope, own pcommon.Map) {
		cat.Sampled++
		visit(storage.AttrSpan, own)
		visit(storage.AttrScopeSet, scope.Attributes())
		visit(storage.AttrResource, res.Attributes())
	}
	ctx, cancel := q.withTimeout(ctx)
	defer cancel()
	if cq.Signal == "logs" {
		if err := q.needLogs(); err != nil {
			return Catalog{}, err
		}
		lq := storage.LogQuery{Start: r.Start, End: r.End, Service: cq.Service, Limit: sample + 1}
		for ld, err := range q.logs.FindLogs(ctx, lq) {
			if err != nil {
				return Catalog{}, fmt.Errorf("attribute catalog: %w", err)
			}
			for i := range ld.ResourceLogs().Len() {
				rl := ld.ResourceLogs().At(i)
				for j := range rl.ScopeLogs().Len() {
					sl := rl.ScopeLogs().At(j)
					for k := range sl.LogRecords().Len() {
						if cat.Sampled < sample {
							item(rl.Resource(), sl.Scope(), sl.LogRecords().At(k).Attributes())
						} else {
							cat.Sampled = sample + 1
						}
					}
				}
			}
		}
	} else {
		if err := q.needSpans(); err != nil {
			return Catalog{}, err
		}
		sq := storage.SpanQuery{Start: r.Start, End: r.End, Service: cq.Service, Limit: sample + 1}
		for td, err := range q.spans.FindSpans(ctx, sq) {
			if err != nil {
				return Catalog{}, fmt.Errorf("attribute catalog: %w", err)
			}
			forEachSpan(td, func(res pcommon.Resource, scope pcommon.InstrumentationScope, sp ptrace.Span) {
				if cat.Sampled < sample {
					item(res, scope, sp.Attributes())
				} else {
					cat.Sampled = sample + 1
				}
			})
		}
	}
	cat.Complete = cat.Sampled <= sample
	cat.Sampled = min(cat.Sampled, sample)
	for k, n := range counts {
		e := CatalogEntry{Name: k.name, Count: n}
		if cq.Key == "" {
			e.Scope = scopeNames[k.scope]
		}
		cat.Entries = append(cat.Entries, e)
	}
	slices.SortFunc(cat.Entries, func(a, b CatalogEntry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Scope, b.Scope)
	})
	if len(cat.Entries) > limit {
		cat.Entries = cat.Entries[:limit]
	}
	return cat, nil
}

// scanSpans calls fn for each span sq matches, newest first, up to MaxScanSpans; truncated reports whether
// more spans matched. It visits stored spans in place when the backend is a storage.SpanScanner, else reads
// copies through FindSpans. fn must not keep its arguments.
func (q *Querier) scanSpans(ctx context.Context, sq storage.SpanQuery, fn func(res pcommon.Resource, scope pcommon.InstrumentationScope, sp ptrace.Span)) (truncated bool, err error) {
	sq.Limit = q.opts.MaxScanSpans + 1
	n := 0
	visit := func(res pcommon.Resource, scope pcommon.InstrumentationScope, sp ptrace.Span) bool {
		if n == q.opts.MaxScanSpans {
			truncated = true
			return false
		}
		n++
		fn(res, scope, sp)
		return true
	}
	if sc, ok := q.spans.(storage.SpanScanner); ok {
		if err := sc.ScanSpans(ctx, sq, visit); err != nil {
			return false, err
		}
		return truncated, nil
	}
	for td, err := range q.spans.FindSpans(ctx, sq) {
		if err != nil {
			return false, err
		}
		forEachSpan(td, func(res pcommon.Resource, scope pcommon.InstrumentationScope, sp ptrace.Span) {
			if !truncated {
				visit(res, scope, sp)
			}
		})
		if truncated {
			return true, nil
		}
	}
	return false, nil
}
