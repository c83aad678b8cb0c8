package prom_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/prompb"

	"github.com/otlpd/otlpd/internal/api/prom"
)

func writeRequest(now time.Time) *prompb.WriteRequest {
	ms := now.UnixMilli()
	h := &histogram.Histogram{
		Schema: 1, Count: 6, Sum: 9, ZeroThreshold: 1e-128, ZeroCount: 1,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{2, 1},
	}
	return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{
			Labels:    []prompb.Label{{Name: "__name__", Value: "rw_requests_total"}, {Name: "job", Value: "legacy"}},
			Samples:   []prompb.Sample{{Value: 1, Timestamp: ms - 2000}, {Value: 5, Timestamp: ms}},
			Exemplars: []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: ms}},
		},
		{
			Labels:     []prompb.Label{{Name: "__name__", Value: "rw_latency"}, {Name: "job", Value: "legacy"}},
			Histograms: []prompb.Histogram{prompb.FromIntHistogram(ms, h)},
		},
	}}
}

func post(t *testing.T, url string, body []byte, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func encode(t testing.TB, req *prompb.WriteRequest) []byte {
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func TestRemoteWrite(t *testing.T) {
	srv, _ := newAPI(t)
	now := time.Now().Truncate(time.Millisecond)
	if code, body := post(t, srv.URL, encode(t, writeRequest(now)), nil); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, body)
	}
	q := func(query string) string {
		t.Helper()
		res, err := queryAt(srv.URL, query, now)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := q(`rw_requests_total`); !strings.Contains(got, `"5"`) {
		t.Errorf("rw_requests_total = %s, want 5", got)
	}
	if got := q(`histogram_count(rw_latency)`); !strings.Contains(got, `"6"`) {
		t.Errorf("histogram_count(rw_latency) = %s, want 6", got)
	}
	// Out of order beyond the window: refused with 400, the rest stored.
	old := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "rw_requests_total"}, {Name: "job", Value: "legacy"}},
			Samples: []prompb.Sample{{Value: 0, Timestamp: now.Add(-2 * time.Hour).UnixMilli()}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "rw_other"}},
			Samples: []prompb.Sample{{Value: 7, Timestamp: now.UnixMilli()}}},
	}}
	if code, _ := post(t, srv.URL, encode(t, old), nil); code != http.StatusBadRequest {
		t.Errorf("out-of-order write: status %d, want 400", code)
	}
	if got := q(`rw_other`); !strings.Contains(got, `"7"`) {
		t.Errorf("rw_other = %s, want 7 (stored despite the refused sample)", got)
	}

	f := func(name string, body []byte, header map[string]string, want int) {
		t.Helper()
		if code, _ := post(t, srv.URL, body, header); code != want {
			t.Errorf("%s: status %d, want %d", name, code, want)
		}
	}
	f("not snappy", []byte("hello"), nil, http.StatusBadRequest)
	f("gzip", encode(t, writeRequest(now)), map[string]string{"Content-Encoding": "gzip"}, http.StatusUnsupportedMediaType)
	f("not protobuf", snappy.Encode(nil, []byte{0xff, 0xff, 0xff}), nil, http.StatusBadRequest)
	f("no metric name", encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "a", Value: "b"}},
		Samples: []prompb.Sample{{Value: 1, Timestamp: now.UnixMilli()}}}}}), nil, http.StatusBadRequest)
	huge := snappy.Encode(nil, make([]byte, 40<<20))
	f("decompresses past the limit", huge, nil, http.StatusRequestEntityTooLarge)
}

func TestDecodeWriteRequestLimit(t *testing.T) {
	body := snappy.Encode(nil, make([]byte, 1000))
	if _, err := prom.DecodeWriteRequest(body, 999); err == nil || !strings.Contains(err.Error(), "999") {
		t.Errorf("DecodeWriteRequest past the limit = %v, want an error naming the limit", err)
	}
}

func FuzzDecodeWriteRequest(f *testing.F) {
	f.Add(encode(f, writeRequest(time.Unix(1_700_000_000, 0))))
	f.Add([]byte{})
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := prom.DecodeWriteRequest(body, 1<<20)
		if err == nil && req == nil {
			t.Fatal("nil request without an error")
		}
	})
}
