// Package metricstest runs a metrics store behind OTLP/gRPC and OTLP/HTTP endpoints and the Prometheus API on
// loopback, for end-to-end tests that export with the OpenTelemetry SDK and query with PromQL.
package metricstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"

	"github.com/otlpd/otlpd/internal/api/prom"
	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/storage"
)

// Harness is a running store with its endpoints.
type Harness struct {
	Store    *metrics.Store
	GRPCAddr string // OTLP/gRPC host:port
	HTTPAddr string // OTLP/HTTP host:port (POST /v1/metrics)
	APIURL   string // base URL of /api/v1 and /federate
}

type grpcServer struct {
	pmetricotlp.UnimplementedGRPCServer
	st *metrics.Store
}

func (s *grpcServer) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	resp := pmetricotlp.NewExportResponse()
	err := s.st.ConsumeMetrics(ctx, req.Metrics())
	var rej *storage.RejectedError
	if errors.As(err, &rej) {
		resp.PartialSuccess().SetRejectedDataPoints(rej.Rejected)
		resp.PartialSuccess().SetErrorMessage(rej.Reason)
		return resp, nil
	}
	return resp, err
}

// Start opens a store in a temporary directory and serves it until the test ends.
func Start(t testing.TB) *Harness {
	t.Helper()
	st, err := metrics.Open(metrics.Options{Dir: filepath.Join(t.TempDir(), "metrics")})
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{Store: st}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pmetricotlp.RegisterGRPCServer(gs, &grpcServer{st: st})
	go func() { _ = gs.Serve(lis) }()
	h.GRPCAddr = lis.Addr().String()

	otlpHTTP := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp := pmetricotlp.NewExportResponse()
		err = st.ConsumeMetrics(r.Context(), req.Metrics())
		var rej *storage.RejectedError
		if errors.As(err, &rej) {
			resp.PartialSuccess().SetRejectedDataPoints(rej.Rejected)
			resp.PartialSuccess().SetErrorMessage(rej.Reason)
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out, _ := resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	h.HTTPAddr = otlpHTTP.Listener.Addr().String()

	api := httptest.NewServer(prom.New(prom.Options{
		Queryable: st.Queryable(),
		Exemplars: st.ExemplarQueryable(),
		Metadata:  st.Metadata,
		Appender:  st.Appender,
	}))
	h.APIURL = api.URL
	t.Cleanup(func() {
		api.Close()
		otlpHTTP.Close()
		gs.Stop()
		_ = st.Close()
	})
	return h
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
