package promconv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/otlptranslator"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Strategy is how OTLP metric and attribute names become Prometheus names.
type Strategy string

// The naming strategies of the Prometheus OTLP receiver.
const (
	// UnderscoreEscapingWithSuffixes replaces every character outside [a-zA-Z0-9_:] by "_" and appends unit and
	// type suffixes (_seconds, _total, _ratio, ...). The default: names work with every PromQL client.
	UnderscoreEscapingWithSuffixes Strategy = "UnderscoreEscapingWithSuffixes"
	// UnderscoreEscapingWithoutSuffixes escapes like UnderscoreEscapingWithSuffixes but adds no suffix.
	UnderscoreEscapingWithoutSuffixes Strategy = "UnderscoreEscapingWithoutSuffixes"
	// NoUTF8EscapingWithSuffixes keeps UTF-8 names as they are and appends the suffixes.
	NoUTF8EscapingWithSuffixes Strategy = "NoUTF8EscapingWithSuffixes"
	// NoTranslation keeps names exactly as sent.
	NoTranslation Strategy = "NoTranslation"
)

// ParseStrategy returns the strategy named s; "" is the default UnderscoreEscapingWithSuffixes.
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(s); st {
	case "":
		return UnderscoreEscapingWithSuffixes, nil
	case UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes, NoTranslation:
		return st, nil
	}
	return "", fmt.Errorf("%q is not a naming strategy (want %s, %s, %s or %s)", s,
		UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes, NoTranslation)
}

func (s Strategy) suffixes() bool {
	return s != UnderscoreEscapingWithoutSuffixes && s != NoTranslation
}
func (s Strategy) utf8() bool { return s == NoUTF8EscapingWithSuffixes || s == NoTranslation }

// Options configures a Converter.
type Options struct {
	Strategy Strategy // "": UnderscoreEscapingWithSuffixes
	// PromoteResourceAttributes are resource attributes added as labels to every series of the resource
	// (they also stay on target_info).
	PromoteResourceAttributes []string
	// LookbackDelta is the PromQL lookback; target_info gets a sample every LookbackDelta/2 across the time
	// span of a batch so that joins with it find a value. 0: 5 minutes.
	LookbackDelta time.Duration
	Accumulator   AccumulatorOptions
	// SeriesCacheSize bounds the series cache (see the package documentation), in OTLP series; 0:
	// DefaultSeriesCacheSize; negative: no cache (every point goes through the translator).
	SeriesCacheSize int
}

// Converter translates OTLP batches and appends them. Safe for concurrent use.
type Converter struct {
	settings prometheusremotewrite.Settings
	noTarget prometheusremotewrite.Settings // settings without target_info, for parts of a batch
	cache    *seriesCache                   // nil: off
	acc      *Accumulator
	namer    otlptranslator.MetricNamer
	pool     sync.Pool // *prometheusremotewrite.PrometheusConverter
	states   sync.Pool // *convState
}

// NewConverter returns a Converter.
func NewConverter(opts Options) (*Converter, error) {
	st, err := ParseStrategy(string(opts.Strategy))
	if err != nil {
		return nil, err
	}
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = 5 * time.Minute
	}
	s := prometheusremotewrite.Settings{
		AddMetricSuffixes:               st.suffixes(),
		AllowUTF8:                       st.utf8(),
		PromoteScopeMetadata:            true,
		LabelNameUnderscoreSanitization: true,
		// Keeps a leading "__" (reserved) instead of collapsing it into "_" and prefixing "key".
		LabelNamePreserveMultipleUnderscores: true,
		LookbackDelta:                        opts.LookbackDelta,
	}
	if len(opts.PromoteResourceAttributes) > 0 {
		s.PromoteResourceAttributes = prometheusremotewrite.NewPromoteResourceAttributes(promoteConfig(opts.PromoteResourceAttributes))
	}
	c := &Converter{
		settings: s,
		noTarget: s,
		acc:      NewAccumulator(opts.Accumulator),
		namer:    otlptranslator.MetricNamer{WithMetricSuffixes: s.AddMetricSuffixes, UTF8Allowed: s.AllowUTF8},
	}
	c.noTarget.DisableTargetInfo = true
	if opts.SeriesCacheSize >= 0 {
		c.cache = newSeriesCache(opts.SeriesCacheSize)
	}
	return c, nil
}

