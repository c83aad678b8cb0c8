// Package loadgen sends the reference workload (package workload) to an OTLP endpoint as fast as possible or
// at a fixed rate, and measures what the server accepted and how long each export took.
//
// Requests are encoded before the clock starts, so the generator costs nothing but a send per request. Each
// worker owns a share of the encoded requests and replays them in rounds; between rounds it rewrites, in the
// encoded bytes, the fields that would otherwise make a replay a duplicate: the trace IDs of spans and links
// (traces), the timestamps of points (metrics) and the times of log records (logs), both shifted by the time
// the pool covers, so that every series stays in order and no replayed record equals an earlier one.
//
// It speaks OTLP/gRPC (with a codec that passes the encoded bytes through) and OTLP/HTTP with protobuf or
// JSON bodies, and it works against any OTLP server.
package loadgen
