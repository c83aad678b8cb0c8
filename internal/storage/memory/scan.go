package memory

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

var _ storage.SpanScanner = (*Store)(nil)

// ScanSpans calls fn with the stored spans matching q, newest first, without copying them. Stored spans are
// never modified, so fn may read them after the lock is released.
func (s *Store) ScanSpans(ctx context.Context, q storage.SpanQuery, fn func(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool) error {
	top := newTopK(orDefault(q.Limit, DefaultSpanLimit), newerSpan)
	if err := s.matchSpans(ctx, q, top.offer); err != nil {
		return fmt.Errorf("scan spans: %w", err)
	}
	for i, e := range top.sorted() {
		if i%4096 == 4095 {
			if err := ctxErr(ctx); err != nil {
				return fmt.Errorf("scan spans: %w", err)
			}
		}
		if !fn(e.scope.res.rs.Resource(), e.scope.ss.Scope(), e.span) {
			return nil
		}
	}
	return nil
}
