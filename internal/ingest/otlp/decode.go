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

// decodeTraces decodes an ExportTraceServiceRequest. The result does not refer to body.
func decodeTraces(body []byte, f format) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	var err error
	if f == formatJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return ptrace.Traces{}, &decodeError{signal: "traces", format: f, err: err}
	}
	return req.Traces(), nil
}

// decodeLogs decodes an ExportLogsServiceRequest. The result does not refer to body.
func decodeLogs(body []byte, f format) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	var err error
	if f == formatJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return plog.Logs{}, &decodeError{signal: "logs", format: f, err: err}
	}
	return req.Logs(), nil
}

// decodeMetrics decodes an ExportMetricsServiceRequest. The result does not refer to body.
func decodeMetrics(body []byte, f format) (pmetric.Metrics, error) {
	req := pmetricotlp.NewExportRequest()
	var err error
	if f == formatJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return pmetric.Metrics{}, &decodeError{signal: "metrics", format: f, err: err}
	}
	return req.Metrics(), nil
}
