// Package wsotel is the library-neutral core of otlpd's WebSocket instrumentation: it owns the spans, metrics
// and trace-context envelope that the adapters for github.com/coder/websocket (package coderws) and
// github.com/gorilla/websocket (package gorillaws) share. Applications normally use an adapter; the exported
// lifecycle API here (StartServerHandshake, StartClientHandshake, Conn.Send/StartSend, Conn.Received, Conn.End) is
// for instrumenting another WebSocket library the same way.
//
// # Spans
//
// Client: ws.connection (INTERNAL, the connection's whole life) → ws.handshake (CLIENT, the HTTP upgrade; its
// trace context travels in the upgrade request headers).
// Server: ws.handshake (SERVER, child of the client's ws.handshake) → ws.connection (INTERNAL, outlives its
// parent) → ws.send (PRODUCER) / ws.receive (CONSUMER).
//
// Message spans are sampled with their own ratio (Options.MessageSampleRatio) because one connection can carry
// millions of messages. A message whose envelope carries a trace context is always given a ws.receive span
// that continues the sender's trace (the SDK's parent-based sampler then decides), linked to the receiving
// connection's span.
//
// # Attributes
//
// OpenTelemetry has no WebSocket semantic conventions yet. The names follow the otlpd seed document (ws.url,
// ws.message.type, ws.message.size) plus the closest stable attributes: url.scheme, url.path, url.full,
// server.address, server.port, client.address, network.peer.*, network.protocol.*, network.transport,
// http.request.method, http.response.status_code, user_agent.original, error.type. See docs/websocket.md.
//
// # Metrics
//
// ws.connection.active (UpDownCounter), ws.connection.duration (Histogram, s), ws.message.sent and
// ws.message.received (Counter, by ws.message.type), ws.message.size (Histogram, By, by type and
// network.io.direction), ws.ping.duration (Histogram, s: ping→pong round trip). Every metric carries ws.role.
//
// # Envelope
//
// WriteEnvelope/ReadEnvelope in the adapters carry W3C trace context (traceparent, tracestate, baggage) inside
// the application message as JSON: {"trace":{"traceparent":"00-…"},"data":<the application's JSON>}.
package wsotel
