package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/metrics/promconv"
	"github.com/otlpd/otlpd/internal/pipeline"
	otlpdstorage "github.com/otlpd/otlpd/internal/storage"
)

// Options configures a Store.
type Options struct {
	// Dir is the TSDB directory (otlpd uses <data-dir>/metrics).
	Dir string
	// Retention drops blocks older than this; 0: keep forever (as otlpd's retention.max_age).
	Retention time.Duration
	// MaxBytes caps the TSDB's size on disk (oldest blocks go first); 0: no cap.
	MaxBytes int64
	// OutOfOrderWindow accepts samples up to this much older than the newest of their series; 0: 30 minutes.
	OutOfOrderWindow time.Duration
	// MaxExemplars is the size of the in-memory exemplar ring; 0: 100,000.
	MaxExemplars int64
	// NoSync acknowledges a commit once the TSDB has written it to its write-ahead log, without waiting for
	// fsync: points then survive a crash of otlpd but not of the machine. For benchmarks (otlpd --sync=none).
	NoSync  bool
	Limits  Limits
	Convert promconv.Options
	Logger  *slog.Logger // nil: discard
	// Registerer receives otlpd's metrics about this store and the TSDB's own; nil: not registered.
	Registerer prometheus.Registerer
}

// Limits is the cardinality guard. A sample of a series not yet known is refused when taking it would pass a
// limit; known series keep being written.
//
// Both limits count Prometheus series, the unit of the TSDB's memory: an active series costs about 1.2 KiB of
// heap (BenchmarkHeadBytesPerSeries: head series, labels, postings, open chunk, guard entry), so the default
// 1,000,000 bounds the head near 1.2-1.5 GiB. A metric is an OTLP metric (a Prometheus metric family): the
// _bucket, _count and _sum series of a histogram count together, so an explicit-bucket histogram with the 15
// default OTel bounds takes 18 series per OTLP series. The reference workload (100 resource groups of 1,000
// OTLP series) makes about 440,000 series, of which 360,000 belong to its one histogram metric: the
// defaults admit it on one node and still stop one runaway metric from taking the whole budget.
type Limits struct {
	MaxSeries          int // total active series; 0: 1,000,000
	MaxSeriesPerMetric int // active series per metric family; 0: 500,000
}

// DefaultMaxSeries and DefaultMaxSeriesPerMetric are the limits' defaults.
const (
	DefaultMaxSeries          = 1_000_000
	DefaultMaxSeriesPerMetric = 500_000
)

// Store keeps metrics in a Prometheus TSDB. Safe for concurrent use.
type Store struct {
	db       *tsdb.DB
	conv     *promconv.Converter
	guard    *guard
	meta     *metaStore
	syncer   *walSyncer // nil with Options.NoSync
	resets   *resets
	log      *slog.Logger
	appended prometheus.Counter
	refused  *prometheus.CounterVec
	closed   sync.Once
	headMin  atomic.Int64 // head start at the last series cache sweep
	// noRefCache makes appends look series up by labels, as without the guard's head references (for
	// tests comparing both paths).
	noRefCache bool
}

// Open opens (or creates) the TSDB in opts.Dir.
func Open(opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Retention < 0 {
		opts.Retention = 0
	}
	if opts.OutOfOrderWindow <= 0 {
		opts.OutOfOrderWindow = 30 * time.Minute
	}
	if opts.MaxExemplars <= 0 {
		opts.MaxExemplars = 100_000
	}
	if opts.Limits.MaxSeries <= 0 {
		opts.Limits.MaxSeries = DefaultMaxSeries
	}
	if opts.Limits.MaxSeriesPerMetric <= 0 {
		opts.Limits.MaxSeriesPerMetric = DefaultMaxSeriesPerMetric
	}
	conv, err := promconv.NewConverter(opts.Convert)
	if err != nil {
		return nil, fmt.Errorf("open metrics store: %w", err)
	}
	to := tsdb.DefaultOptions()
	to.RetentionDuration = opts.Retention.Milliseconds()
	to.MaxBytes = opts.MaxBytes
	to.OutOfOrderTimeWindow = opts.OutOfOrderWindow.Milliseconds()
	to.EnableExemplarStorage = true
	to.MaxExemplars = opts.MaxExemplars
	to.EnableMemorySnapshotOnShutdown = true
	db, err := tsdb.Open(filepath.Clean(opts.Dir), slog.New(warnOnly{opts.Logger.Handler()}).With("component", "tsdb"), opts.Registerer, to, nil)
	if err != nil {
		return nil, fmt.Errorf("open metrics store %s: %w", opts.Dir, err)
	}
	s := &Store{
		db:     db,
		conv:   conv,
		guard:  newGuard(opts.Limits, db.Head().MinTime),
		meta:   newMetaStore(),
		resets: newResets(),
		log:    opts.Logger,
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "otlpd_metrics_samples_appended_total", Help: "Prometheus samples stored by the metrics store.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otlpd_metrics_samples_refused_total", Help: "Samples the metrics store refused, by reason.",
		}, []string{"reason"}),
	}
	s.guard.inHead = func() (func(storage.SeriesRef) bool, func()) { return headHas(db.Head()) }
	if !opts.NoSync {
		s.syncer = newWALSyncer(filepath.Clean(opts.Dir))
	}
	if opts.Registerer != nil {
		if err := errors.Join(opts.Registerer.Register(s.appended), opts.Registerer.Register(s.refused)); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open metrics store: register metrics: %w", err)
		}
	}
	if err := s.guard.seed(db.Head()); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open metrics store: count series of the head: %w", err)
	}
	return s, nil
}

