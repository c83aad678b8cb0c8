package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/otlpd/otlpd/internal/pipeline"
)

const (
	contentTypeProto = "application/x-protobuf"
	contentTypeJSON  = "application/json"
)

// Paths of the OTLP/HTTP endpoints.
const (
	TracesPath  = "/v1/traces"
	MetricsPath = "/v1/metrics"
	LogsPath    = "/v1/logs"
)

// Body buffers are pooled; one that grew past maxPooledBuffer is dropped so the pool does not pin the memory
// of the largest request ever seen.
const maxPooledBuffer = 4 << 20

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Handler serves POST /v1/traces, /v1/metrics and /v1/logs (protobuf or JSON, gzip, zstd or uncompressed),
// with CORS for the configured origins.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(TracesPath, r.signalHandler("traces", func(ctx context.Context, body []byte, f format) (marshaler, bool, itemCounts, error) {
		resp, n, err := r.exportTraces(ctx, body, f)
		return resp, resp.PartialSuccess().ErrorMessage() != "", n, err
	}))
	mux.Handle(MetricsPath, r.signalHandler("metrics", func(ctx context.Context, body []byte, f format) (marshaler, bool, itemCounts, error) {
		resp, n, err := r.exportMetrics(ctx, body, f)
		return resp, resp.PartialSuccess().ErrorMessage() != "", n, err
	}))
	mux.Handle(LogsPath, r.signalHandler("logs", func(ctx context.Context, body []byte, f format) (marshaler, bool, itemCounts, error) {
		resp, n, err := r.exportLogs(ctx, body, f)
		return resp, resp.PartialSuccess().ErrorMessage() != "", n, err
	}))
	return mux
}

// marshaler is an OTLP export response.
type marshaler interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// encodeResponse encodes an export response. A full success is the empty message ("{}" in JSON): OTLP says
// partial_success is then left unset, and pdata would write it empty.
func encodeResponse(resp marshaler, partial bool, f format) ([]byte, error) {
	switch {
	case !partial && f == formatJSON:
		return []byte("{}"), nil
	case !partial:
		return []byte{}, nil
	case f == formatJSON:
		return resp.MarshalJSON()
	default:
		return resp.MarshalProto()
	}
}

// statusRecorder remembers the status code written, for the observer.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (r *Receiver) signalHandler(signal string, export func(context.Context, []byte, format) (marshaler, bool, itemCounts, error)) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		var n itemCounts
		w := rw
		if r.opts.Observer != nil {
			rec := &statusRecorder{ResponseWriter: rw}
			w = rec
			defer func() {
				code := rec.code
				if code == 0 {
					code = http.StatusOK
				}
				r.observe(signal, "http", n, strconv.Itoa(code))
			}()
		}
		origin := req.Header.Get("Origin")
		allowed := origin != "" && r.originAllowed(origin)
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Add("Vary", "Origin")
		}
		if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
			r.preflight(w, req, allowed)
			return
		}
		f, fok := requestFormat(req)
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			r.writeStatus(w, req, f, http.StatusMethodNotAllowed, codes.Unimplemented,
				"method "+req.Method+" not allowed; OTLP/HTTP exports are POSTed", nil)
			return
		}
		if !fok {
			r.writeStatus(w, req, formatJSON, http.StatusUnsupportedMediaType, codes.InvalidArgument,
				"unsupported Content-Type "+strconv.Quote(req.Header.Get("Content-Type"))+
					" (want application/x-protobuf or application/json)", nil)
			return
		}

		buf := bodyBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		defer func() {
			if buf.Cap() <= maxPooledBuffer {
				bodyBuffers.Put(buf)
			}
		}()
		// The compressed body is bounded too, by the same limit: a body that large compressed cannot fit
		// decompressed.
		body := http.MaxBytesReader(w, req.Body, r.opts.MaxRequestBytes)
		enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding")))
		if err := readBody(body, enc, r.opts.MaxRequestBytes, buf); err != nil {
			var tooLarge errTooLarge
			var maxBytes *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				r.writeStatus(w, req, f, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, err.Error(), nil)
			case errors.As(err, &maxBytes):
				r.writeStatus(w, req, f, http.StatusRequestEntityTooLarge, codes.ResourceExhausted,
					errTooLarge{limit: r.opts.MaxRequestBytes}.Error(), nil)
			default:
				r.writeStatus(w, req, f, http.StatusBadRequest, codes.InvalidArgument, err.Error(), nil)
			}
			return
		}

		resp, partial, counts, err := export(req.Context(), buf.Bytes(), f)
		n = counts
		if err != nil {
			r.writeExportError(w, req, f, err)
			return
		}
		out, err := encodeResponse(resp, partial, f)
		if err != nil {
			r.log.Error("encode export response", "err", err)
			r.writeStatus(w, req, f, http.StatusInternalServerError, codes.Internal, errInternal.Error(), nil)
			return
		}
		w.Header().Set("Content-Type", contentType(f))
		r.writeBody(w, req, http.StatusOK, out)
	})
}

