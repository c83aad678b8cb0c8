// Package workload generates otlpd's reference workload (docs: the reference workload description shared by
// benchmarks, the load generator and side-by-side comparisons) deterministically from a seed.
//
// A Generator holds three independent streams, one per signal. Each stream depends only on the seed, the
// options and the number of items drawn from it so far: NextTraces(100) ten times yields the same spans, in
// the same order, as NextTraces(1000) once. Traces may be split across batches, as an SDK's batch processor
// splits them.
//
// Shape of the data:
//   - 100 resources: 20 services x 5 instances, 12 resource attributes each.
//   - Traces of 2-40 spans (mean about 10): one SERVER root, then CLIENT (HTTP, gRPC, database) and
//     INTERNAL spans across 2-5 services; every child lies inside its parent's time range. About 10
//     semantic-convention attributes per span. 2% of spans are errors with an "exception" event carrying a
//     20-line stack trace, 5% carry another event, 1% a link to an earlier span. Root durations are
//     log-normal; trace start times advance at Options.Rate spans per second.
//   - Logs on the same resources: 60% INFO, 20% DEBUG, 12% WARN, 7% ERROR, 1% FATAL; bodies of about 100
//     bytes from 50 templates, 10% of them key/value maps; 8 attributes; half of the records carry the trace
//     and span ID of a span that the trace stream of the same seed produces.
//   - Metrics: 1,000 series per resource (counters, gauges, explicit-bucket histograms with the default OTel
//     bounds, exponential histograms), one point per series per 10 s interval, all resources in turn.
package workload
