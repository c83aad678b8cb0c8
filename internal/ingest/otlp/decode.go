package otlp

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// format is the encoding of an OTLP request body.
type format uint8

const (
	formatProto format = iota // application/x-protobuf, and every gRPC message
	formatJSON                // application/json, by the OTLP JSON rules (hex IDs, integer enums, ...)
)

func (f format) String() string {
	if f == formatJSON {
		return "JSON"
	}
	return "protobuf"
}

// decodeError reports a request body that is not a valid OTLP message. Its text is safe to show a client.
type decodeError struct {
	signal string
	format format
	err    error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("decode %s %s request: %v", e.signal, e.format, e.err)
}

func (e *decodeError) Unwrap() error { return e.err }

func isDecodeError(err error) bool {
	var d *decodeError
	return errors.As(err, &d)
}

// unmarshaler is the part of pdata's ExportRequest types the decoder uses.
type unmarshaler interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

func unmarshal(req unmarshaler, body []byte, f format) error {
	if f == formatJSON {
		return req.UnmarshalJSON(body)
	}
	return req.UnmarshalProto(body)
}

// decode unmarshals body into a fresh request from newReq. When that fails, it tries once more without the
// items whose IDs are malformed (salvage.go) and reports them; otherwise the original error is returned.
func decode[R unmarshaler](newReq func() R, body []byte, f format, signal string) (R, rejections, error) {
	req := newReq()
	err := unmarshal(req, body, f)
	if err == nil {
		return req, rejections{}, nil
	}
	fixed, rej, serr := salvage(body, f, signal, err)
	if serr == nil {
		req = newReq()
		if unmarshal(req, fixed, f) == nil {
			return req, rej, nil
		}
	}
	return req, rejections{}, &decodeError{signal: signal, format: f, err: err}
}

// decodeTraces decodes an ExportTraceServiceRequest. The result does not refer to body. The rejections are
// items left out for malformed IDs.
func decodeTraces(body []byte, f format) (ptrace.Traces, rejections, error) {
	req, rej, err := decode(ptraceotlp.NewExportRequest, body, f, "traces")
	if err != nil {
		return ptrace.Traces{}, rej, err
	}
	return req.Traces(), rej, nil
}

// decodeLogs is decodeTraces for logs.
func decodeLogs(body []byte, f format) (plog.Logs, rejections, error) {
	req, rej, err := decode(plogotlp.NewExportRequest, body, f, "logs")
	if err != nil {
		return plog.Logs{}, rej, err
	}
	return req.Logs(), rej, nil
}

// decodeMetrics is decodeTraces for metrics.
func decodeMetrics(body []byte, f format) (pmetric.Metrics, rejections, error) {
	req, rej, err := decode(pmetricotlp.NewExportRequest, body, f, "metrics")
	if err != nil {
		return pmetric.Metrics{}, rej, err
	}
	return req.Metrics(), rej, nil
}
