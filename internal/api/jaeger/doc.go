// Package jaeger serves the Jaeger query HTTP API (the `/api/...` routes the Jaeger UI and Grafana's Jaeger
// data source call) from otlpd's storage, so both work unchanged against otlpd.
//
// Spans are translated from OTLP to the Jaeger JSON model as the OpenTelemetry Jaeger translator does:
// the resource becomes the process (service.name is the service name, other attributes its tags); the parent
// becomes a CHILD_OF reference and links become FOLLOWS_FROM references; the span kind, status, trace state
// and instrumentation scope become the tags span.kind, otel.status_code (with error=true and
// otel.status_description on error), w3c.tracestate and otel.scope.name/otel.scope.version; events become
// logs with the event name in the field "event"; maps and arrays become JSON strings and bytes base64
// "binary" values. docs/api.md lists every route, parameter and field.
//
// One file per resource: services.go, traces.go, dependencies.go; model.go holds the JSON model and the
// translation.
package jaeger
