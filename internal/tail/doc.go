// Package tail is otlpd's live tail: a hub that sees every accepted batch (as a pipeline observer) and hands
// copies of the matching spans, log records and metric points to subscribers, an HTTP endpoint that streams
// them as newline-delimited JSON, a client for that stream, and the one-line text format `otlpd tail` prints.
//
// The hub never slows ingestion down: each subscriber has a bounded buffer, and when it is full the items
// that do not fit are dropped and counted (the stream reports the count in its heartbeat lines). With no
// subscriber, observing a batch costs one atomic load.
//
// Stream format (GET /api/otlpd/tail?signal=spans,logs,metrics&service=NAME&filter=EXPR), one JSON object
// per line, each an Item: {"signal":"span",...}, {"signal":"log",...}, {"signal":"metric",...}, and every
// few seconds {"signal":"heartbeat","dropped":N} where N is the number of items dropped for this stream so far.
package tail
