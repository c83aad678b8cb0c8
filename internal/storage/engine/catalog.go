package engine

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// catalog holds the names seen (services, operations, attribute keys, metric names), filled from part footers
// at start-up and from writes after, so that listing them never scans data.
type catalog struct {
	mu       sync.RWMutex
	services map[string]struct{}
	ops      map[part.Op]struct{}
	// opHashes holds the hashes of the operations added by writes (opSet), read without the lock by the
	// writes' scans (knownOps) and replaced, never changed, when one is added.
	opHashes atomic.Pointer[map[uint64]struct{}]
	attrKeys map[string]struct{}
	metrics  map[string]struct{}
}

func (c *catalog) init() {
	c.services = map[string]struct{}{}
	c.ops = map[part.Op]struct{}{}
	c.opHashes.Store(&map[uint64]struct{}{})
	c.attrKeys = map[string]struct{}{}
	c.metrics = map[string]struct{}{}
}

func (c *catalog) addPart(p *partHandle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range p.meta.Ops {
		c.ops[o] = struct{}{}
		c.services[o.Service] = struct{}{}
	}
	for _, k := range p.meta.AttrKeys {
		c.attrKeys[k] = struct{}{}
	}
	if p.meta.Kind == part.KindMetrics {
		for _, n := range p.meta.Names {
			c.metrics[n] = struct{}{}
		}
	}
}

// addOps records the operations of a write and their services; their strings may be views of a batch (they
// are copied when kept). It takes the write lock only for operations not seen yet.
func (c *catalog) addOps(ops opSet) {
	if len(ops) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	known := *c.opHashes.Load()
	hashes := make(map[uint64]struct{}, len(known)+len(ops))
	for h := range known {
		hashes[h] = struct{}{}
	}
	for h, op := range ops {
		if _, ok := c.ops[op]; !ok {
			op.Service, op.Name = strings.Clone(op.Service), strings.Clone(op.Name)
			c.ops[op] = struct{}{}
			c.services[op.Service] = struct{}{}
		}
		hashes[h] = struct{}{}
	}
	c.opHashes.Store(&hashes)
}

// knownOps returns the hashes of the operations writes have added (read only): a write's scan leaves them
// out of its opSet.
func (c *catalog) knownOps() map[uint64]struct{} { return *c.opHashes.Load() }

func (c *catalog) addMetrics(md pmetric.Metrics) {
	var missing []string
	c.mu.RLock()
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if _, ok := c.metrics[ms.At(k).Name()]; !ok && pointCount(ms.At(k)) > 0 {
					missing = append(missing, ms.At(k).Name())
				}
			}
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range missing {
		c.metrics[n] = struct{}{}
	}
}

func (c *catalog) addAttrKeys(keys map[string]struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range keys {
		c.attrKeys[k] = struct{}{}
	}
}

// Services returns the sorted names of the services seen. Spans without service.name are not counted.
func (e *Engine) Services(ctx context.Context) ([]string, error) {
	if err := e.checkWrite(ctx); err != nil {
		return nil, err
	}
	e.cat.mu.RLock()
	defer e.cat.mu.RUnlock()
	out := make([]string, 0, len(e.cat.services))
	for s := range e.cat.services {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Operations returns the span names and kinds seen, sorted by name, then kind, then service.
func (e *Engine) Operations(ctx context.Context, q storage.OperationQuery) ([]storage.Operation, error) {
	if err := e.checkWrite(ctx); err != nil {
		return nil, err
	}
	e.cat.mu.RLock()
	var out []storage.Operation
	for o := range e.cat.ops {
		if (q.Service == "" || o.Service == q.Service) && (q.Kind == ptrace.SpanKindUnspecified || ptrace.SpanKind(o.Kind) == q.Kind) {
			out = append(out, storage.Operation{Service: o.Service, Name: o.Name, Kind: ptrace.SpanKind(o.Kind)})
		}
	}
	e.cat.mu.RUnlock()
	slices.SortFunc(out, func(a, b storage.Operation) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Service, b.Service)
	})
	return out, nil
}

// AttributeKeys returns the sorted attribute keys (span, log, resource and scope) of the flushed data, for
// autocompletion. Keys written since the last flush appear after it.
func (e *Engine) AttributeKeys(ctx context.Context) ([]string, error) {
	if err := e.checkWrite(ctx); err != nil {
		return nil, err
	}
	e.cat.mu.RLock()
	defer e.cat.mu.RUnlock()
	out := make([]string, 0, len(e.cat.attrKeys))
	for k := range e.cat.attrKeys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// MetricNames returns the sorted names of the metrics seen.
func (e *Engine) MetricNames(ctx context.Context) ([]string, error) {
	if err := e.checkWrite(ctx); err != nil {
		return nil, err
	}
	e.cat.mu.RLock()
	defer e.cat.mu.RUnlock()
	out := make([]string, 0, len(e.cat.metrics))
	for k := range e.cat.metrics {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}
