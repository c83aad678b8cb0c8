package promconv

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// DefaultSeriesCacheSize is the default bound of the series cache, in OTLP series.
const DefaultSeriesCacheSize = 250_000

// seriesCache remembers, per OTLP series of a gauge, a cumulative sum or a cumulative explicit-bucket
// histogram, the Prometheus series the translator made of it: their label sets, their storage references
// and the metadata of their family. A later point of the series is then appended by reference, without
// building its labels again (a histogram with 15 bounds is 18 series).
//
// An OTLP series is identified in two steps, both compared byte for byte (never by hash alone): a context
// (the resource attributes, the scope, and the metric's name, unit, description, type, monotonicity and
// temporality) gets a number, and a series is that number plus the point's attributes (and, for a
// histogram, whether the point has a sum). The explicit bounds are checked on every hit; a point whose
// bounds differ is translated again and replaces the entry.
type seriesCache struct {
	max int

	mu       sync.RWMutex
	contexts map[string]*cacheContext
	series   map[string]*cacheEntry
	nextID   uint64
}

// cacheContext is a (resource, scope, metric) of the cache.
type cacheContext struct {
	id    uint64
	lastT atomic.Int64 // ms, newest point seen
}

// cacheEntry is one OTLP series.
type cacheEntry struct {
	opts   storage.AppendV2Options // family name and metadata; no exemplars
	bounds []float64               // histograms: explicit bounds the series were made for
	counts int                     // histograms: number of bucket counts
	series []cachedSeries          // in the translator's order: [_sum,] _count, finite buckets, +Inf
	lastT  atomic.Int64            // ms, newest point seen
}

type cachedSeries struct {
	ls  labels.Labels
	ref atomic.Uint64 // storage.SeriesRef; 0: not known
}

func newSeriesCache(max int) *seriesCache {
	if max == 0 {
		max = DefaultSeriesCacheSize
	}
	return &seriesCache{max: max, contexts: map[string]*cacheContext{}, series: map[string]*cacheEntry{}}
}

// context returns the context of key, creating it unless the cache is full (then nil).
func (c *seriesCache) context(key []byte, t int64) *cacheContext {
	c.mu.RLock()
	cc := c.contexts[string(key)]
	c.mu.RUnlock()
	if cc == nil {
		c.mu.Lock()
		if cc = c.contexts[string(key)]; cc == nil {
			if len(c.contexts) >= c.max || len(c.series) >= c.max {
				c.mu.Unlock()
				return nil
			}
			c.nextID++
			cc = &cacheContext{id: c.nextID}
			c.contexts[string(key)] = cc
		}
		c.mu.Unlock()
	}
	if t > cc.lastT.Load() {
		cc.lastT.Store(t)
	}
	return cc
}

func (c *seriesCache) get(key []byte) *cacheEntry {
	c.mu.RLock()
	e := c.series[string(key)]
	c.mu.RUnlock()
	return e
}

// put stores e under key (replacing an older entry) unless the cache is full.
func (c *seriesCache) put(key string, e *cacheEntry) {
	c.mu.Lock()
	if _, ok := c.series[key]; ok || len(c.series) < c.max {
		c.series[key] = e
	}
	c.mu.Unlock()
}

// forgetBefore drops the series and contexts whose newest point is older than minTime (ms): the TSDB head no
// longer holds their series.
func (c *seriesCache) forgetBefore(minTime int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, e := range c.series {
		if e.lastT.Load() < minTime {
			delete(c.series, k)
			n++
		}
	}
	for k, cc := range c.contexts {
		if cc.lastT.Load() < minTime {
			delete(c.contexts, k)
		}
	}
	return n
}

func (c *seriesCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.series)
}

// Key encoding: injective, so that equal keys mean equal inputs of the translation.

func appendKeyString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendKeyMap(b []byte, m pcommon.Map) []byte {
	b = binary.AppendUvarint(b, uint64(m.Len()))
	for k, v := range m.All() {
		b = appendKeyString(b, k)
		b = appendKeyValue(b, v)
	}
	return b
}

func appendKeyValue(b []byte, v pcommon.Value) []byte {
	b = append(b, byte(v.Type()))
	switch v.Type() {
	case pcommon.ValueTypeStr:
		b = appendKeyString(b, v.Str())
	case pcommon.ValueTypeInt:
		b = binary.LittleEndian.AppendUint64(b, uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Double()))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case pcommon.ValueTypeBytes:
		bs := v.Bytes()
		b = binary.AppendUvarint(b, uint64(bs.Len()))
		for i := range bs.Len() {
			b = append(b, bs.At(i))
		}
	case pcommon.ValueTypeMap:
		b = appendKeyMap(b, v.Map())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		b = binary.AppendUvarint(b, uint64(s.Len()))
		for i := range s.Len() {
			b = appendKeyValue(b, s.At(i))
		}
	}
	return b
}

// appendScopeKey encodes what the translator takes from a scope.
func appendScopeKey(b []byte, sm pmetric.ScopeMetrics) []byte {
	s := sm.Scope()
	b = appendKeyString(b, s.Name())
	b = appendKeyString(b, s.Version())
	b = appendKeyString(b, sm.SchemaUrl())
	return appendKeyMap(b, s.Attributes())
}

// appendMetricKey encodes what the translator takes from a metric apart from its points.
func appendMetricKey(b []byte, m pmetric.Metric) []byte {
	b = appendKeyString(b, m.Name())
	b = appendKeyString(b, m.Unit())
	b = appendKeyString(b, m.Description())
	b = append(b, byte(m.Type()))
	switch m.Type() {
	case pmetric.MetricTypeSum:
		b = append(b, byte(m.Sum().AggregationTemporality()))
		if m.Sum().IsMonotonic() {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case pmetric.MetricTypeHistogram:
		b = append(b, byte(m.Histogram().AggregationTemporality()))
	}
	return b
}
