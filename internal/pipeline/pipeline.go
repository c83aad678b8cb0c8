// Package pipeline fans each accepted batch out to its consumers (storage, live tail, ...) with bounded memory.
//
// A receiver hands a decoded, validated batch to Pipeline.Traces, Logs or Metrics together with its size in
// bytes, or a protobuf batch it checked without decoding to TracesRaw or LogsRaw, which decode it only for
// the consumers that cannot read it as it is. The pipeline admits the batch only if the bytes of all batches
// in flight stay under a budget; otherwise it returns ErrOverloaded at once and the receiver answers with a
// retryable code (gRPC UNAVAILABLE with RetryInfo, HTTP 503 with Retry-After). Admitted batches go to every consumer synchronously, so a nil
// return means every durable consumer (storage) has stored the batch and the export may be acknowledged.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
)

// ErrOverloaded is returned when admitting a batch would exceed the in-flight memory budget. It is retryable.
var ErrOverloaded = errors.New("otlpd is overloaded: too much data in flight, retry later")

// TracesConsumer receives spans. The consumer must not modify td; it may keep it, read-only.
type TracesConsumer interface {
	ConsumeTraces(ctx context.Context, td ptrace.Traces) error
}

// LogsConsumer receives log records, with the rules of TracesConsumer.
type LogsConsumer interface {
	ConsumeLogs(ctx context.Context, ld plog.Logs) error
}

// MetricsConsumer receives metric points, with the rules of TracesConsumer.
type MetricsConsumer interface {
	ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error
}

// EncodedTracesConsumer is an optional interface of a TracesConsumer that can use the batch's protobuf
// encoding (a storage that logs batches as protobuf need not encode them again). The pipeline calls it instead of
// ConsumeTraces when the receiver passed the encoding (Pipeline.TracesEncoded).
type EncodedTracesConsumer interface {
	// ConsumeTracesEncoded is ConsumeTraces given raw, td as an OTLP TracesData message (the rules of
	// storage.EncodedSpanWriter). The consumer must not keep raw after the call returns.
	ConsumeTracesEncoded(ctx context.Context, td ptrace.Traces, raw []byte) error
}

// EncodedLogsConsumer is EncodedTracesConsumer for logs (raw is an OTLP LogsData message).
type EncodedLogsConsumer interface {
	ConsumeLogsEncoded(ctx context.Context, ld plog.Logs, raw []byte) error
}

// EncodedMetricsConsumer is EncodedTracesConsumer for metrics (raw is an OTLP MetricsData message).
type EncodedMetricsConsumer interface {
	ConsumeMetricsEncoded(ctx context.Context, md pmetric.Metrics, raw []byte) error
}

// RawTracesConsumer is an optional interface of a TracesConsumer that takes a batch as its protobuf encoding
// alone, so that the batch need not be decoded for it (Pipeline.TracesRaw).
type RawTracesConsumer interface {
	// ConsumeTracesRaw consumes the spans of raw, an OTLP TracesData message that pdata decodes and every span
	// of which passed the receiver's validation (the rules of storage.RawSpanWriter); idx indexes its spans
	// (the receiver's check builds it; nil when no one did). The consumer must not keep raw or idx, or
	// anything that refers to their memory, after the call returns.
	//
	// It returns errors.ErrUnsupported, having done nothing, to be given the batch decoded instead
	// (ConsumeTracesEncoded or ConsumeTraces), for instance when it cannot use raw for this batch.
	ConsumeTracesRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error
}

// RawLogsConsumer is RawTracesConsumer for logs (raw is an OTLP LogsData message, idx indexes its log
// records).
type RawLogsConsumer interface {
	ConsumeLogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index) error
}

// Options configures a Pipeline.
type Options struct {
	// MaxInFlightBytes bounds the encoded size of all batches being consumed at once (decoded, they take about
	// 3-5 times that in memory). 0 means 64 MiB.
	MaxInFlightBytes int64
}

