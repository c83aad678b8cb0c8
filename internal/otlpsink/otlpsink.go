// Package otlpsink is a minimal OTLP receiver (gRPC and HTTP, protobuf and JSON) that counts what it receives
// and keeps nothing but the counts, optional per-item callbacks and injected failures. It exists to test
// clients such as the load generator and to measure their ceiling against a server that does no work.
package otlpsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// Options configures a Sink. The zero value decodes and counts everything and fails nothing.
type Options struct {
	// GRPCAddr and HTTPAddr are the listen addresses; empty means 127.0.0.1 with a random port.
	GRPCAddr, HTTPAddr string
	// Discard answers every export with an empty success response without decoding it: the cheapest
	// possible server, to measure a client's ceiling. Counts, callbacks and failures are then not used;
	// Requests and Bytes still count.
	Discard bool
	// Fail, if set, is asked for each request (numbered from 1 per signal); a non-nil error fails it:
	// a gRPC status error is returned as it is over gRPC, and over HTTP as 503 (codes.Unavailable,
	// codes.ResourceExhausted) or 500.
	Fail func(n int64) error
	// Reject, if set, returns how many items of a request with items items to reject through partial success.
	Reject func(items int) int
	// OnTraces, OnLogs and OnMetrics, if set, see each accepted batch; they are called concurrently.
	OnTraces  func(ptrace.Traces)
	OnLogs    func(plog.Logs)
	OnMetrics func(pmetric.Metrics)
}

// Sink counts the items it accepted (received minus rejected). Safe for concurrent use.
type Sink struct {
	opts                       Options
	Spans, Logs, Points        atomic.Int64
	Requests, Bytes            atomic.Int64 // in Discard mode
	reqTraces, reqLogs, reqMet atomic.Int64
	grpcSrv                    *grpc.Server
	httpSrv                    *http.Server
	GRPCAddr, HTTPAddr         string
	wg                         sync.WaitGroup
}

// Start listens on 127.0.0.1 random ports for OTLP/gRPC and OTLP/HTTP.
func Start(opts Options) (*Sink, error) {
	s := &Sink{opts: opts}
	gl, err := net.Listen("tcp", orDefault(opts.GRPCAddr))
	if err != nil {
		return nil, fmt.Errorf("listen grpc: %w", err)
	}
	hl, err := net.Listen("tcp", orDefault(opts.HTTPAddr))
	if err != nil {
		gl.Close()
		return nil, fmt.Errorf("listen http: %w", err)
	}
	s.GRPCAddr, s.HTTPAddr = gl.Addr().String(), hl.Addr().String()
	if opts.Discard {
		s.grpcSrv = grpc.NewServer(grpc.MaxRecvMsgSize(256<<20), grpc.ForceServerCodecV2(rawCodec{}),
			grpc.UnknownServiceHandler(s.discardGRPC))
		s.httpSrv = &http.Server{Handler: http.HandlerFunc(s.discardHTTP)}
		s.wg.Go(func() { _ = s.grpcSrv.Serve(gl) })
		s.wg.Go(func() { _ = s.httpSrv.Serve(hl) })
		return s, nil
	}
	s.grpcSrv = grpc.NewServer(grpc.MaxRecvMsgSize(256 << 20))
	ptraceotlp.RegisterGRPCServer(s.grpcSrv, &traceSrv{s: s})
	plogotlp.RegisterGRPCServer(s.grpcSrv, &logSrv{s: s})
	pmetricotlp.RegisterGRPCServer(s.grpcSrv, &metricSrv{s: s})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", s.httpHandler(s.handleTraces))
	mux.HandleFunc("POST /v1/logs", s.httpHandler(s.handleLogs))
	mux.HandleFunc("POST /v1/metrics", s.httpHandler(s.handleMetrics))
	s.httpSrv = &http.Server{Handler: mux}
	s.wg.Go(func() { _ = s.grpcSrv.Serve(gl) })
	s.wg.Go(func() { _ = s.httpSrv.Serve(hl) })
	return s, nil
}

// Close stops both servers.
func (s *Sink) Close() {
	s.grpcSrv.Stop()
	_ = s.httpSrv.Close()
	s.wg.Wait()
}

func (s *Sink) fail(counter *atomic.Int64) error {
	n := counter.Add(1)
	if s.opts.Fail == nil {
		return nil
	}
	return s.opts.Fail(n)
}

func (s *Sink) reject(items int) int {
	if s.opts.Reject == nil {
		return 0
	}
	return min(items, s.opts.Reject(items))
}

// The handlers decode nothing more than pdata does and return the rejected count.

func (s *Sink) handleTraces(td ptrace.Traces) (int, error) {
	if err := s.fail(&s.reqTraces); err != nil {
		return 0, err
	}
	n := td.SpanCount()
	r := s.reject(n)
	s.Spans.Add(int64(n - r))
	if s.opts.OnTraces != nil {
		s.opts.OnTraces(td)
	}
	return r, nil
}

