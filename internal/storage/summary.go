package storage

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Summarize fills dst with the summary of sp, a span of the given service, as SpanSummaryScanner describes.
// Backends that hold pdata use it; so do callers falling back from SpanSummaryScanner.
func Summarize(dst *SpanSummary, service string, sp ptrace.Span, opts SummaryOptions) {
	*dst = SpanSummary{
		TraceID:      TraceID(sp.TraceID()),
		SpanID:       sp.SpanID(),
		ParentSpanID: sp.ParentSpanID(),
		Service:      service,
		Name:         sp.Name(),
		Kind:         sp.Kind(),
		StatusCode:   sp.Status().Code(),
		Start:        int64(sp.StartTimestamp()),
		End:          int64(sp.EndTimestamp()),
	}
	if len(opts.PeerKeys) == 0 || dst.Kind != ptrace.SpanKindClient {
		return
	}
	attrs := sp.Attributes()
	for _, k := range opts.PeerKeys {
		if v, ok := attrs.Get(k); ok {
			if s := v.AsString(); s != "" {
				dst.Peer = s
				return
			}
		}
	}
}

// ServiceName returns the resource attribute service.name (its string form), or "" when absent.
func ServiceName(res pcommon.Resource) string {
	if v, ok := res.Attributes().Get("service.name"); ok {
		return v.AsString()
	}
	return ""
}
