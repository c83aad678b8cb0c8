package otlp

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/storage"
)

// Consumer takes the accepted items of one request, with the request's decoded size in bytes.
// *pipeline.Pipeline satisfies it. It returns pipeline.ErrOverloaded to refuse a batch for now, a
// *storage.RejectedError when it stored all but some items, or another error when nothing was stored.
type Consumer interface {
	Traces(ctx context.Context, td ptrace.Traces, size int64) error
	Logs(ctx context.Context, ld plog.Logs, size int64) error
	Metrics(ctx context.Context, md pmetric.Metrics, size int64) error
}

// EncodedConsumer is an optional interface of a Consumer that also takes a batch's protobuf encoding. The
// receiver uses it for a protobuf request whose items were all accepted: the request's bytes then encode the
// batch exactly (an Export*ServiceRequest has the encoding of TracesData, LogsData or MetricsData), and a
// storage that logs batches as protobuf need not encode them again. raw is valid only during the call.
type EncodedConsumer interface {
	TracesEncoded(ctx context.Context, td ptrace.Traces, size int64, raw []byte) error
	LogsEncoded(ctx context.Context, ld plog.Logs, size int64, raw []byte) error
	MetricsEncoded(ctx context.Context, md pmetric.Metrics, size int64, raw []byte) error
}

// RawConsumer is an optional interface of a Consumer that takes a protobuf traces or logs request as it is,
// without decoding. The receiver uses it for a protobuf request that the wire check passes (wirecheck.go):
// pdata decodes it, validation would reject and remove nothing, and its encoding is plain. raw is an
// Export*ServiceRequest, which has the encoding of TracesData or LogsData; idx is the check's index of its
// spans or log records. raw and idx are valid only during the call (both are recycled): the consumer must not
// keep them, or anything that refers to their memory. The errors are those of Consumer.
type RawConsumer interface {
	TracesRaw(ctx context.Context, raw []byte, idx *otlpwire.Index, size int64) error
	LogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index, size int64) error
}

var (
	_ Consumer        = (*pipeline.Pipeline)(nil)
	_ EncodedConsumer = (*pipeline.Pipeline)(nil)
	_ RawConsumer     = (*pipeline.Pipeline)(nil)
)

// Options configures a Receiver. Zero fields take the defaults of config.Default.
type Options struct {
	// MaxRequestBytes bounds an HTTP request body after decompression (413 above it).
	MaxRequestBytes int64
	// MaxGRPCMessageBytes bounds one gRPC message after decompression (RESOURCE_EXHAUSTED above it).
	MaxGRPCMessageBytes int
	// MaxAttributeValueBytes bounds one string or bytes attribute value or log body.
	MaxAttributeValueBytes int
	// CORSAllowedOrigins are the origins browser SDKs may export from over HTTP; "*" allows any.
	CORSAllowedOrigins []string
	// RetryAfter is the delay suggested to clients refused for overload. 0 means one second.
	RetryAfter time.Duration
	// Observer, when set, is told the outcome of every export request (otlpd's own metrics).
	Observer Observer
}

// Observer is told the outcome of each export request. Implementations must be safe for concurrent use and
// fast: they run on the request path.
type Observer interface {
	// Exported reports one request of signal ("traces", "metrics" or "logs") over transport ("grpc" or
	// "http"): the items stored, the items rejected through partial success, and the status answered (the
	// HTTP status code, or the gRPC code name). A request refused whole (bad body, overload) has no items
	// counted, since its items were not stored and may be retried.
	Exported(signal, transport string, accepted, rejected int64, status string)
}

// itemCounts is what one export did with its items.
type itemCounts struct{ accepted, rejected int64 }

// observe reports a request to the observer, if any.
func (r *Receiver) observe(signal, transport string, n itemCounts, status string) {
	if r.opts.Observer != nil {
		r.opts.Observer.Exported(signal, transport, n.accepted, n.rejected, status)
	}
}

