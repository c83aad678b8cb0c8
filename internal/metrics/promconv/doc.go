// Package promconv translates OTLP metrics into the Prometheus data model by the OpenTelemetry-to-Prometheus
// compatibility rules, and appends the result to a Prometheus storage.AppenderV2.
//
// The per-point rules (metric and label names, unit and type suffixes, job/instance, target_info, scope labels,
// exemplars, exponential histograms as native histograms, summaries, NO_RECORDED_VALUE as a staleness marker)
// are those of the Prometheus project's own OTLP translator, which this package drives; the naming strategy is
// chosen by Options.Strategy. On top of it this package adds what Prometheus leaves to a feature flag or to the
// caller:
//
//   - Delta to cumulative (Accumulator): monotonic sums, histograms and exponential histograms with DELTA
//     temporality are summed per series into cumulative points. Delta non-monotonic sums are dropped, as the
//     compatibility rules say, and reported as rejected.
//   - Exemplars are kept only on histograms and monotonic sums.
//   - Exponential histograms become native histograms with the zero threshold of Prometheus (1e-128) whatever
//     the point's zero_threshold; the zero count is kept. Delta exponential histograms are made cumulative
//     like the others (the compatibility rules allow dropping them; summing them is exact).
//   - Append errors of single samples (out of order, out of bounds, refused by a limit) do not abort the batch:
//     they are counted and the rest is stored.
//
// # Series cache
//
// The translator builds the label set of every Prometheus series of every point (a classic histogram with 15
// bounds is 18 series: its buckets, _count and _sum). The converter remembers what it made of each OTLP series
// of a gauge, a cumulative sum or a cumulative classic histogram: the label sets, the storage references the
// appender returned for them and their family's metadata. A later point of the series is appended from the
// cache, by reference and with the same values, start time and order the translator would use; the translator
// still gets every point of other types (exponential histograms, summaries, what stays delta), points with
// exemplars or NO_RECORDED_VALUE, points of series not yet known, and target_info (once per batch, from the
// batch's resources and the time span of each scope). A point of a known series that must go to the
// translator sends the later points of that series in the batch there too, so a series' samples keep their
// order.
//
// An OTLP series is found by its resource attributes, scope (name, version, schema URL, attributes), metric
// (name, unit, description, type, monotonicity, temporality) and point attributes (and for a histogram
// whether the point has a sum), encoded without loss and compared byte for byte: two series never share an
// entry, whatever their hashes. A histogram point is checked against the bounds and bucket count of its
// entry; other bounds go to the translator, whose series then replace the entry.
//
// The cache holds at most Options.SeriesCacheSize OTLP series (default 250,000); once full, new series go
// through the translator every time. An entry costs about 0.4 KiB on the reference workload (measured:
// 38 MB for its 100,000 OTLP series, about 9% on top of the TSDB head; the label sets are those the head
// holds, not copies). ForgetSeriesBefore drops the series whose newest point is older than a time; the store
// calls it when its head's start moves (after the head dropped the older series), so entries go with their
// series.
//
// # Delta-to-cumulative state
//
// The accumulator keeps one entry per delta series (resource, scope, metric name and type, point attributes):
// the start time, the time of the last point and the running sums (one float for sums; the bucket counts for
// histograms). An entry costs about 150 bytes plus 8 bytes per bucket. The number of entries is bounded by
// AccumulatorOptions.MaxSeries (default 100,000); an entry not updated for AccumulatorOptions.IdleTTL (default
// 1 h) is forgotten, and a point that would need a new entry while the table is full is rejected. Resets and
// gaps follow the OTLP data model:
//
//   - The first point of a series (or the first after its entry was forgotten) starts a cumulative series whose
//     start time is the point's start time (its time when the start is unknown).
//   - A point whose start time equals the previous point's time continues the series.
//   - A point whose start time is later than the previous point's time (a gap: the producer missed intervals or
//     restarted) also continues the series: what was not reported cannot be added, and the cumulative value
//     stays a correct lower bound that never decreases, so rate() is not disturbed by a false reset.
//   - A point at or before the previous point's time, or whose interval overlaps the previous one, would count
//     the same increments twice; it is rejected.
//   - A histogram whose bucket bounds change starts a new cumulative series at that point (a reset).
//   - A NO_RECORDED_VALUE point passes through as a staleness marker and leaves the sums unchanged.
package promconv
