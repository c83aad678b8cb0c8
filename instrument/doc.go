// Package instrument holds no code: its subdirectories are separate Go modules that applications import
// (instrument/websocket), kept apart so that importing them does not pull in otlpd's server dependencies.
// The test in this directory runs their tests, so that `go test ./...` at the repository root covers them.
package instrument