// Receiver decodes, validates and hands OTLP exports to a Consumer. It serves them over gRPC (NewGRPCServer)
// and HTTP (Handler). Safe for concurrent use.
type Receiver struct {
	next Consumer
	enc  EncodedConsumer // next, when it takes encoded batches; else nil
	raw  RawConsumer     // next, when it takes raw batches; else nil
	opts Options
	log  *slog.Logger
}

// New returns a receiver feeding next.
func New(next Consumer, opts Options, log *slog.Logger) *Receiver {
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = 20 << 20
	}
	if opts.MaxGRPCMessageBytes <= 0 {
		opts.MaxGRPCMessageBytes = 4 << 20
	}
	if opts.MaxAttributeValueBytes <= 0 {
		opts.MaxAttributeValueBytes = 64 << 10
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	enc, _ := next.(EncodedConsumer)
	raw, _ := next.(RawConsumer)
	return &Receiver{next: next, enc: enc, raw: raw, opts: opts, log: log}
}

// errInternal is what a client is told when the consumer failed for a reason of its own; the cause is logged.
var errInternal = errors.New("otlpd could not store the data; see the server log")

// consumeResult turns a consumer's error into the rejections to report, or an error that fails the request
// (pipeline.ErrOverloaded, a context error or errInternal).
func (r *Receiver) consumeResult(ctx context.Context, signal string, err error, rej *rejections) error {
	if err == nil {
		return nil
	}
	var re *storage.RejectedError
	switch {
	case errors.As(err, &re):
		rej.merge(re.Rejected, re.Reason)
		return nil
	case errors.Is(err, pipeline.ErrOverloaded):
		return pipeline.ErrOverloaded
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		r.log.ErrorContext(ctx, "store export", "signal", signal, "err", err)
		return errInternal
	}
}

// indexes recycles the indexes the wire check builds: consumers do not keep them (pipeline.RawTracesConsumer).
var indexes = sync.Pool{New: func() any { return new(otlpwire.Index) }}

// maxPooledIndex is the most items an index may hold and still be recycled.
const maxPooledIndex = 1 << 16

func getIndex() *otlpwire.Index { return indexes.Get().(*otlpwire.Index) }

func putIndex(idx *otlpwire.Index) {
	if cap(idx.Items) > maxPooledIndex {
		return
	}
	idx.Reset()
	indexes.Put(idx)
}

// wholeProto returns body when it can go to the consumer as the batch's encoding: a protobuf request that
// decoded without salvage and lost nothing to validation (not even a resource or scope without items), and a consumer that takes encodings. Otherwise nil.
func (r *Receiver) wholeProto(body []byte, f format, rej rejections) []byte {
	if r.enc == nil || f != formatProto || rej.count != 0 || len(rej.problems) != 0 || body == nil {
		return nil
	}
	return body
}

