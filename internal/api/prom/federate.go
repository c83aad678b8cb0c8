package prom

import (
	"fmt"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"google.golang.org/protobuf/proto"
)

// federate writes the newest sample (within the lookback delta) of every series matching a match[] selector
// in the exposition format the scraper asked for. Each sample carries its timestamp, and every family is
// untyped except native histograms, which only the protobuf format can carry: in the text formats they are
// left out (the X-Otlpd-Omitted-Histograms header counts them).
func (a *API) federate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "parse form: "+err.Error(), http.StatusBadRequest)
		return
	}
	var sets [][]*labels.Matcher
	for _, s := range r.Form["match[]"] {
		ms, err := a.parser.ParseMetricSelector(s)
		if err != nil {
			http.Error(w, fmt.Sprintf("invalid parameter \"match[]\": %v", err), http.StatusBadRequest)
			return
		}
		sets = append(sets, ms)
	}
	if len(sets) == 0 {
		http.Error(w, "federate needs at least one match[] parameter", http.StatusBadRequest)
		return
	}
	now := a.opts.Now().UnixMilli()
	mint := now - a.opts.LookbackDelta.Milliseconds()
	q, err := a.opts.Queryable.Querier(mint, now)
	if err != nil {
		http.Error(w, "metrics store unavailable", http.StatusServiceUnavailable)
		return
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: now}
	var ss []storage.SeriesSet
	for _, ms := range sets {
		ss = append(ss, q.Select(r.Context(), true, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(ss, 0, storage.ChainedSeriesMerge)

	format := expfmt.Negotiate(r.Header)
	native := format.FormatType() == expfmt.TypeProtoDelim
	families := map[string]*dto.MetricFamily{}
	omitted := 0
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		var (
			t  int64
			f  float64
			fh *histogram.FloatHistogram
			ok bool
		)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				t, f = it.At()
				fh = nil
			case chunkenc.ValHistogram, chunkenc.ValFloatHistogram:
				t, fh = it.AtFloatHistogram(fh)
				fh = fh.Copy()
			}
			ok = true
		}
		if it.Err() != nil {
			http.Error(w, "read series", http.StatusInternalServerError)
			return
		}
		if !ok || t > now {
			continue
		}
		if (fh == nil && value.IsStaleNaN(f)) || (fh != nil && value.IsStaleNaN(fh.Sum)) {
			continue
		}
		if fh != nil && !native {
			omitted++
			continue
		}
		ls := s.Labels()
		name := ls.Get(labels.MetricName)
		fam := families[name]
		if fam == nil {
			typ := dto.MetricType_UNTYPED
			if fh != nil {
				typ = dto.MetricType_HISTOGRAM
			}
			fam = &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum()}
			families[name] = fam
		} else if fh != nil && fam.GetType() != dto.MetricType_HISTOGRAM {
			omitted++ // a family cannot mix float samples and native histograms
			continue
		}
		m := &dto.Metric{TimestampMs: proto.Int64(t)}
		ls.Range(func(l labels.Label) {
			if l.Name != labels.MetricName {
				m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(l.Name), Value: proto.String(l.Value)})
			}
		})
		if fh != nil {
			m.Histogram = nativeHistogram(fh)
		} else {
			m.Untyped = &dto.Untyped{Value: proto.Float64(f)}
		}
		fam.Metric = append(fam.Metric, m)
	}
	if err := set.Err(); err != nil {
		http.Error(w, "read series", http.StatusInternalServerError)
		return
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", string(format))
	if omitted > 0 {
		w.Header().Set("X-Otlpd-Omitted-Histograms", fmt.Sprint(omitted))
	}
	enc := expfmt.NewEncoder(w, format)
	for _, n := range names {
		if err := enc.Encode(families[n]); err != nil {
			a.log.Debug("federate: encode family", "family", n, "err", err)
			return
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		_ = c.Close()
	}
}

// nativeHistogram writes a float histogram in the protobuf exposition's native form (spans, absolute float
// counts).
func nativeHistogram(fh *histogram.FloatHistogram) *dto.Histogram {
	h := &dto.Histogram{
		SampleCountFloat: proto.Float64(fh.Count),
		SampleSum:        proto.Float64(fh.Sum),
		Schema:           proto.Int32(fh.Schema),
		ZeroThreshold:    proto.Float64(fh.ZeroThreshold),
		ZeroCountFloat:   proto.Float64(fh.ZeroCount),
	}
	h.PositiveSpan, h.PositiveCount = spans(fh.PositiveSpans, fh.PositiveBuckets)
	h.NegativeSpan, h.NegativeCount = spans(fh.NegativeSpans, fh.NegativeBuckets)
	if len(h.PositiveSpan) == 0 && len(h.NegativeSpan) == 0 {
		// Marks the histogram as native even when it has no bucket.
		h.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
	}
	return h
}

func spans(s []histogram.Span, counts []float64) ([]*dto.BucketSpan, []float64) {
	out := make([]*dto.BucketSpan, 0, len(s))
	for _, sp := range s {
		out = append(out, &dto.BucketSpan{Offset: proto.Int32(sp.Offset), Length: proto.Uint32(sp.Length)})
	}
	return out, append([]float64(nil), counts...)
}
