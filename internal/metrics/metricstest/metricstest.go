// Package metricstest runs a whole otlpd on loopback for end-to-end tests of its metrics: export with the
// OpenTelemetry SDK (or write to the store), then query with PromQL through the Prometheus HTTP API.
package metricstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/server"
)

// Harness is a running otlpd with its endpoints and its metrics store.
type Harness struct {
	Store    *metrics.Store
	GRPCAddr string // OTLP/gRPC host:port
	HTTPAddr string // OTLP/HTTP host:port (POST /v1/metrics)
	APIURL   string // base URL of /api/v1 and /federate
}

// Start runs a whole otlpd (memory storage, metrics TSDB in a temporary directory) on loopback ports until
// the test ends.
func Start(t testing.TB) *Harness {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	srv, err := server.New(cfg, nil, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("otlpd stopped with %v", err)
		}
	})
	h := &Harness{
		Store:    srv.Metrics(),
		GRPCAddr: srv.GRPCAddr().String(),
		HTTPAddr: srv.HTTPAddr().String(),
		APIURL:   "http://" + srv.UIAddr().String(),
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(h.APIURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("otlpd not ready after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// QueryResult is the data of an instant query.
type QueryResult struct {
	ResultType string `json:"resultType"`
	Result     json.RawMessage
}

// Query runs an instant PromQL query at ts against baseURL (otlpd's or a Prometheus server's).
func Query(ctx context.Context, baseURL, query string, ts time.Time) (QueryResult, error) {
	form := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.PostForm(baseURL+"/api/v1/query", form)
	if err != nil {
		return QueryResult{}, err
	}
	defer resp.Body.Close()
	var env struct {
		Status string      `json:"status"`
		Error  string      `json:"error"`
		Data   QueryResult `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return QueryResult{}, fmt.Errorf("query %s: decode: %w", query, err)
	}
	if env.Status != "success" {
		return QueryResult{}, fmt.Errorf("query %s: %s", query, env.Error)
	}
	return env.Data, nil
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Vector decodes a vector result.
func (r QueryResult) Vector() ([]Sample, error) {
	if r.ResultType != "vector" {
		return nil, fmt.Errorf("result is a %s, not a vector", r.ResultType)
	}
	var v []Sample
	err := json.Unmarshal(r.Result, &v)
	return v, err
}

// Float returns the value of a sample.
func (s Sample) Float() float64 {
	str, _ := s.Value[1].(string)
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return 0
	}
	return f
}

// Scalar runs query at ts on the harness and returns its one value (the query must yield one sample).
func (h *Harness) Scalar(t testing.TB, query string, ts time.Time) float64 {
	t.Helper()
	res, err := Query(context.Background(), h.APIURL, query, ts)
	if err != nil {
		t.Fatal(err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if len(v) != 1 {
		t.Fatalf("%s: %d samples, want 1: %s", query, len(v), res.Result)
	}
	return v[0].Float()
}

// ExemplarTraceIDs returns the trace_id labels of the exemplars of metric in [start, end].
func (h *Harness) ExemplarTraceIDs(t testing.TB, metric string, start, end time.Time) []string {
	t.Helper()
	form := url.Values{"query": {metric}, "start": {fmt.Sprint(start.Add(-time.Second).Unix())}, "end": {fmt.Sprint(end.Add(time.Second).Unix())}}
	resp, err := http.PostForm(h.APIURL+"/api/v1/query_exemplars", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data []struct {
			Exemplars []struct {
				Labels map[string]string `json:"labels"`
			} `json:"exemplars"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range env.Data {
		for _, e := range s.Exemplars {
			out = append(out, e.Labels["trace_id"])
		}
	}
	return out
}
