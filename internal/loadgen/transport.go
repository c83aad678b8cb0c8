package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// exporter sends one encoded request and reports how many items the server rejected through partial
// success, with the server's message. code is empty on success and otherwise names the failure
// ("UNAVAILABLE", "HTTP 503", ...).
type exporter interface {
	export(ctx context.Context, body []byte) (rejected int64, msg string, code string, err error)
	close()
}

// rawCodec passes already encoded protobuf bytes through gRPC.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*b = data.Materialize()
	return nil
}

var grpcMethods = map[Signal]string{
	SignalTraces:  "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	SignalLogs:    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
	SignalMetrics: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}

type grpcExporter struct {
	conn   *grpc.ClientConn
	method string
	signal Signal
	md     metadata.MD
}

func newGRPCExporter(opts *Options) (*grpcExporter, error) {
	creds := insecure.NewCredentials()
	if opts.TLS {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: opts.TLSSkipVerify})
	}
	target := opts.Endpoint
	if u, err := url.Parse(target); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		target = u.Host
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(256<<20)))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", target, err)
	}
	return &grpcExporter{conn: conn, method: grpcMethods[opts.Signal], signal: opts.Signal, md: metadata.New(opts.Headers)}, nil
}

func (e *grpcExporter) export(ctx context.Context, body []byte) (int64, string, string, error) {
	if len(e.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, e.md)
	}
	var resp []byte
	err := e.conn.Invoke(ctx, e.method, &body, &resp, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		st := status.Convert(err)
		return 0, "", strings.ToUpper(strings.ReplaceAll(st.Code().String(), " ", "_")), errors.New(st.Message())
	}
	rejected, msg, err := parseResponse(e.signal, resp, false)
	if err != nil {
		return 0, "", "BAD_RESPONSE", err
	}
	return rejected, msg, "", nil
}

func (e *grpcExporter) close() { _ = e.conn.Close() }

type httpExporter struct {
	client      *http.Client
	url         string
	contentType string
	json        bool
	signal      Signal
	headers     map[string]string
}

// httpURL turns an endpoint ("host:port", "http://host:port" or a full URL) into the export URL: a bare
// host or a URL without a path gets the standard /v1/<signal> path.
func httpURL(endpoint string, sig Signal, useTLS bool) (string, error) {
	if !strings.Contains(endpoint, "://") {
		scheme := "http://"
		if useTLS {
			scheme = "https://"
		}
		endpoint = scheme + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("endpoint %q has no host", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/" + string(sig)
	}
	return u.String(), nil
}

func newHTTPExporter(opts *Options, jsonBody bool, conns int) (*httpExporter, error) {
	u, err := httpURL(opts.Endpoint, opts.Signal, opts.TLS)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: opts.TLSSkipVerify},
	}
	ct := "application/x-protobuf"
	if jsonBody {
		ct = "application/json"
	}
	return &httpExporter{client: &http.Client{Transport: tr}, url: u, contentType: ct, json: jsonBody,
		signal: opts.Signal, headers: opts.Headers}, nil
}

func (e *httpExporter) export(ctx context.Context, body []byte) (int64, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", "BAD_REQUEST", err
	}
	req.Header.Set("Content-Type", e.contentType)
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, "", "NETWORK", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, "", "NETWORK", err
	}
	if resp.StatusCode/100 != 2 {
		return 0, "", fmt.Sprintf("HTTP %d", resp.StatusCode), errors.New(firstLine(data))
	}
	isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
	rejected, msg, err := parseResponse(e.signal, data, isJSON)
	if err != nil {
		return 0, "", "BAD_RESPONSE", err
	}
	return rejected, msg, "", nil
}

func (e *httpExporter) close() { e.client.CloseIdleConnections() }

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// parseResponse returns the rejected item count and message of an export response; an empty body means
// none.
func parseResponse(sig Signal, data []byte, isJSON bool) (int64, string, error) {
	if len(data) == 0 {
		return 0, "", nil
	}
	type um interface {
		UnmarshalProto([]byte) error
		UnmarshalJSON([]byte) error
	}
	var (
		r        um
		rejected func() (int64, string)
	)
	switch sig {
	case SignalTraces:
		resp := ptraceotlp.NewExportResponse()
		r, rejected = resp, func() (int64, string) {
			return resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage()
		}
	case SignalLogs:
		resp := plogotlp.NewExportResponse()
		r, rejected = resp, func() (int64, string) {
			return resp.PartialSuccess().RejectedLogRecords(), resp.PartialSuccess().ErrorMessage()
		}
	default:
		resp := pmetricotlp.NewExportResponse()
		r, rejected = resp, func() (int64, string) {
			return resp.PartialSuccess().RejectedDataPoints(), resp.PartialSuccess().ErrorMessage()
		}
	}
	var err error
	if isJSON {
		err = r.UnmarshalJSON(data)
	} else {
		err = r.UnmarshalProto(data)
	}
	if err != nil {
		return 0, "", fmt.Errorf("decode export response: %w", err)
	}
	n, msg := rejected()
	return n, msg, nil
}