// ForgetSeriesBefore drops from the series cache the series whose newest point is older than minTime
// (Unix ms): the store calls it when its head no longer holds samples before minTime. It returns the number of
// OTLP series dropped.
func (c *Converter) ForgetSeriesBefore(minTime int64) int {
	if c.cache == nil {
		return 0
	}
	return c.cache.forgetBefore(minTime)
}

// CachedSeries returns the number of OTLP series in the series cache.
func (c *Converter) CachedSeries() int {
	if c.cache == nil {
		return 0
	}
	return c.cache.len()
}

// Accumulator returns the converter's delta-to-cumulative state.
func (c *Converter) Accumulator() *Accumulator { return c.acc }

// Result counts what a Convert call did not store.
type Result struct {
	Rejected int64    // OTLP data points refused (delta non-monotonic sums, invalid names, out of order deltas)
	Samples  int64    // Prometheus samples appended
	Failed   int64    // Prometheus samples the appender refused (counted in the appender's own terms)
	Reasons  []string // distinct reasons, for the client, at most 8
}

func (r *Result) reason(s string) {
	for _, x := range r.Reasons {
		if x == s {
			return
		}
	}
	if len(r.Reasons) < 8 {
		r.Reasons = append(r.Reasons, s)
	}
}

// SampleError is what an appender returns for a sample it refuses while the rest of a batch goes on: the
// converter counts it and keeps going. Any other error aborts the conversion of the metric being converted.
type SampleError struct{ Reason string }

func (e *SampleError) Error() string { return e.Reason }

// Convert translates md and appends it to app. It does not commit. md is not modified. The returned error is
// only for failures of the whole call (a canceled context); refused points are counted in the Result.
func (c *Converter) Convert(ctx context.Context, md pmetric.Metrics, app storage.AppenderV2) (Result, error) {
	var res Result
	md, dropped, reasons := c.acc.Apply(md)
	res.Rejected += dropped
	for _, r := range reasons {
		res.reason(r)
	}
	fa := &filterAppender{next: app, res: &res, zero: zeroThresholds(md)}
	var err error
	if c.cache != nil {
		err = c.convertCached(ctx, md, fa)
	} else {
		pc, _ := c.pool.Get().(*prometheusremotewrite.PrometheusConverter)
		if pc == nil {
			pc = prometheusremotewrite.NewPrometheusConverter(fa)
		} else {
			pc.Reset(fa)
		}
		_, err = pc.FromMetrics(ctx, md, c.settings)
		pc.Reset(nil)
		c.pool.Put(pc)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, ctxErr
		}
		// The translator joins one error per metric it could not convert; count their points.
		n, why := c.unconvertible(md)
		res.Rejected += n
		if why != "" {
			res.reason(why)
		} else {
			res.reason("some metrics could not be converted to the Prometheus model")
		}
	}
	return res, nil
}

// unconvertible counts the points of metrics the translator refuses (names that translate to nothing,
// unspecified temporality) and returns one reason.
func (c *Converter) unconvertible(md pmetric.Metrics) (int64, string) {
	var n int64
	var why string
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				if _, err := c.namer.Build(prometheusremotewrite.TranslatorMetricFromOtelMetric(m)); err != nil {
					n += int64(pointCount(m))
					why = fmt.Sprintf("metric %q: name has no Prometheus form: %v", m.Name(), err)
					continue
				}
				if t, ok := temporality(m); ok && t != pmetric.AggregationTemporalityCumulative {
					n += int64(pointCount(m))
					why = fmt.Sprintf("metric %q: aggregation temporality %s is not supported", m.Name(), t)
				}
			}
		}
	}
	return n, why
}

func temporality(m pmetric.Metric) (pmetric.AggregationTemporality, bool) {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().AggregationTemporality(), true
	case pmetric.MetricTypeHistogram:
		return m.Histogram().AggregationTemporality(), true
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().AggregationTemporality(), true
	}
	return 0, false
}

func pointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// filterAppender drops exemplars from series that are not counters or histograms (the compatibility rules
// keep exemplars only on monotonic sums and histograms), and turns SampleErrors into counts so that one
// refused sample does not abort the rest of its metric.
type filterAppender struct {
	next storage.AppenderV2
	res  *Result
	zero map[zeroKey]float64 // zero thresholds of the batch's exponential histogram points; nil: none set
}

// zeroKey identifies an exponential histogram point in what the translator hands the appender (it drops the
// point's zero threshold): its time and the counts and sum the native histogram keeps.
type zeroKey struct {
	t                int64
	count, zeroCount uint64
	sum              uint64 // bits
}

// zeroThresholds collects the zero thresholds the exponential histogram points of md set (above the
// Prometheus default), by point. Two points alike in time, counts and sum but not in threshold (nearly
// impossible) keep the default.
func zeroThresholds(md pmetric.Metrics) map[zeroKey]float64 {
	var out map[zeroKey]float64
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if ms.At(k).Type() != pmetric.MetricTypeExponentialHistogram {
					continue
				}
				dps := ms.At(k).ExponentialHistogram().DataPoints()
				for d := range dps.Len() {
					p := dps.At(d)
					z := p.ZeroThreshold()
					if !(z > defaultZeroThreshold) || math.IsInf(z, 0) || p.Flags().NoRecordedValue() {
						continue
					}
					var sum float64
					if p.HasSum() {
						sum = p.Sum()
					}
					key := zeroKey{t: p.Timestamp().AsTime().UnixMilli(), count: p.Count(), zeroCount: p.ZeroCount(), sum: math.Float64bits(sum)}
					if out == nil {
						out = map[zeroKey]float64{}
					}
					if old, ok := out[key]; ok && old != z {
						z = -1 // ambiguous
					}
					out[key] = z
				}
			}
		}
	}
	return out
}

// defaultZeroThreshold is the zero threshold the translator gives every native histogram.
const defaultZeroThreshold = 1e-128

func (a *filterAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	if len(opts.Exemplars) > 0 {
		switch opts.Metadata.Type {
		case model.MetricTypeCounter, model.MetricTypeHistogram, model.MetricTypeGaugeHistogram:
		default:
			opts.Exemplars = nil
		}
	}
	if h != nil && a.zero != nil {
		if z, ok := a.zero[zeroKey{t: t, count: h.Count, zeroCount: h.ZeroCount, sum: math.Float64bits(h.Sum)}]; ok && z > 0 {
			h.ZeroThreshold = z
		}
	}
	r, err := a.next.Append(ref, ls, st, t, v, h, fh, opts)
	if err != nil {
		var se *SampleError
		if errors.As(err, &se) {
			a.res.Failed++
			a.res.reason(se.Reason)
			return 0, nil
		}
		return 0, err
	}
	a.res.Samples++
	a.created(ls, st, t, v, opts)
	return r, nil
}

// created adds <name>_created, the summary's start time in seconds, next to each summary _count sample that
// has a start time (the compatibility rules make it optional; it tells a restarted summary from a continued
// one). The translator has no option for it.
func (a *filterAppender) created(ls labels.Labels, st, t int64, v float64, opts storage.AppendV2Options) {
	if opts.Metadata.Type != model.MetricTypeSummary || st <= 0 || st > t || value.IsStaleNaN(v) {
		return
	}
	name := ls.Get(labels.MetricName)
	if name != opts.MetricFamilyName+"_count" {
		return
	}
	b := labels.NewBuilder(ls)
	b.Set(labels.MetricName, opts.MetricFamilyName+"_created")
	opts.Exemplars = nil
	if _, err := a.next.Append(0, b.Labels(), 0, t, float64(st)/1000, nil, nil, opts); err != nil {
		var se *SampleError
		if !errors.As(err, &se) {
			return // the TSDB refused it (out of order, ...): the summary itself is stored
		}
		a.res.reason(se.Reason)
		return
	}
	a.res.Samples++
}

func (a *filterAppender) Commit() error   { return a.next.Commit() }
func (a *filterAppender) Rollback() error { return a.next.Rollback() }
