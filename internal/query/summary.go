package query

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// scanSummaries calls fn with the summary of each span sq matches, up to MaxScanSpans (the newest ones when
// more match); truncated reports whether more spans matched. It reads summaries from the backend when it is a
// storage.SpanSummaryScanner (which need not decode whole spans), else summarizes the spans of scanSpans. fn
// must not keep the summary; its strings must be cloned to be kept.
func (q *Querier) scanSummaries(ctx context.Context, sq storage.SpanQuery, opts storage.SummaryOptions, fn func(s *storage.SpanSummary)) (truncated bool, err error) {
	ss, ok := q.spans.(storage.SpanSummaryScanner)
	if !ok {
		var sum storage.SpanSummary
		var lastRes pcommon.Resource
		service := ""
		return q.scanSpans(ctx, sq, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) {
			if res != lastRes {
				lastRes, service = res, serviceOf(res)
			}
			storage.Summarize(&sum, service, sp, opts)
			fn(&sum)
		})
	}
	sq.Limit = q.opts.MaxScanSpans
	truncated, err = ss.ScanSpanSummaries(ctx, sq, opts, func(s *storage.SpanSummary) bool {
		fn(s)
		return true
	})
	if err != nil {
		return false, err
	}
	return truncated, nil
}
