// Package auth is otlpd's bearer-token authentication and TLS setup for its listeners.
//
// A Tokens set is loaded from the configuration (auth.tokens and auth.tokens_file). HTTP handlers are wrapped
// with Tokens.HTTP, and the OTLP/gRPC server checks the "authorization" metadata before reading a message
// (Tokens.GRPCTap). A missing or wrong token gets 401 (gRPC UNAUTHENTICATED) with no detail, so a client
// cannot tell a wrong token from a missing one. Tokens are compared in constant time, through their SHA-256
// digests, so neither their content nor their length leaks through timing.
package auth
