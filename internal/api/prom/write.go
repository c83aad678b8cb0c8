package prom

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"

	"github.com/otlpd/otlpd/internal/metrics/promconv"
)

// remoteWrite receives Prometheus remote write v1: a snappy-compressed (block format) prompb.WriteRequest.
// Every acceptable sample is stored; refused ones (out of order, past a cardinality limit) make the answer a
// 400 that counts them, since a retry would be refused again. A fully stored request gets 204.
func (a *API) remoteWrite(w http.ResponseWriter, r *http.Request) {
	if a.opts.Appender == nil {
		http.Error(w, "remote write is not enabled", http.StatusNotFound)
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "snappy") {
		http.Error(w, fmt.Sprintf("unsupported Content-Encoding %q (want snappy)", enc), http.StatusUnsupportedMediaType)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-protobuf") {
		http.Error(w, fmt.Sprintf("unsupported Content-Type %q (want application/x-protobuf)", ct), http.StatusUnsupportedMediaType)
		return
	}
	limit := a.opts.MaxWriteBytes
	compressed, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(compressed) > limit {
		http.Error(w, fmt.Sprintf("remote-write body exceeds %d bytes", limit), http.StatusRequestEntityTooLarge)
		return
	}
	req, err := DecodeWriteRequest(compressed, limit)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), code)
		return
	}
	app := a.opts.Appender(r.Context())
	refused, firstReason, err := appendWriteRequest(app, req)
	if err != nil {
		_ = app.Rollback()
		a.log.Error("remote write: append", "err", err)
		http.Error(w, "store samples failed", http.StatusInternalServerError)
		return
	}
	if err := app.Commit(); err != nil {
		a.log.Error("remote write: commit", "err", err)
		http.Error(w, "store samples failed", http.StatusInternalServerError)
		return
	}
	if refused > 0 {
		http.Error(w, fmt.Sprintf("%d samples refused, the rest stored; first: %s", refused, firstReason), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var errTooLarge = errors.New("too large")

// DecodeWriteRequest decompresses and decodes a remote-write v1 body, refusing one that would decompress
// past maxBytes.
func DecodeWriteRequest(compressed []byte, maxBytes int) (*prompb.WriteRequest, error) {
	n, err := snappy.DecodedLen(compressed)
	if err != nil {
		return nil, fmt.Errorf("decode remote-write body: snappy: %w", err)
	}
	if n > maxBytes {
		return nil, fmt.Errorf("decode remote-write body: %d bytes decompressed exceed the limit %d: %w", n, maxBytes, errTooLarge)
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, fmt.Errorf("decode remote-write body: snappy: %w", err)
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("decode remote-write body: protobuf: %w", err)
	}
	for i, ts := range req.Timeseries {
		if err := validLabels(ts.Labels); err != nil {
			return nil, fmt.Errorf("decode remote-write body: series %d: %w", i, err)
		}
	}
	return &req, nil
}

func validLabels(ls []prompb.Label) error {
	hasName := false
	for i, l := range ls {
		if l.Name == "" {
			return errors.New("empty label name")
		}
		if l.Name == labels.MetricName {
			hasName = l.Value != ""
		}
		if i > 0 && ls[i-1].Name == l.Name {
			return fmt.Errorf("duplicate label %q", l.Name)
		}
	}
	if !hasName {
		return errors.New("no metric name (__name__)")
	}
	return nil
}

// appendWriteRequest appends every sample, histogram and exemplar of req. Refusals of single samples are
// counted; other errors stop.
func appendWriteRequest(app storage.AppenderV2, req *prompb.WriteRequest) (refused int, first string, err error) {
	var b labels.ScratchBuilder
	for _, ts := range req.Timeseries {
		b.Reset()
		for _, l := range ts.Labels {
			b.Add(l.Name, l.Value)
		}
		b.Sort()
		ls := b.Labels()
		var exs []exemplar.Exemplar
		for _, e := range ts.Exemplars {
			exs = append(exs, exemplar.Exemplar{Labels: e.ToExemplar(&b, nil).Labels, Value: e.Value, Ts: e.Timestamp, HasTs: true})
		}
		slices.SortFunc(exs, exemplar.Compare)
		refuse := func(err error) error {
			if isSampleError(err) {
				refused++
				if first == "" {
					first = err.Error()
				}
				return nil
			}
			return err
		}
		opts := storage.AppendV2Options{}
		for i, s := range ts.Samples {
			if i == len(ts.Samples)-1 && len(ts.Histograms) == 0 {
				opts.Exemplars = exs
			}
			if _, err := app.Append(0, ls, 0, s.Timestamp, s.Value, nil, nil, opts); err != nil {
				if err := refuse(err); err != nil {
					return refused, first, err
				}
			}
		}
		for i, h := range ts.Histograms {
			if i == len(ts.Histograms)-1 {
				opts.Exemplars = exs
			}
			var err error
			if h.IsFloatHistogram() {
				_, err = app.Append(0, ls, 0, h.Timestamp, 0, nil, h.ToFloatHistogram(), opts)
			} else {
				_, err = app.Append(0, ls, 0, h.Timestamp, 0, h.ToIntHistogram(), nil, opts)
			}
			if err != nil {
				if err := refuse(err); err != nil {
					return refused, first, err
				}
			}
		}
	}
	return refused, first, nil
}

// isSampleError reports whether err refuses one sample only (the rest of the request goes on).
func isSampleError(err error) bool {
	var se *promconv.SampleError
	return errors.As(err, &se) || errors.Is(err, storage.ErrOutOfOrderSample) || errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrTooOldSample) || errors.Is(err, storage.ErrDuplicateSampleForTimestamp)
}