// Consumer is one destination of the pipeline. Durable consumers (storage) are called in order and their
// errors fail the batch; observers (live tail) are called after them, must not block, and their errors are
// ignored.
type Consumer struct {
	Name     string
	Traces   TracesConsumer  // may be nil
	Logs     LogsConsumer    // may be nil
	Metrics  MetricsConsumer // may be nil
	Observer bool
}

// Pipeline fans batches out to consumers. Safe for concurrent use.
type Pipeline struct {
	budget    int64
	mu        sync.Mutex
	inFlight  int64
	refused   int64 // batches refused with ErrOverloaded, under mu
	consumers []Consumer
}

// New returns a pipeline that feeds consumers.
func New(opts Options, consumers ...Consumer) *Pipeline {
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = 64 << 20
	}
	return &Pipeline{budget: opts.MaxInFlightBytes, consumers: consumers}
}

// InFlightBytes reports the bytes currently admitted and not yet consumed.
func (p *Pipeline) InFlightBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// Refused reports how many batches were refused with ErrOverloaded since the pipeline was made.
func (p *Pipeline) Refused() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *Pipeline) admit(size int64) error {
	if size < 0 {
		size = 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// A batch larger than the whole budget is still admitted when nothing else is in flight, so that one big
	// request can never be refused forever.
	if p.inFlight > 0 && p.inFlight+size > p.budget {
		p.refused++
		return ErrOverloaded
	}
	p.inFlight += size
	return nil
}

func (p *Pipeline) release(size int64) {
	if size < 0 {
		size = 0
	}
	p.mu.Lock()
	p.inFlight -= size
	p.mu.Unlock()
}

// Traces consumes td, whose encoded size is size bytes.
func (p *Pipeline) Traces(ctx context.Context, td ptrace.Traces, size int64) error {
	return p.TracesEncoded(ctx, td, size, nil)
}

// TracesEncoded is Traces given raw, td as an OTLP TracesData message (the rules of
// storage.EncodedSpanWriter), which goes to the consumers that take it (EncodedTracesConsumer). raw may be nil.
// The pipeline does not keep raw after the call returns.
func (p *Pipeline) TracesEncoded(ctx context.Context, td ptrace.Traces, size int64, raw []byte) error {
	return fanOut(p, ctx, size, func(c Consumer) (bool, error) {
		if c.Traces == nil {
			return false, nil
		}
		if ec, ok := c.Traces.(EncodedTracesConsumer); ok && raw != nil {
			return true, ec.ConsumeTracesEncoded(ctx, td, raw)
		}
		return true, c.Traces.ConsumeTraces(ctx, td)
	})
}

// TracesRaw consumes the spans of raw, an OTLP TracesData message (an ExportTraceServiceRequest has the same
// encoding) that pdata decodes and every span of which passed the receiver's validation; idx indexes its
// spans (nil when nothing did) and size is its encoded size (len(raw) normally). Consumers that take raw (RawTracesConsumer) get it;
// the others get the batch decoded, once for all of them and only if one needs it. The pipeline does not keep
// raw after the call returns. A batch that does not decode fails the durable consumers that need it decoded.
func (p *Pipeline) TracesRaw(ctx context.Context, raw []byte, idx *otlpwire.Index, size int64) error {
	var (
		td      ptrace.Traces
		decoded bool
		derr    error
	)
	decode := func() (ptrace.Traces, error) {
		if !decoded {
			decoded = true
			if td, derr = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw); derr != nil {
				derr = fmt.Errorf("decode traces batch: %w", derr)
			}
		}
		return td, derr
	}
	return fanOut(p, ctx, size, func(c Consumer) (bool, error) {
		if c.Traces == nil {
			return false, nil
		}
		if rc, ok := c.Traces.(RawTracesConsumer); ok {
			if err := rc.ConsumeTracesRaw(ctx, raw, idx); !errors.Is(err, errors.ErrUnsupported) {
				return true, err
			}
		}
		td, err := decode()
		if err != nil {
			return true, err
		}
		if ec, ok := c.Traces.(EncodedTracesConsumer); ok {
			return true, ec.ConsumeTracesEncoded(ctx, td, raw)
		}
		return true, c.Traces.ConsumeTraces(ctx, td)
	})
}

