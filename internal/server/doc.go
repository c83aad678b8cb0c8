// Package server assembles otlpd from a config.Config: the storage backend, the pipeline that feeds it, the
// OTLP receivers (gRPC and HTTP) and the UI/API HTTP server, and runs them until its context ends.
//
// New binds the listeners (so tests can ask for port 0 and read the bound addresses), Run serves until its
// context ends and then shuts down gracefully. Options add pipeline consumers (live tail, forwarding) and
// routes on the UI/API mux for later features.
package server
