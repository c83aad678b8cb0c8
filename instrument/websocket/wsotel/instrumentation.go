package wsotel

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of every span and metric this package produces.
const ScopeName = "github.com/otlpd/otlpd/instrument/websocket"

// Options configures an Instrumentation. The zero value uses the global providers and propagator and gives
// every message a span.
type Options struct {
	// TracerProvider creates the tracer; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider creates the instruments; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Propagator injects and extracts trace context in handshake headers and message envelopes; nil means
	// otel.GetTextMapPropagator().
	Propagator propagation.TextMapPropagator
	// MessageSampleRatio is the fraction of messages that get a ws.send or ws.receive span, in (0, 1]. Zero
	// means 1 (every message). Metrics count every message regardless. A received envelope carrying a trace
	// context always gets its span, so that the sender's trace continues.
	MessageSampleRatio float64
	// DisableMessageSpans turns ws.send and ws.receive spans off (envelopes still carry trace context).
	DisableMessageSpans bool
	// Rand returns uniformly random 64-bit values for the message sampling decision; nil means math/rand/v2.
	// Tests set it to make the decision deterministic.
	Rand func() uint64
}

// Instrumentation holds the tracer, instruments and options shared by all connections. Create one per
// process (or per set of options) and pass it to every Dial/Accept; it is safe for concurrent use.
type Instrumentation struct {
	tracer    trace.Tracer
	prop      propagation.TextMapPropagator
	rand      func() uint64
	threshold uint64 // message span when rand() < threshold
	allMsgs   bool
	noMsgs    bool

	active   metric.Int64UpDownCounter
	connDur  metric.Float64Histogram
	sent     metric.Int64Counter
	received metric.Int64Counter
	size     metric.Int64Histogram
	pingRTT  metric.Float64Histogram

	roles [2]roleOpts // indexed by Role
}

// roleOpts are measurement option lists computed once: passing a prebuilt slice to Add/Record keeps the
// variadic argument from being allocated per message.
type roleOpts struct {
	roleAdd  []metric.AddOption
	roleRec  []metric.RecordOption
	sent     [2][]metric.AddOption // by MessageType
	received [2][]metric.AddOption
	sizeOut  [2][]metric.RecordOption
	sizeIn   [2][]metric.RecordOption
}

// New creates an Instrumentation. It fails only when the meter rejects an instrument; the returned error
// names it.
func New(opts Options) (*Instrumentation, error) {
	tp, mp, prop := opts.TracerProvider, opts.MeterProvider, opts.Propagator
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if prop == nil {
		prop = otel.GetTextMapPropagator()
	}
	ratio := opts.MessageSampleRatio
	if ratio == 0 {
		ratio = 1
	}
	if ratio < 0 || ratio > 1 || math.IsNaN(ratio) {
		return nil, fmt.Errorf("wsotel: MessageSampleRatio %v outside (0, 1]", opts.MessageSampleRatio)
	}
	in := &Instrumentation{
		tracer:  tp.Tracer(ScopeName),
		prop:    prop,
		rand:    opts.Rand,
		allMsgs: ratio >= 1,
		noMsgs:  opts.DisableMessageSpans,
	}
	if in.rand == nil {
		in.rand = rand.Uint64
	}
	if !in.allMsgs {
		in.threshold = uint64(ratio * (1 << 64))
	}

	m := mp.Meter(ScopeName)
	var err, e error
	in.active, e = m.Int64UpDownCounter("ws.connection.active",
		metric.WithDescription("Open WebSocket connections."), metric.WithUnit("{connection}"))
	err = errors.Join(err, e)
	in.connDur, e = m.Float64Histogram("ws.connection.duration",
		metric.WithDescription("Time from the completed handshake to the end of a WebSocket connection."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.01, 0.1, 1, 5, 15, 60, 300, 900, 3600, 4*3600, 24*3600))
	err = errors.Join(err, e)
	in.sent, e = m.Int64Counter("ws.message.sent",
		metric.WithDescription("WebSocket messages sent."), metric.WithUnit("{message}"))
	err = errors.Join(err, e)
	in.received, e = m.Int64Counter("ws.message.received",
		metric.WithDescription("WebSocket messages received."), metric.WithUnit("{message}"))
	err = errors.Join(err, e)
	in.size, e = m.Int64Histogram("ws.message.size",
		metric.WithDescription("WebSocket message payload size."), metric.WithUnit("By"),
		metric.WithExplicitBucketBoundaries(16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1<<20, 4<<20))
	err = errors.Join(err, e)
	in.pingRTT, e = m.Float64Histogram("ws.ping.duration",
		metric.WithDescription("Round-trip time from sending a WebSocket ping to receiving its pong."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))
	err = errors.Join(err, e)
	if err != nil {
		return nil, fmt.Errorf("wsotel: create instruments: %w", err)
	}

	for _, r := range []Role{Client, Server} {
		ra := AttrRole.String(r.String())
		ro := &in.roles[r]
		role := metric.WithAttributeSet(attribute.NewSet(ra))
		ro.roleAdd, ro.roleRec = []metric.AddOption{role}, []metric.RecordOption{role}
		for _, t := range []MessageType{Text, Binary} {
			ta := AttrMessageType.String(t.String())
			ro.sent[t] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(ra, ta))}
			ro.received[t] = ro.sent[t]
			ro.sizeOut[t] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(ra, ta, attrIODirection.String("transmit")))}
			ro.sizeIn[t] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(ra, ta, attrIODirection.String("receive")))}
		}
	}
	return in, nil
}

// Propagator returns the propagator used for handshake headers and envelopes.
func (in *Instrumentation) Propagator() propagation.TextMapPropagator { return in.prop }

// sampleMessage decides whether a message without an incoming trace context gets a span.
func (in *Instrumentation) sampleMessage() bool {
	if in.noMsgs {
		return false
	}
	return in.allMsgs || in.rand() < in.threshold
}
