// Package ui serves otlpd's web interface: static assets embedded in the binary with embed.FS, written as
// plain ES modules and CSS so that `go run` needs no Node build step.
//
// The interface is a single-page application with hash routes (#/search, #/trace/{id}, #/compare,
// #/services, #/service/{name}, #/logs, #/metrics); every view keeps its state in the URL, so a link
// restores it. It reads only the HTTP APIs that otlpd serves on the same address (the native API under
// /api/otlpd/, the Prometheus API under /api/v1/). Telemetry is untrusted text: the scripts build the page
// with DOM text nodes and never parse HTML from data, and the Content-Security-Policy sent with every asset
// forbids inline and foreign scripts.
package ui
