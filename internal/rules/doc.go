// Package rules evaluates Prometheus recording and alerting rules against otlpd's metrics store, and sends
// alerts to Alertmanager.
//
// Rule files have the Prometheus format (groups of `record:` and `alert:` rules with `expr`, `for`,
// `labels`, `annotations`), so existing files and promtool work unchanged. Evaluation is Prometheus's own rule
// manager, using the PromQL engine of the query API: recording rules write their results to the metrics store
// (through the same series limits as ingested metrics), alerting rules keep their pending and firing alerts in
// memory. Rules can read every series otlpd holds, including the span metrics derived from traces
// (traces_span_metrics_*), so an alert can fire on a service's error ratio or latency without any metric being
// exported by the application.
//
// Notifications go to each configured Alertmanager with its v2 API (POST <url>/api/v2/alerts, a JSON array of
// alerts with labels, annotations, startsAt, endsAt and generatorURL), from a bounded queue: when an
// Alertmanager is slow or down, the oldest queued alerts are dropped and counted, never the evaluation. Rule
// managers resend firing alerts regularly, so a dropped notification is repeated.
//
// Reload re-reads the files (SIGHUP to `otlpd serve`); a file that does not load leaves the rules as they
// were and returns an error naming the file and the problem.
package rules
