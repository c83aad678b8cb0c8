package server

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// testBackend is the smallest store the server tests need: it keeps every batch and answers the reads the
// native API makes. Replaced by the in-memory backend once that is available.
type testBackend struct {
	mu      sync.Mutex
	traces  []ptrace.Traces
	logs    []plog.Logs
	metrics []pmetric.Metrics
}

var _ storage.Backend = (*testBackend)(nil)

func (b *testBackend) WriteSpans(_ context.Context, td ptrace.Traces) error {
	c := ptrace.NewTraces()
	td.CopyTo(c)
	b.mu.Lock()
	b.traces = append(b.traces, c)
	b.mu.Unlock()
	return nil
}

func (b *testBackend) WriteLogs(_ context.Context, ld plog.Logs) error {
	c := plog.NewLogs()
	ld.CopyTo(c)
	b.mu.Lock()
	b.logs = append(b.logs, c)
	b.mu.Unlock()
	return nil
}

func (b *testBackend) WriteMetrics(_ context.Context, md pmetric.Metrics) error {
	c := pmetric.NewMetrics()
	md.CopyTo(c)
	b.mu.Lock()
	b.metrics = append(b.metrics, c)
	b.mu.Unlock()
	return nil
}

func (b *testBackend) GetTrace(_ context.Context, q storage.TraceQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) {
		out := ptrace.NewTraces()
		b.mu.Lock()
		for _, td := range b.traces {
			for i := 0; i < td.ResourceSpans().Len(); i++ {
				rs := td.ResourceSpans().At(i)
				for j := 0; j < rs.ScopeSpans().Len(); j++ {
					ss := rs.ScopeSpans().At(j)
					for k := 0; k < ss.Spans().Len(); k++ {
						if s := ss.Spans().At(k); s.TraceID() == q.TraceID {
							ors := out.ResourceSpans().AppendEmpty()
							rs.Resource().CopyTo(ors.Resource())
							ors.SetSchemaUrl(rs.SchemaUrl())
							oss := ors.ScopeSpans().AppendEmpty()
							ss.Scope().CopyTo(oss.Scope())
							oss.SetSchemaUrl(ss.SchemaUrl())
							s.CopyTo(oss.Spans().AppendEmpty())
						}
					}
				}
			}
		}
		b.mu.Unlock()
		if out.SpanCount() == 0 {
			yield(ptrace.Traces{}, storage.ErrNotFound)
			return
		}
		yield(out, nil)
	}
}

func (b *testBackend) FindTraceIDs(context.Context, storage.SpanQuery) ([]storage.TraceRef, error) {
	return nil, errors.ErrUnsupported
}

func (b *testBackend) FindSpans(context.Context, storage.SpanQuery) iter.Seq2[ptrace.Traces, error] {
	return func(yield func(ptrace.Traces, error) bool) { yield(ptrace.Traces{}, errors.ErrUnsupported) }
}

func (b *testBackend) Services(context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for _, td := range b.traces {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			if v, ok := td.ResourceSpans().At(i).Resource().Attributes().Get("service.name"); ok && !slices.Contains(names, v.AsString()) {
				names = append(names, v.AsString())
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

func (b *testBackend) Operations(context.Context, storage.OperationQuery) ([]storage.Operation, error) {
	return nil, errors.ErrUnsupported
}

func (b *testBackend) FindLogs(_ context.Context, q storage.LogQuery) iter.Seq2[plog.Logs, error] {
	return func(yield func(plog.Logs, error) bool) {
		out := plog.NewLogs()
		b.mu.Lock()
		// Newest batch first, newest record of a batch first: the tests send records in time order.
		for bi := len(b.logs) - 1; bi >= 0; bi-- {
			ld := b.logs[bi]
			for i := ld.ResourceLogs().Len() - 1; i >= 0; i-- {
				rl := ld.ResourceLogs().At(i)
				if v, _ := rl.Resource().Attributes().Get("service.name"); q.Service != "" && v.AsString() != q.Service {
					continue
				}
				for j := rl.ScopeLogs().Len() - 1; j >= 0; j-- {
					sl := rl.ScopeLogs().At(j)
					for k := sl.LogRecords().Len() - 1; k >= 0; k-- {
						if q.Limit > 0 && out.LogRecordCount() >= q.Limit {
							continue
						}
						orl := out.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(orl.Resource())
						osl := orl.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(osl.Scope())
						sl.LogRecords().At(k).CopyTo(osl.LogRecords().AppendEmpty())
					}
				}
			}
		}
		b.mu.Unlock()
		yield(out, nil)
	}
}

func (b *testBackend) MetricNames(context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for _, md := range b.metrics {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				for k := 0; k < sms.At(j).Metrics().Len(); k++ {
					if n := sms.At(j).Metrics().At(k).Name(); !slices.Contains(names, n) {
						names = append(names, n)
					}
				}
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

func (b *testBackend) FindMetrics(_ context.Context, q storage.MetricQuery) iter.Seq2[pmetric.Metrics, error] {
	return func(yield func(pmetric.Metrics, error) bool) {
		out := pmetric.NewMetrics()
		b.mu.Lock()
		for _, md := range b.metrics {
			for i := 0; i < md.ResourceMetrics().Len(); i++ {
				rm := md.ResourceMetrics().At(i)
				for j := 0; j < rm.ScopeMetrics().Len(); j++ {
					sm := rm.ScopeMetrics().At(j)
					for k := 0; k < sm.Metrics().Len(); k++ {
						if m := sm.Metrics().At(k); q.Name == "" || m.Name() == q.Name {
							orm := out.ResourceMetrics().AppendEmpty()
							rm.Resource().CopyTo(orm.Resource())
							osm := orm.ScopeMetrics().AppendEmpty()
							sm.Scope().CopyTo(osm.Scope())
							m.CopyTo(osm.Metrics().AppendEmpty())
						}
					}
				}
			}
		}
		b.mu.Unlock()
		yield(out, nil)
	}
}

func (b *testBackend) Close() error { return nil }