// writeBody writes out with status code, gzip-compressed when the client accepts gzip (OTLP/HTTP allows
// compressed responses) and there is a body to compress.
func (r *Receiver) writeBody(w http.ResponseWriter, req *http.Request, code int, out []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(out) == 0 || !acceptsGzip(req.Header.Values("Accept-Encoding")) {
		w.WriteHeader(code)
		_, _ = w.Write(out)
		return
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, err := zw.Write(out)
	if err == nil {
		err = zw.Close()
	}
	gzipWriters.Put(zw)
	if err != nil { // writing to memory does not fail; answer uncompressed if it ever does
		r.log.Error("compress export response", "err", err)
		w.WriteHeader(code)
		_, _ = w.Write(out)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// acceptsGzip reports whether Accept-Encoding header values allow gzip: gzip (or x-gzip) or * listed with a
// weight other than 0. An explicit gzip;q=0 wins over *.
func acceptsGzip(values []string) bool {
	star := false
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			ok := true
			for p := range strings.SplitSeq(params, ";") {
				k, val, found := strings.Cut(strings.TrimSpace(p), "=")
				if found && strings.EqualFold(strings.TrimSpace(k), "q") {
					if q, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err != nil || q <= 0 {
						ok = false
					}
				}
			}
			switch name {
			case "gzip", "x-gzip":
				return ok
			case "*":
				star = ok
			}
		}
	}
	return star
}

// requestFormat returns the format named by the request's Content-Type, ignoring parameters.
func requestFormat(req *http.Request) (format, bool) {
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil {
		return formatJSON, false
	}
	switch mt {
	case contentTypeProto:
		return formatProto, true
	case contentTypeJSON:
		return formatJSON, true
	}
	return formatJSON, false
}

func contentType(f format) string {
	if f == formatJSON {
		return contentTypeJSON
	}
	return contentTypeProto
}

func (r *Receiver) writeExportError(w http.ResponseWriter, req *http.Request, f format, err error) {
	switch {
	case isDecodeError(err):
		r.writeStatus(w, req, f, http.StatusBadRequest, codes.InvalidArgument, err.Error(), nil)
	case errors.Is(err, pipeline.ErrOverloaded):
		secs := int(math.Ceil(r.opts.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		r.writeStatus(w, req, f, http.StatusServiceUnavailable, codes.Unavailable, err.Error(),
			&errdetails.RetryInfo{RetryDelay: durationpb.New(r.opts.RetryAfter)})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client is gone or gave up; 503 tells a client that is still listening to retry.
		r.writeStatus(w, req, f, http.StatusServiceUnavailable, codes.Unavailable, "request canceled before it was stored", nil)
	default:
		r.writeStatus(w, req, f, http.StatusInternalServerError, codes.Internal, errInternal.Error(), nil)
	}
}

// writeStatus writes a google.rpc.Status body in format f.
func (r *Receiver) writeStatus(w http.ResponseWriter, req *http.Request, f format, httpCode int, code codes.Code, msg string, detail proto.Message) {
	st := &spb.Status{Code: int32(code), Message: msg}
	if detail != nil {
		if a, err := anypb.New(detail); err == nil {
			st.Details = append(st.Details, a)
		}
	}
	var out []byte
	var err error
	if f == formatJSON {
		out, err = protojson.Marshal(st)
	} else {
		out, err = proto.Marshal(st)
	}
	if err != nil {
		r.log.Error("encode error status", "err", err)
		out = nil
	}
	w.Header().Set("Content-Type", contentType(f))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	r.writeBody(w, req, httpCode, out)
}

func (r *Receiver) originAllowed(origin string) bool {
	return slices.Contains(r.opts.CORSAllowedOrigins, "*") || slices.Contains(r.opts.CORSAllowedOrigins, origin)
}

// preflight answers a CORS preflight request. A disallowed origin gets 403 without CORS headers, which the
// browser reports as a CORS failure.
func (r *Receiver) preflight(w http.ResponseWriter, req *http.Request, allowed bool) {
	if !allowed {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	if reqHeaders := req.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
		h.Set("Access-Control-Allow-Headers", reqHeaders)
	}
	h.Set("Access-Control-Max-Age", "7200")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}