// Close flushes the head to disk and closes the TSDB.
func (s *Store) Close() error {
	err := otlpdstorage.ErrClosed
	s.closed.Do(func() {
		err = s.db.Close()
		if s.syncer != nil {
			err = errors.Join(err, s.syncer.close())
		}
	})
	return err
}

// Queryable is the TSDB for PromQL and the HTTP API.
func (s *Store) Queryable() storage.Queryable { return s.db }

// ExemplarQueryable returns the exemplar store.
func (s *Store) ExemplarQueryable() storage.ExemplarQueryable { return s.db }

// DB is the underlying TSDB (for tests and benchmarks measuring it).
func (s *Store) DB() *tsdb.DB { return s.db }

// Refused returns the samples refused so far for reason ("series_limit", "metric_series_limit",
// "out_of_order", "out_of_bounds", "duplicate", "too_old").
func (s *Store) Refused(reason string) float64 {
	c, err := s.refused.GetMetricWithLabelValues(reason)
	if err != nil {
		return 0
	}
	return counterValue(c)
}

// ConsumeMetrics translates md to the Prometheus model and stores it: a nil return means every point is in
// the TSDB's write-ahead log, fsynced unless Options.NoSync. Points refused by the cardinality guard, by the TSDB (too old, out of order
// beyond the window) or by the translation are reported by a *storage.RejectedError whose Rejected counts
// OTLP points where the translation refused them and Prometheus samples where the TSDB or the guard did.
// md is not modified.
func (s *Store) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	s.forgetGone()
	app := s.Appender(ctx)
	res, err := s.conv.Convert(ctx, md, app)
	if err != nil {
		_ = app.Rollback()
		return fmt.Errorf("store metrics: %w", err)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("store metrics: commit to the TSDB: %w", err)
	}
	if n := res.Rejected + res.Failed; n > 0 {
		if total := int64(md.DataPointCount()); n > total {
			n = total
		}
		return &otlpdstorage.RejectedError{Rejected: n, Reason: strings.Join(res.Reasons, "; ")}
	}
	return nil
}

// forgetGone drops from the translator's series cache the series the head has let go: when the head's start
// moves (a head truncation, after which the head garbage-collects series without newer samples), entries
// whose newest point is older than it go.
func (s *Store) forgetGone() {
	mt := s.db.Head().MinTime()
	if mt == math.MaxInt64 || mt == s.headMin.Load() { // empty head, or no truncation since the last check
		return
	}
	if s.headMin.Swap(mt) != mt {
		s.conv.ForgetSeriesBefore(mt)
	}
}

// Appender returns a guarded TSDB appender: samples of new series past a limit, and samples the TSDB
// refuses (out of order, too old), come back as *promconv.SampleError so that the rest of a batch is
// stored. A nonzero reference given to Append must be one an Append of this store returned for the same
// labels: the sample then skips the guard. The caller must Commit or Rollback; Commit returns once the samples are durable (fsynced with
// concurrent commits, unless Options.NoSync).
func (s *Store) Appender(ctx context.Context) storage.AppenderV2 {
	return &guardedAppender{s: s, next: s.db.AppenderV2(ctx)}
}

// Metadata returns the metadata of the metric families seen since the store opened, by family name.
func (s *Store) Metadata() map[string]metadata.Metadata { return s.meta.all() }

type guardedAppender struct {
	s    *Store
	next storage.AppenderV2
	n    int
	// lastMeta is the metadata this appender stored last: the translator appends a metric's series one
	// after the other, so most samples skip the metadata store's lock and lookup.
	lastFamily string
	lastMeta   metadata.Metadata
}

