// Package native is otlpd's own JSON API, mounted under /api/otlpd/ on the UI address. It is what the UI and
// the command-line tools read. Telemetry is returned in the OTLP JSON encoding, so one decoder reads it all.
// docs/api.md documents every route.
//
// One file per resource: traces.go, services.go, logs.go, metrics.go.
package native
