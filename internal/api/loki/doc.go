// Package loki serves a Loki-compatible HTTP API (/loki/api/v1/...) over otlpd's log records, so that
// Grafana's Loki data source works against otlpd: Explore (log lines, the log volume histogram, the label
// browser), dashboards with LogQL metric queries, and the data source's health check.
//
// Every log record is an entry of a stream. Its stream labels are its resource attributes (service.name
// as service_name, other keys with every character outside [A-Za-z0-9_] replaced by "_") and level, the
// class of its severity number (trace, debug, info, warn, error, fatal; unknown when unset). Its structured
// metadata is its own attributes, trace_id, span_id and detected_level (the level again). Its line is the
// string form of its body, and its time the record's time (or its observed time when that is 0).
//
// Queries are written in a subset of LogQL (ParseLogQL; docs/loki.md lists it). A query runs in two
// parts: storageQuery hands the storage what it can evaluate itself (the time range, service_name, a
// severity range for level matchers, a substring of the body, and the selector and line filters as a
// storage.LogMatcher), and the pipeline then runs on each record returned, in Go. Every query reads at
// most Options.MaxScan records and runs for at most Options.Timeout; a result cut short carries a warning.
//
// The live tail (/loki/api/v1/tail, a WebSocket) reads the live tail hub of internal/tail, which
// `otlpd serve` owns: it mounts TailHandler next to the hub's own stream.
//
// Files: api.go (routes, parameters, errors), logql_*.go (lexer, syntax tree, parser), labels.go (the
// label mapping), pipeline.go (line filters, parsers, label filters), pushdown.go (what the storage
// evaluates), query.go (log queries), metric.go (metric queries), series.go (labels, series, index stats),
// volume.go (index volume), tail.go (live tail).
package loki