func (a *guardedAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, o storage.AppendV2Options) (storage.SeriesRef, error) {
	name := o.MetricFamilyName
	if name == "" {
		name = familyOf(ls) // remote write
	}
	// A reference from an earlier append of this store names a series the guard admitted: its samples
	// skip the guard (the translator's series cache passes them).
	known := ref != 0 && !a.s.noRefCache
	var hash uint64
	var cached storage.SeriesRef
	if !known {
		hash = ls.Hash()
		var reason, msg string
		cached, reason, msg = a.s.guard.admit(name, hash, t)
		if reason != "" {
			a.s.refused.WithLabelValues(reason).Inc()
			if a.s.guard.firstRefusal(name) {
				a.s.log.Warn("metric series refused by the cardinality guard", "metric", name, "reason", msg)
			}
			return 0, &promconv.SampleError{Reason: msg}
		}
		ref = cached
		if a.s.noRefCache {
			ref = 0
		}
	}
	if h == nil && fh == nil && isCounterSeries(ls, o) && a.s.resets.relevant(st, t) {
		if hash == 0 {
			hash = ls.Hash()
		}
		v = a.s.resets.adjust(ls, hash, st, t, v, a.s.lastValue)
	}
	r, err := a.next.Append(ref, ls, st, t, v, h, fh, o)
	if err != nil {
		var pe *storage.AppendPartialError
		if errors.As(err, &pe) {
			// Only exemplars failed (duplicates, out of order); the sample itself is stored.
			err = nil
		} else if reason := sampleErrorReason(err); reason != "" {
			a.s.refused.WithLabelValues(reason).Inc()
			return 0, &promconv.SampleError{Reason: fmt.Sprintf("series %s: %v", name, err)}
		} else {
			return 0, err
		}
	}
	a.n++
	switch {
	case known && r != ref:
		// The head had let the series go and made it again: count it as a series of the guard.
		if hash == 0 {
			hash = ls.Hash()
		}
		a.s.guard.readmit(name, hash, t, r)
	case !known && r != cached && r != 0 && !a.s.noRefCache:
		a.s.guard.setRef(hash, r)
	}
	if o.MetricFamilyName != "" && o.Metadata.Type != "" && (o.MetricFamilyName != a.lastFamily || o.Metadata != a.lastMeta) {
		a.s.meta.set(o.MetricFamilyName, o.Metadata)
		a.lastFamily, a.lastMeta = o.MetricFamilyName, o.Metadata
	}
	return r, nil
}

func sampleErrorReason(err error) string {
	switch {
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return "out_of_order"
	case errors.Is(err, storage.ErrOutOfBounds):
		return "out_of_bounds"
	case errors.Is(err, storage.ErrTooOldSample):
		return "too_old"
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return "duplicate"
	case errors.Is(err, histogram.ErrHistogramCountMismatch), errors.Is(err, histogram.ErrHistogramCountNotBigEnough),
		errors.Is(err, histogram.ErrHistogramNegativeBucketCount), errors.Is(err, histogram.ErrHistogramSpanNegativeOffset),
		errors.Is(err, histogram.ErrHistogramSpansBucketsMismatch):
		return "invalid_histogram"
	}
	return ""
}

func (a *guardedAppender) Commit() error {
	if err := a.next.Commit(); err != nil {
		return err
	}
	if a.s.syncer != nil && a.n > 0 {
		if err := a.s.syncer.sync(); err != nil {
			return err
		}
	}
	a.s.appended.Add(float64(a.n))
	return nil
}

func (a *guardedAppender) Rollback() error { return a.next.Rollback() }

// metaStore keeps the type, unit and help of each metric family. Its size follows the number of metric
// names, which the cardinality guard bounds through the series limit.
type metaStore struct {
	mu sync.RWMutex
	m  map[string]metadata.Metadata
}

func newMetaStore() *metaStore { return &metaStore{m: map[string]metadata.Metadata{}} }

func (m *metaStore) set(name string, md metadata.Metadata) {
	m.mu.RLock()
	old, ok := m.m[name]
	m.mu.RUnlock()
	if ok && old == md {
		return
	}
	m.mu.Lock()
	m.m[strings.Clone(name)] = metadata.Metadata{Type: md.Type, Unit: strings.Clone(md.Unit), Help: strings.Clone(md.Help)}
	m.mu.Unlock()
}

func (m *metaStore) all() map[string]metadata.Metadata {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]metadata.Metadata, len(m.m))
	for k, v := range m.m {
		out[k] = v
	}
	return out
}

// SortedNames returns the keys of a metadata map in order.
func SortedNames(m map[string]metadata.Metadata) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return math.NaN()
	}
	return m.Counter.GetValue()
}

var _ pipeline.MetricsConsumer = (*Store)(nil)

// warnOnly passes on warnings and errors only: the TSDB reports every WAL replay and compaction at info
// level, which would crowd otlpd's own log.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}
func (h warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(a)} }
func (h warnOnly) WithGroup(n string) slog.Handler      { return warnOnly{h.Handler.WithGroup(n)} }