// Logs consumes ld, whose encoded size is size bytes.
func (p *Pipeline) Logs(ctx context.Context, ld plog.Logs, size int64) error {
	return p.LogsEncoded(ctx, ld, size, nil)
}

// LogsEncoded is TracesEncoded for logs (raw is an OTLP LogsData message).
func (p *Pipeline) LogsEncoded(ctx context.Context, ld plog.Logs, size int64, raw []byte) error {
	return fanOut(p, ctx, size, func(c Consumer) (bool, error) {
		if c.Logs == nil {
			return false, nil
		}
		if ec, ok := c.Logs.(EncodedLogsConsumer); ok && raw != nil {
			return true, ec.ConsumeLogsEncoded(ctx, ld, raw)
		}
		return true, c.Logs.ConsumeLogs(ctx, ld)
	})
}

// LogsRaw is TracesRaw for logs (raw is an OTLP LogsData message, idx indexes its log records).
func (p *Pipeline) LogsRaw(ctx context.Context, raw []byte, idx *otlpwire.Index, size int64) error {
	var (
		ld      plog.Logs
		decoded bool
		derr    error
	)
	decode := func() (plog.Logs, error) {
		if !decoded {
			decoded = true
			if ld, derr = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw); derr != nil {
				derr = fmt.Errorf("decode logs batch: %w", derr)
			}
		}
		return ld, derr
	}
	return fanOut(p, ctx, size, func(c Consumer) (bool, error) {
		if c.Logs == nil {
			return false, nil
		}
		if rc, ok := c.Logs.(RawLogsConsumer); ok {
			if err := rc.ConsumeLogsRaw(ctx, raw, idx); !errors.Is(err, errors.ErrUnsupported) {
				return true, err
			}
		}
		ld, err := decode()
		if err != nil {
			return true, err
		}
		if ec, ok := c.Logs.(EncodedLogsConsumer); ok {
			return true, ec.ConsumeLogsEncoded(ctx, ld, raw)
		}
		return true, c.Logs.ConsumeLogs(ctx, ld)
	})
}

// Metrics consumes md, whose encoded size is size bytes.
func (p *Pipeline) Metrics(ctx context.Context, md pmetric.Metrics, size int64) error {
	return p.MetricsEncoded(ctx, md, size, nil)
}

// MetricsEncoded is TracesEncoded for metrics (raw is an OTLP MetricsData message).
func (p *Pipeline) MetricsEncoded(ctx context.Context, md pmetric.Metrics, size int64, raw []byte) error {
	return fanOut(p, ctx, size, func(c Consumer) (bool, error) {
		if c.Metrics == nil {
			return false, nil
		}
		if ec, ok := c.Metrics.(EncodedMetricsConsumer); ok && raw != nil {
			return true, ec.ConsumeMetricsEncoded(ctx, md, raw)
		}
		return true, c.Metrics.ConsumeMetrics(ctx, md)
	})
}

// fanOut admits a batch and calls each durable consumer, then each observer. The first durable error is
// returned, wrapped with the consumer's name; errors that report rejected items are returned as they are so
// that receivers can turn them into partial success.
func fanOut(p *Pipeline, ctx context.Context, size int64, call func(Consumer) (bool, error)) error {
	if err := p.admit(size); err != nil {
		return err
	}
	defer p.release(size)
	var first error
	for _, c := range p.consumers {
		if c.Observer {
			continue
		}
		if _, err := call(c); err != nil && first == nil {
			first = wrap(c.Name, err)
		}
	}
	if first != nil && !isPartial(first) {
		return first
	}
	for _, c := range p.consumers {
		if c.Observer {
			_, _ = call(c)
		}
	}
	return first
}

func isPartial(err error) bool {
	var r *storage.RejectedError
	return errors.As(err, &r)
}

func wrap(name string, err error) error {
	if isPartial(err) || errors.Is(err, ErrOverloaded) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
