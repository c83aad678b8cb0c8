// Package otlptest is an in-process OTLP receiver for go test: start one with NewServer, point any
// OpenTelemetry SDK (or otlpd's own tools) at its gRPC or HTTP endpoint, then wait for and assert on the spans,
// log records and metrics that arrived.
//
//	srv := otlptest.NewServer(t)
//	exp, _ := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(srv.GRPCAddr()), otlptracegrpc.WithInsecure())
//	... run the code under test, flush the provider ...
//	spans := srv.WaitSpans(ctx, 2)
//	child := spans.One(t, "db.query")
//	otlptest.AssertChildOf(t, child, spans.One(t, "GET /orders"))
//	otlptest.AssertAttributes(t, child, map[string]any{"db.system.name": "postgresql"})
//
// Both endpoints listen on 127.0.0.1 with a random port. The HTTP endpoint serves /v1/traces, /v1/metrics and
// /v1/logs in binary protobuf (application/x-protobuf) and JSON (application/json), optionally gzip-compressed;
// the gRPC endpoint serves the three OTLP collector services, gzip included.
//
// Waits fail the test (through the testing.TB given to NewServer) when the context ends first, printing
// everything that did arrive; call them from the test's goroutine. Received telemetry is flattened into plain
// structs (Span, LogRecord, Metric) whose attribute maps hold string, bool, int64, float64, []byte, []any and
// map[string]any values, as pcommon.Map.AsRaw returns them.
package otlptest
