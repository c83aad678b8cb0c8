package memory

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

var _ storage.SpanSummaryScanner = (*Store)(nil)

// ScanSpanSummaries calls fn with the summary of each span ScanSpans visits (the store holds pdata, so a
// summary costs no decoding either way).
func (s *Store) ScanSpanSummaries(ctx context.Context, q storage.SpanQuery, opts storage.SummaryOptions, fn func(*storage.SpanSummary) bool) (truncated bool, err error) {
	limit := orDefault(q.Limit, DefaultSpanLimit)
	q.Limit = limit + 1 // one more, to know whether there are more
	var sum storage.SpanSummary
	var lastRes pcommon.Resource
	service := ""
	n := 0
	err = s.ScanSpans(ctx, q, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
		if n == limit {
			truncated = true
			return false
		}
		n++
		if res != lastRes {
			lastRes, service = res, storage.ServiceName(res)
		}
		storage.Summarize(&sum, service, sp, opts)
		return fn(&sum)
	})
	if err != nil {
		return false, err
	}
	return truncated, nil
}
