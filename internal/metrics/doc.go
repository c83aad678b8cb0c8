// Package metrics stores OTLP metrics in an embedded Prometheus TSDB: batches are translated by promconv,
// pass a cardinality guard, and are appended to the TSDB, which PromQL then reads (see internal/api/prom).
//
// The guard bounds memory: a new series is refused once the store holds Limits.MaxSeries active series or
// its metric holds Limits.MaxSeriesPerMetric; refusals are counted in otlpd_metrics_samples_refused_total,
// logged once per metric, and reported to the sender as partial success. Metric metadata (type, unit, help)
// is kept in memory for /api/v1/metadata and is rebuilt from new data after a restart.
//
// Known series take a fast path: promconv's series cache hands the appender the TSDB head reference of each
// series it has seen, and a sample with such a reference skips the guard (its series was admitted when it was
// made); the guard's sweep then asks the head whether such a series is still there rather than going by the
// time of its last sample. When the head's start moves (a truncation), the store tells the converter to drop
// the series older than it.
package metrics
