// Package metrics stores OTLP metrics in an embedded Prometheus TSDB: batches are translated by promconv,
// pass a cardinality guard, and are appended to the TSDB, which PromQL then reads (see internal/api/prom).
//
// The guard bounds memory: a new series is refused once the store holds Limits.MaxSeries active series or
// its metric holds Limits.MaxSeriesPerMetric; refusals are counted in otlpd_metrics_samples_refused_total,
// logged once per metric, and reported to the sender as partial success. Metric metadata (type, unit, help)
// is kept in memory for /api/v1/metadata and is rebuilt from new data after a restart.
package metrics
