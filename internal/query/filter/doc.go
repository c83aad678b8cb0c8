// Package filter implements the otlpd filter language, the one query syntax shared by trace search, log
// search and live tail. A filter is a boolean expression over a span's or a log record's fields:
//
//	service.name = "checkout" and duration > 250ms and http.response.status_code >= 500
//	severity >= warn and body contains "timeout" and not resource.k8s.namespace.name = "test"
//
// Parse turns the text into an Expr (a syntax tree). Expr.Spans and Expr.Logs compile it for one signal into
// a matcher that implements storage.SpanMatcher or storage.LogMatcher, and whose Apply method copies the
// conditions a storage backend can answer from its indexes (service, span name, kind, status, duration,
// severity, body text, trace ID and attribute equality) into a storage.SpanQuery or storage.LogQuery. The
// matcher is then evaluated on every candidate, so pushed-down conditions only ever narrow the candidates:
// each one is implied by the whole expression.
//
// The syntax and semantics are documented for users in docs/filter.md.
//
// Limits: a filter is at most MaxLength bytes, nests at most MaxDepth levels, and each regular expression is
// at most MaxRegexpLength bytes. Regular expressions are RE2 (package regexp): matching is linear in the
// input, compiled once per filter.
package filter
