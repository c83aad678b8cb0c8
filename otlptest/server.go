package otlptest

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed gRPC exports
)

// MaxBodyBytes bounds one HTTP export request body, after decompression.
const MaxBodyBytes = 64 << 20

// DefaultWaitTimeout applies to waits whose context has no deadline.
const DefaultWaitTimeout = 10 * time.Second

// Server is an in-process OTLP receiver. Its methods are safe for concurrent use.
type Server struct {
	tb       testing.TB
	grpcLis  net.Listener
	httpLis  net.Listener
	grpcSrv  *grpc.Server
	httpSrv  *http.Server
	stopOnce sync.Once

	mu       sync.Mutex
	spans    Spans
	logs     Logs
	metrics  Metrics
	requests map[string]int // "grpc traces", "http/json logs", ...
	changed  chan struct{}  // closed and replaced whenever something arrives
}

// NewServer starts a receiver on 127.0.0.1 (random ports) and stops it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start()
	if err != nil {
		tb.Fatalf("otlptest: %v", err)
	}
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// Start starts a receiver outside a test (e.g. in TestMain or an example program). Close stops it. Waits on
// a Server made by Start panic instead of failing a test.
func Start() (*Server, error) {
	s := &Server{requests: map[string]int{}, changed: make(chan struct{})}
	var err error
	if s.grpcLis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("listen for OTLP/gRPC: %w", err)
	}
	if s.httpLis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		s.grpcLis.Close()
		return nil, fmt.Errorf("listen for OTLP/HTTP: %w", err)
	}
	s.grpcSrv = grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(s.grpcSrv, &traceService{s: s})
	pmetricotlp.RegisterGRPCServer(s.grpcSrv, &metricService{s: s})
	plogotlp.RegisterGRPCServer(s.grpcSrv, &logService{s: s})
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", s.handleHTTP("traces"))
	mux.HandleFunc("/v1/metrics", s.handleHTTP("metrics"))
	mux.HandleFunc("/v1/logs", s.handleHTTP("logs"))
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.grpcSrv.Serve(s.grpcLis) }()
	go func() { _ = s.httpSrv.Serve(s.httpLis) }()
	return s, nil
}

// GRPCAddr is the OTLP/gRPC endpoint as host:port (use it with WithInsecure in the SDK's gRPC exporters).
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the OTLP/HTTP endpoint as host:port (use it with WithInsecure in the SDK's HTTP exporters).
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// HTTPURL is the OTLP/HTTP base URL, as OTEL_EXPORTER_OTLP_ENDPOINT expects it.
func (s *Server) HTTPURL() string { return "http://" + s.HTTPAddr() }

// Close stops both endpoints; in-flight exports get up to 5 seconds to finish.
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.httpSrv.Shutdown(ctx)
		done := make(chan struct{})
		go func() { s.grpcSrv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpcSrv.Stop()
		}
	})
}

// Requests returns how many export requests arrived per transport and signal, e.g. "grpc traces",
// "http/protobuf metrics", "http/json logs".
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// Reset forgets everything received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	s.spans, s.logs, s.metrics = nil, nil, nil
	clear(s.requests)
	s.mu.Unlock()
}

// Spans returns a snapshot of the spans received so far, in arrival order.
func (s *Server) Spans() Spans {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(Spans(nil), s.spans...)
}

// Logs returns a snapshot of the log records received so far, in arrival order.
func (s *Server) Logs() Logs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(Logs(nil), s.logs...)
}

// Metrics returns a snapshot of the metrics received so far, in arrival order (one entry per metric per
// export request).
func (s *Server) Metrics() Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(Metrics(nil), s.metrics...)
}

func (s *Server) add(kind string, spans []Span, logs []LogRecord, metrics []Metric) {
	s.mu.Lock()
	s.spans = append(s.spans, spans...)
	s.logs = append(s.logs, logs...)
	s.metrics = append(s.metrics, metrics...)
	s.requests[kind]++
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

type traceService struct {
	ptraceotlp.UnimplementedGRPCServer
	s *Server
}

func (t *traceService) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	t.s.add("grpc traces", flattenTraces(req.Traces()), nil, nil)
	return ptraceotlp.NewExportResponse(), nil
}

type metricService struct {
	pmetricotlp.UnimplementedGRPCServer
	s *Server
}

func (m *metricService) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	m.s.add("grpc metrics", nil, nil, flattenMetrics(req.Metrics()))
	return pmetricotlp.NewExportResponse(), nil
}

type logService struct {
	plogotlp.UnimplementedGRPCServer
	s *Server
}

func (l *logService) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	l.s.add("grpc logs", nil, flattenLogs(req.Logs()), nil)
	return plogotlp.NewExportResponse(), nil
}

// message is what the three pdata export request and response types share.
type message interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

type marshaler interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// handleHTTP serves one OTLP/HTTP signal path.
func (s *Server) handleHTTP(signal string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "OTLP/HTTP accepts POST only", http.StatusMethodNotAllowed)
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var isJSON bool
		switch ct {
		case "application/x-protobuf":
		case "application/json":
			isJSON = true
		default:
			http.Error(w, fmt.Sprintf("unsupported content type %q: use application/x-protobuf or application/json", ct),
				http.StatusUnsupportedMediaType)
			return
		}
		body, status, err := readBody(r)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		var req message
		var resp marshaler
		switch signal {
		case "traces":
			req, resp = ptraceotlp.NewExportRequest(), ptraceotlp.NewExportResponse()
		case "metrics":
			req, resp = pmetricotlp.NewExportRequest(), pmetricotlp.NewExportResponse()
		default:
			req, resp = plogotlp.NewExportRequest(), plogotlp.NewExportResponse()
		}
		if isJSON {
			err = req.UnmarshalJSON(body)
		} else {
			err = req.UnmarshalProto(body)
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("decode %s export request (%d bytes): %v", signal, len(body), err), http.StatusBadRequest)
			return
		}
		transport := "http/protobuf "
		if isJSON {
			transport = "http/json "
		}
		switch q := req.(type) {
		case ptraceotlp.ExportRequest:
			s.add(transport+signal, flattenTraces(q.Traces()), nil, nil)
		case pmetricotlp.ExportRequest:
			s.add(transport+signal, nil, nil, flattenMetrics(q.Metrics()))
		case plogotlp.ExportRequest:
			s.add(transport+signal, nil, flattenLogs(q.Logs()), nil)
		}
		var out []byte
		if isJSON {
			out, err = resp.MarshalJSON()
		} else {
			out, err = resp.MarshalProto()
		}
		if err != nil {
			http.Error(w, "encode response", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(out)
	}
}

// readBody reads a request body, decompressing gzip, up to MaxBodyBytes.
func readBody(r *http.Request) ([]byte, int, error) {
	var src io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("read gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported content encoding %q: use gzip or none", enc)
	}
	body, err := io.ReadAll(io.LimitReader(src, MaxBodyBytes+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body exceeds limit of %d bytes", MaxBodyBytes)
	}
	return body, 0, nil
}

var errNoTB = errors.New("otlptest: wait failed on a Server made by Start (no testing.TB)")
