package otlp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor that OTLP requires
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/otlpd/otlpd/internal/pipeline"
)

// The gRPC services are described here rather than generated: each Export handler receives the request as
// raw bytes (rawCodec) and decodes them with the functions the HTTP path uses, so that one decode path is
// fuzzed, benchmarked and trusted.
//
//	service TraceService   { rpc Export(ExportTraceServiceRequest)   returns (ExportTraceServiceResponse) }
//	service MetricsService { rpc Export(ExportMetricsServiceRequest) returns (ExportMetricsServiceResponse) }
//	service LogsService    { rpc Export(ExportLogsServiceRequest)    returns (ExportLogsServiceResponse) }

// rawMessage carries a message's encoded bytes through gRPC.
type rawMessage struct {
	data []byte
	buf  *[]byte // the pooled buffer behind data, for a request; nil for a response
}

// Request bodies are copied out of gRPC's buffers into pooled ones (as OTLP/HTTP bodies are), which go back
// to the pool when the handler returns: the decoded batch does not refer to the body, and storage copies what
// it keeps. One that grew past maxPooledBuffer is dropped.
var grpcBodies = sync.Pool{New: func() any { return new([]byte) }}

// release returns a request's buffer to the pool; m.data must not be used after.
func (m *rawMessage) release() {
	if m.buf != nil && cap(*m.buf) <= maxPooledBuffer {
		grpcBodies.Put(m.buf)
	}
	m.data, m.buf = nil, nil
}

// rawCodec passes messages through as bytes. It is named "proto" so that it serves application/grpc (and
// application/grpc+proto) requests, which is what every OTLP client sends.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("BUG: rawCodec cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(m.data)}, nil
}

// Unmarshal copies the message out of gRPC's buffers, which are recycled when it returns, into a pooled
// buffer (rawMessage.release).
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("BUG: rawCodec cannot unmarshal into %T", v)
	}
	n := data.Len()
	buf := grpcBodies.Get().(*[]byte)
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	m.data, m.buf = (*buf)[:n], buf
	data.CopyTo(m.data)
	return nil
}

// grpcExporter is the handler type of the service descriptions below.
type grpcExporter interface {
	export(ctx context.Context, service string, body []byte) ([]byte, error)
}

func serviceDesc(name string) *grpc.ServiceDesc {
	method := "/" + name + "/Export"
	return &grpc.ServiceDesc{
		ServiceName: name,
		HandlerType: (*grpcExporter)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Export",
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				in := new(rawMessage)
				defer in.release() // the export is done with the body when the handler returns
				if err := dec(in); err != nil {
					return nil, err
				}
				call := func(ctx context.Context, req any) (any, error) {
					out, err := srv.(grpcExporter).export(ctx, name, req.(*rawMessage).data)
					if err != nil {
						return nil, err
					}
					return &rawMessage{data: out}, nil
				}
				if interceptor == nil {
					return call(ctx, in)
				}
				return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, call)
			},
		}},
		Metadata: "opentelemetry/proto/collector/" + name + ".proto",
	}
}

const (
	traceService   = "opentelemetry.proto.collector.trace.v1.TraceService"
	metricsService = "opentelemetry.proto.collector.metrics.v1.MetricsService"
	logsService    = "opentelemetry.proto.collector.logs.v1.LogsService"
)

// grpcReceiver adapts a Receiver to grpcExporter.
type grpcReceiver struct{ r *Receiver }

func (g grpcReceiver) export(ctx context.Context, service string, body []byte) ([]byte, error) {
	var (
		out    []byte
		err    error
		n      itemCounts
		signal string
	)
	switch service {
	case traceService:
		signal = "traces"
		var resp ptraceotlp.ExportResponse
		if resp, n, err = g.r.exportTraces(ctx, body, formatProto); err == nil {
			out, err = encodeResponse(resp, resp.PartialSuccess().ErrorMessage() != "", formatProto)
		}
	case metricsService:
		signal = "metrics"
		var resp pmetricotlp.ExportResponse
		if resp, n, err = g.r.exportMetrics(ctx, body, formatProto); err == nil {
			out, err = encodeResponse(resp, resp.PartialSuccess().ErrorMessage() != "", formatProto)
		}
	case logsService:
		signal = "logs"
		var resp plogotlp.ExportResponse
		if resp, n, err = g.r.exportLogs(ctx, body, formatProto); err == nil {
			out, err = encodeResponse(resp, resp.PartialSuccess().ErrorMessage() != "", formatProto)
		}
	default:
		return nil, status.Errorf(codes.Unimplemented, "unknown service %s", service)
	}
	if err != nil {
		err = g.r.grpcStatus(err)
		g.r.observe(signal, "grpc", itemCounts{}, status.Code(err).String())
		return nil, err
	}
	g.r.observe(signal, "grpc", n, codes.OK.String())
	return out, nil
}

// grpcStatus maps an export error to the status OTLP clients expect.
func (r *Receiver) grpcStatus(err error) error {
	switch {
	case isDecodeError(err):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, pipeline.ErrOverloaded):
		st, derr := status.New(codes.Unavailable, err.Error()).WithDetails(&errdetails.RetryInfo{
			RetryDelay: durationpb.New(r.opts.RetryAfter),
		})
		if derr != nil {
			return status.Error(codes.Unavailable, err.Error())
		}
		return st.Err()
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded while storing")
	default:
		return status.Error(codes.Internal, errInternal.Error())
	}
}

// NewGRPCServer returns a gRPC server serving the three OTLP Export services with the receiver's limits
// (message size after decompression; gzip and zstd). extra options are appended (credentials, interceptors).
func (r *Receiver) NewGRPCServer(extra ...grpc.ServerOption) *grpc.Server {
	registerGRPCCompressors()
	opts := append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(rawCodec{}),
		grpc.MaxRecvMsgSize(r.opts.MaxGRPCMessageBytes),
	}, extra...)
	s := grpc.NewServer(opts...)
	g := grpcReceiver{r: r}
	for _, name := range []string{traceService, metricsService, logsService} {
		s.RegisterService(serviceDesc(name), g)
	}
	return s
}
