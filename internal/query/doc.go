// Package query answers the questions the UI, the CLI and the query APIs ask of stored traces and logs: trace
// search with summaries, traces by ID in pages, log search with a histogram, autocomplete catalogs, RED
// metrics, the service dependency graph, the critical path of a trace and the comparison of two traces.
//
// A Querier works on any storage.SpanReader and storage.LogReader. Every query is bounded three ways: a
// default time range when the caller gives none (Options.DefaultLookback), a timeout (Options.Timeout) and a
// cap on results and on the spans or records scanned (Options.Max*). When a scan cap cuts a computation short
// the result says so (Truncated), so a partial answer is never mistaken for a whole one.
//
// The algorithms for critical path, self time and clock-skew adjustment are described in docs/analysis.md.
package query
