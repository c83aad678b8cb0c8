package promconv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/otlptranslator"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
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
}

// Converter translates OTLP batches and appends them. Safe for concurrent use.
type Converter struct {
	settings prometheusremotewrite.Settings
	acc      *Accumulator
	namer    otlptranslator.MetricNamer
	pool     sync.Pool // *prometheusremotewrite.PrometheusConverter
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
	return &Converter{
		settings: s,
		acc:      NewAccumulator(opts.Accumulator),
		namer:    otlptranslator.MetricNamer{WithMetricSuffixes: s.AddMetricSuffixes, UTF8Allowed: s.AllowUTF8},
	}, nil
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
	fa := &filterAppender{next: app, res: &res}
	pc, _ := c.pool.Get().(*prometheusremotewrite.PrometheusConverter)
	if pc == nil {
		pc = prometheusremotewrite.NewPrometheusConverter(fa)
	} else {
		pc.Reset(fa)
	}
	_, err := pc.FromMetrics(ctx, md, c.settings)
	pc.Reset(nil)
	c.pool.Put(pc)
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
}

func (a *filterAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	if len(opts.Exemplars) > 0 {
		switch opts.Metadata.Type {
		case model.MetricTypeCounter, model.MetricTypeHistogram, model.MetricTypeGaugeHistogram:
		default:
			opts.Exemplars = nil
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
	return r, nil
}

func (a *filterAppender) Commit() error   { return a.next.Commit() }
func (a *filterAppender) Rollback() error { return a.next.Rollback() }
