// Package otlp receives OTLP traces, metrics and logs over gRPC and HTTP, decodes and validates them, and hands
// the accepted items to a Consumer (the pipeline).
//
// Both transports share one decode path per signal: the gRPC services are registered with a codec that hands
// the handler the raw request bytes, which are decoded by the same functions the HTTP handler uses for
// application/x-protobuf (pdata's ExportRequest.UnmarshalProto). That path is what the fuzz targets and the
// decode benchmarks exercise.
//
// A protobuf traces or logs request may skip decoding: when the consumer takes raw batches (RawConsumer, as
// the pipeline does) and the request passes the wire check (wirecheck.go: pdata would decode it, validation
// would keep all of it, and its encoding is plain), its bytes go on as they are, and only consumers that need
// pdata pay for a decode. Any other request takes the decoding path.
//
// Limits (config.Ingest):
//   - an HTTP body is limited after decompression to MaxRequestBytes (413 above it); decompression stops as
//     soon as the limit is passed, so a small compressed body cannot inflate without bound;
//   - a gRPC message is limited to MaxGRPCMessageBytes after decompression (RESOURCE_EXHAUSTED above it);
//   - a string or bytes attribute value (at any nesting depth, on resources, scopes, spans, events, links,
//     log records, data points and exemplars) and a string or bytes log body are limited to
//     MaxAttributeValueBytes; an item holding a larger one is rejected through partial success.
//
// Items that fail validation (see validate.go) are removed from the request and reported through OTLP partial
// success (a rejected count and an English message naming the first problems); the valid items of the same
// request are stored. When the pipeline is overloaded, exports are refused with gRPC UNAVAILABLE and a
// RetryInfo detail, or HTTP 503 with Retry-After.
package otlp
