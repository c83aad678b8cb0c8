package wsotel

import (
	"context"
	"encoding/json"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
)

// Envelope wire format, a JSON text message:
//
//	{
//	  "trace": {"traceparent": "00-<trace-id>-<span-id>-01", "tracestate": "…", "baggage": "…"},
//	  "data":  <the application's message, any JSON value>
//	}
//
// "trace" holds whatever the propagator injects (W3C trace context and baggage by default) and may be absent.

// Limits applied when decoding an envelope, so a hostile peer cannot make the receiver allocate much beyond
// the message itself.
const (
	MaxEnvelopeFields     = 16   // entries in "trace"
	MaxEnvelopeFieldBytes = 8192 // bytes in one "trace" value
)

// EnvelopeError is returned for a message that is not a valid envelope.
type EnvelopeError struct{ Err error }

func (e *EnvelopeError) Error() string { return "decode ws envelope: " + e.Err.Error() }
func (e *EnvelopeError) Unwrap() error { return e.Err }

type envelope struct {
	Trace map[string]string `json:"trace,omitempty"`
	Data  json.RawMessage   `json:"data"`
}

// EncodeEnvelope wraps data (which must be valid JSON) together with the trace context and baggage in ctx.
func (in *Instrumentation) EncodeEnvelope(ctx context.Context, data []byte) ([]byte, error) {
	carrier := make(propagation.MapCarrier, 3)
	in.prop.Inject(ctx, carrier)
	return EncodeEnvelope(carrier, data)
}

// EncodeEnvelope wraps data (which must be valid JSON) with the given trace headers.
func EncodeEnvelope(trace map[string]string, data []byte) ([]byte, error) {
	if !json.Valid(data) {
		return nil, fmt.Errorf("encode ws envelope: data (%d bytes) is not valid JSON", len(data))
	}
	b, err := json.Marshal(envelope{Trace: trace, Data: data})
	if err != nil {
		return nil, fmt.Errorf("encode ws envelope: %w", err)
	}
	return b, nil
}

// DecodeEnvelope splits an envelope into its trace headers (nil when absent) and data (a copy).
func DecodeEnvelope(msg []byte) (propagation.MapCarrier, []byte, error) {
	var env envelope
	if err := json.Unmarshal(msg, &env); err != nil {
		return nil, nil, &EnvelopeError{err}
	}
	if len(env.Data) == 0 {
		return nil, nil, &EnvelopeError{fmt.Errorf("missing \"data\"")}
	}
	if len(env.Trace) > MaxEnvelopeFields {
		return nil, nil, &EnvelopeError{fmt.Errorf("\"trace\" has %d fields, limit %d", len(env.Trace), MaxEnvelopeFields)}
	}
	for k, v := range env.Trace {
		if len(v) > MaxEnvelopeFieldBytes {
			return nil, nil, &EnvelopeError{fmt.Errorf("\"trace\" field %q is %d bytes, limit %d", k, len(v), MaxEnvelopeFieldBytes)}
		}
	}
	return propagation.MapCarrier(env.Trace), env.Data, nil
}
