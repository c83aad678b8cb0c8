// Package tail is otlpd's live tail: a hub that sees every accepted batch (as a pipeline observer) and hands
// copies of the matching spans, log records and metric points to subscribers, an HTTP endpoint that streams
// them as newline-delimited JSON, a client for that stream, and the one-line text format `otlpd tail` prints.
//
// The hub never slows ingestion down: each subscriber has a bounded buffer, and when it is full the items
// that do not fit are dropped and counted (the stream reports the count in its heartbeat lines). With no
// subscriber, observing a batch costs one atomic load.
//
// The stream is GET /api/otlpd/tail?signal=spans,logs,metrics&service=NAME&filter=EXPR (q= is an alias of
// filter=). It comes in two forms:
//   - newline-delimited JSON (the default; `otlpd tail` reads it): one Item per line, {"signal":"span",...},
//     {"signal":"log",...} or {"signal":"metric",...}, and every few seconds {"signal":"heartbeat","dropped":N}
//     where N is the number of items dropped for this stream so far;
//   - Server-Sent Events, when the request accepts text/event-stream (a browser's EventSource): each event's
//     data is an OTLP JSON document (TracesData, LogsData or MetricsData) holding the items gathered since
//     the previous event, and heartbeats are SSE comments (": heartbeat dropped=N").
package tail