// exportTraces decodes, validates and consumes one traces request; a protobuf request that passes the wire
// check goes to a RawConsumer undecoded. The error is a *decodeError, an error of
// consumeResult, or nil with the partial success (if any) in the response.
func (r *Receiver) exportTraces(ctx context.Context, body []byte, f format) (ptraceotlp.ExportResponse, itemCounts, error) {
	resp := ptraceotlp.NewExportResponse()
	if r.raw != nil && f == formatProto {
		idx := getIndex()
		defer putIndex(idx)
		if n, ok := CheckTraces(body, r.opts.MaxAttributeValueBytes, idx); ok {
			var rej rejections
			err := r.raw.TracesRaw(ctx, body, idx, int64(len(body)))
			if err := r.consumeResult(ctx, "traces", err, &rej); err != nil {
				return resp, itemCounts{}, err
			}
			if msg := rej.message(int64(n), "spans"); msg != "" {
				resp.PartialSuccess().SetRejectedSpans(rej.count)
				resp.PartialSuccess().SetErrorMessage(msg)
			}
			return resp, itemCounts{accepted: int64(n) - rej.count, rejected: rej.count}, nil
		}
	}
	td, rej, err := decodeTraces(body, f)
	if err != nil {
		return resp, itemCounts{}, err
	}
	total := int64(td.SpanCount()) + rej.count
	rej.mergeFrom(validateTraces(td, r.opts.MaxAttributeValueBytes))
	if td.ResourceSpans().Len() > 0 {
		var err error
		if raw := r.wholeProto(body, f, rej); raw != nil {
			err = r.enc.TracesEncoded(ctx, td, int64(len(body)), raw)
		} else {
			err = r.next.Traces(ctx, td, int64(len(body)))
		}
		if err := r.consumeResult(ctx, "traces", err, &rej); err != nil {
			return resp, itemCounts{}, err
		}
	}
	if msg := rej.message(total, "spans"); msg != "" {
		resp.PartialSuccess().SetRejectedSpans(rej.count)
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	return resp, itemCounts{accepted: total - rej.count, rejected: rej.count}, nil
}

// exportLogs is exportTraces for logs.
func (r *Receiver) exportLogs(ctx context.Context, body []byte, f format) (plogotlp.ExportResponse, itemCounts, error) {
	resp := plogotlp.NewExportResponse()
	if r.raw != nil && f == formatProto {
		idx := getIndex()
		defer putIndex(idx)
		if n, ok := CheckLogs(body, r.opts.MaxAttributeValueBytes, idx); ok {
			var rej rejections
			err := r.raw.LogsRaw(ctx, body, idx, int64(len(body)))
			if err := r.consumeResult(ctx, "logs", err, &rej); err != nil {
				return resp, itemCounts{}, err
			}
			if msg := rej.message(int64(n), "log records"); msg != "" {
				resp.PartialSuccess().SetRejectedLogRecords(rej.count)
				resp.PartialSuccess().SetErrorMessage(msg)
			}
			return resp, itemCounts{accepted: int64(n) - rej.count, rejected: rej.count}, nil
		}
	}
	ld, rej, err := decodeLogs(body, f)
	if err != nil {
		return resp, itemCounts{}, err
	}
	total := int64(ld.LogRecordCount()) + rej.count
	rej.mergeFrom(validateLogs(ld, r.opts.MaxAttributeValueBytes))
	if ld.ResourceLogs().Len() > 0 {
		var err error
		if raw := r.wholeProto(body, f, rej); raw != nil {
			err = r.enc.LogsEncoded(ctx, ld, int64(len(body)), raw)
		} else {
			err = r.next.Logs(ctx, ld, int64(len(body)))
		}
		if err := r.consumeResult(ctx, "logs", err, &rej); err != nil {
			return resp, itemCounts{}, err
		}
	}
	if msg := rej.message(total, "log records"); msg != "" {
		resp.PartialSuccess().SetRejectedLogRecords(rej.count)
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	return resp, itemCounts{accepted: total - rej.count, rejected: rej.count}, nil
}

// exportMetrics is exportTraces for metrics.
func (r *Receiver) exportMetrics(ctx context.Context, body []byte, f format) (pmetricotlp.ExportResponse, itemCounts, error) {
	resp := pmetricotlp.NewExportResponse()
	md, rej, err := decodeMetrics(body, f)
	if err != nil {
		return resp, itemCounts{}, err
	}
	total := int64(metricPointCount(md)) + rej.count
	rej.mergeFrom(validateMetrics(md, r.opts.MaxAttributeValueBytes))
	if md.ResourceMetrics().Len() > 0 {
		var err error
		if raw := r.wholeProto(body, f, rej); raw != nil {
			err = r.enc.MetricsEncoded(ctx, md, int64(len(body)), raw)
		} else {
			err = r.next.Metrics(ctx, md, int64(len(body)))
		}
		if err := r.consumeResult(ctx, "metrics", err, &rej); err != nil {
			return resp, itemCounts{}, err
		}
	}
	if msg := rej.message(total, "data points"); msg != "" {
		resp.PartialSuccess().SetRejectedDataPoints(rej.count)
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	return resp, itemCounts{accepted: total - rej.count, rejected: rej.count}, nil
}

// metricPointCount counts the points of md as validation does: a metric without a type counts as one point.
func metricPointCount(md pmetric.Metrics) int {
	n := 0
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				n += pointCount(ms.At(k))
			}
		}
	}
	return n
}
