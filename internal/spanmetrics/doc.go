// Package spanmetrics derives rate, error and duration (RED) metrics from the spans otlpd receives, so that a
// dashboard or an alert can read request rates, error ratios and latency percentiles per service and operation
// from PromQL in constant time, however many spans are stored.
//
// A Generator is a pipeline observer: for each span it increments, under one lock, the state of its key
// (service.name of the resource, span name, span kind, status code): a call count, a duration sum and the
// counts of an explicit-bucket histogram in milliseconds, plus the slowest span since the last write as an
// exemplar. It reads a batch decoded (ConsumeTraces) or, so that the batch need not be decoded for it, as its
// protobuf encoding in place (ConsumeTracesRaw, raw.go); both count the same series. Every Interval it writes the state as cumulative OTLP metrics, the way the OpenTelemetry
// Collector's span metrics connector names them:
//
//	traces.span.metrics.calls     monotonic sum    -> traces_span_metrics_calls_total
//	traces.span.metrics.duration  histogram, ms    -> traces_span_metrics_duration_milliseconds_bucket/_sum/_count
//
// with the attributes service.name, span.name, span.kind (SPAN_KIND_SERVER, ...) and status.code
// (STATUS_CODE_ERROR, ...), which become the labels service_name, span_name, span_kind and status_code; the
// resource's service.name also gives the job label. Memory is bounded: past Options.MaxSeries keys, the spans
// of a new key are counted in one series per service marked otel.metric.overflow=true, and a key without spans
// for Options.IdleTTL is dropped (its series then go stale). Counts restart at zero when otlpd restarts; the
// start timestamp of each point says so, and PromQL's rate and increase treat it as a counter reset.
package spanmetrics