func (s *Sink) handleLogs(ld plog.Logs) (int, error) {
	if err := s.fail(&s.reqLogs); err != nil {
		return 0, err
	}
	n := ld.LogRecordCount()
	r := s.reject(n)
	s.Logs.Add(int64(n - r))
	if s.opts.OnLogs != nil {
		s.opts.OnLogs(ld)
	}
	return r, nil
}

func (s *Sink) handleMetrics(md pmetric.Metrics) (int, error) {
	if err := s.fail(&s.reqMet); err != nil {
		return 0, err
	}
	n := md.DataPointCount()
	r := s.reject(n)
	s.Points.Add(int64(n - r))
	if s.opts.OnMetrics != nil {
		s.opts.OnMetrics(md)
	}
	return r, nil
}

type traceSrv struct {
	ptraceotlp.UnimplementedGRPCServer
	s *Sink
}

func (t *traceSrv) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	resp := ptraceotlp.NewExportResponse()
	r, err := t.s.handleTraces(req.Traces())
	if r > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(r))
		resp.PartialSuccess().SetErrorMessage("rejected by the sink")
	}
	return resp, err
}

type logSrv struct {
	plogotlp.UnimplementedGRPCServer
	s *Sink
}

func (l *logSrv) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	resp := plogotlp.NewExportResponse()
	r, err := l.s.handleLogs(req.Logs())
	if r > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(int64(r))
		resp.PartialSuccess().SetErrorMessage("rejected by the sink")
	}
	return resp, err
}

type metricSrv struct {
	pmetricotlp.UnimplementedGRPCServer
	s *Sink
}

func (m *metricSrv) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	resp := pmetricotlp.NewExportResponse()
	r, err := m.s.handleMetrics(req.Metrics())
	if r > 0 {
		resp.PartialSuccess().SetRejectedDataPoints(int64(r))
		resp.PartialSuccess().SetErrorMessage("rejected by the sink")
	}
	return resp, err
}

type httpRequest interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

type httpResponse interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// httpHandler adapts one of the handleXxx methods to OTLP/HTTP.
func (s *Sink) httpHandler(h any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 256<<20))
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		var (
			req      httpRequest
			resp     httpResponse
			rejected int
			herr     error
		)
		decode := func(req httpRequest) bool {
			if isJSON {
				err = req.UnmarshalJSON(body)
			} else {
				err = req.UnmarshalProto(body)
			}
			if err != nil {
				http.Error(w, "decode request: "+err.Error(), http.StatusBadRequest)
				return false
			}
			return true
		}
		switch h := h.(type) {
		case func(ptrace.Traces) (int, error):
			tr := ptraceotlp.NewExportRequest()
			if req = tr; !decode(req) {
				return
			}
			rejected, herr = h(tr.Traces())
			out := ptraceotlp.NewExportResponse()
			if rejected > 0 {
				out.PartialSuccess().SetRejectedSpans(int64(rejected))
				out.PartialSuccess().SetErrorMessage("rejected by the sink")
			}
			resp = out
		case func(plog.Logs) (int, error):
			lr := plogotlp.NewExportRequest()
			if req = lr; !decode(req) {
				return
			}
			rejected, herr = h(lr.Logs())
			out := plogotlp.NewExportResponse()
			if rejected > 0 {
				out.PartialSuccess().SetRejectedLogRecords(int64(rejected))
				out.PartialSuccess().SetErrorMessage("rejected by the sink")
			}
			resp = out
		case func(pmetric.Metrics) (int, error):
			mr := pmetricotlp.NewExportRequest()
			if req = mr; !decode(req) {
				return
			}
			rejected, herr = h(mr.Metrics())
			out := pmetricotlp.NewExportResponse()
			if rejected > 0 {
				out.PartialSuccess().SetRejectedDataPoints(int64(rejected))
				out.PartialSuccess().SetErrorMessage("rejected by the sink")
			}
			resp = out
		default:
			panic("BUG: unknown handler type")
		}
		if herr != nil {
			code := http.StatusInternalServerError
			if st, ok := status.FromError(herr); ok && (st.Code() == codes.Unavailable || st.Code() == codes.ResourceExhausted) {
				code = http.StatusServiceUnavailable
			}
			http.Error(w, herr.Error(), code)
			return
		}
		var out []byte
		if isJSON {
			out, err = resp.MarshalJSON()
			w.Header().Set("Content-Type", "application/json")
		} else {
			out, err = resp.MarshalProto()
			w.Header().Set("Content-Type", "application/x-protobuf")
		}
		if err != nil {
			http.Error(w, "encode response", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(out)
	}
}

func orDefault(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

func (s *Sink) discardGRPC(_ any, stream grpc.ServerStream) error {
	var b []byte
	if err := stream.RecvMsg(&b); err != nil {
		return err
	}
	s.Requests.Add(1)
	s.Bytes.Add(int64(len(b)))
	empty := []byte{}
	return stream.SendMsg(&empty)
}

func (s *Sink) discardHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	s.Requests.Add(1)
	s.Bytes.Add(n)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// rawCodec hands gRPC messages over as bytes, undecoded.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// ErrInjected is a convenient failure for Options.Fail.
var ErrInjected = errors.New("injected failure")
