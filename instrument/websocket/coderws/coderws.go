// Package coderws instruments github.com/coder/websocket connections with OpenTelemetry traces and metrics
// (see package wsotel for the telemetry produced). Use Accept and Dial in place of websocket.Accept and
// websocket.Dial, and the returned Conn's methods for messages.
package coderws

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

// Conn is an instrumented connection. Like websocket.Conn, it allows one concurrent reader and any number of
// concurrent writers.
type Conn struct {
	ws  *websocket.Conn
	tel *wsotel.Conn
}

// Accept upgrades a request like websocket.Accept and records the handshake and the connection. A rejected
// upgrade is recorded with the HTTP status the library wrote.
func Accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions, in *wsotel.Instrumentation) (*Conn, error) {
	hs := in.StartServerHandshake(r)
	rec := &wsotel.StatusRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(rec, r, opts)
	if err != nil {
		hs.Fail(rec.Status, err)
		return nil, err
	}
	return &Conn{ws: ws, tel: hs.Accepted(wsotel.PeerInfo{Subprotocol: ws.Subprotocol()})}, nil
}

// Dial connects like websocket.Dial, carrying the trace context in the upgrade request. opts may be nil; it
// is not modified.
func Dial(ctx context.Context, u string, opts *websocket.DialOptions, in *wsotel.Instrumentation) (*Conn, *http.Response, error) {
	var o websocket.DialOptions
	if opts != nil {
		o = *opts
	}
	o.HTTPHeader = o.HTTPHeader.Clone()
	if o.HTTPHeader == nil {
		o.HTTPHeader = http.Header{}
	}
	hctx, hs := in.StartClientHandshake(ctx, u, o.HTTPHeader)
	ws, resp, err := websocket.Dial(hctx, u, &o)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		hs.Fail(status, err)
		return nil, resp, err
	}
	return &Conn{ws: ws, tel: hs.Accepted(wsotel.PeerInfo{Subprotocol: ws.Subprotocol()})}, resp, nil
}

// Unwrap returns the underlying connection for settings such as SetReadLimit. Messages read or written on it
// directly are not recorded.
func (c *Conn) Unwrap() *websocket.Conn { return c.ws }

// Telemetry returns the connection's telemetry (its span and context).
func (c *Conn) Telemetry() *wsotel.Conn { return c.tel }

func msgType(t websocket.MessageType) wsotel.MessageType {
	if t == websocket.MessageBinary {
		return wsotel.Binary
	}
	return wsotel.Text
}

// Write sends a message in a ws.send span whose parent is ctx's span (or the connection's).
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	m := c.tel.Send(ctx, msgType(typ), len(p))
	err := c.ws.Write(ctx, typ, p)
	m.End(err)
	return err
}

// WriteEnvelope sends data (valid JSON) as a text message wrapped in an envelope that carries the ws.send
// span's trace context, so that the receiver's ReadEnvelope continues this trace.
func (c *Conn) WriteEnvelope(ctx context.Context, data []byte) error {
	// The envelope's size is known only after encoding, which needs the span: start with the payload size and
	// correct it.
	sctx, m := c.tel.StartSend(ctx, wsotel.Text, len(data))
	msg, err := c.tel.Instrumentation().EncodeEnvelope(sctx, data)
	if err != nil {
		m.Abort(err)
		return err
	}
	m.SetSize(len(msg))
	err = c.ws.Write(ctx, websocket.MessageText, msg)
	m.End(err)
	return err
}

// Read reads one message. The returned context holds the ws.receive span (or the connection's span when the
// message was sampled out). A read error ends the connection's telemetry with the close code seen.
func (c *Conn) Read(ctx context.Context) (context.Context, websocket.MessageType, []byte, error) {
	typ, p, start, err := c.read(ctx)
	if err != nil {
		return ctx, typ, nil, err
	}
	return c.tel.Received(ctx, start, msgType(typ), len(p), nil, nil), typ, p, nil
}

// ReadEnvelope reads one message written by WriteEnvelope and returns its data with a context that continues
// the sender's trace (and carries its baggage). A message that is not an envelope yields a *wsotel.EnvelopeError
// with the context still usable; the connection stays open.
func (c *Conn) ReadEnvelope(ctx context.Context) (context.Context, []byte, error) {
	typ, p, start, err := c.read(ctx)
	if err != nil {
		return ctx, nil, err
	}
	carrier, data, derr := wsotel.DecodeEnvelope(p)
	rctx := c.tel.Received(ctx, start, msgType(typ), len(p), carrier, derr)
	if derr != nil {
		return rctx, nil, derr
	}
	return rctx, data, nil
}

func (c *Conn) read(ctx context.Context) (websocket.MessageType, []byte, time.Time, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		c.ended(err)
		return typ, nil, time.Time{}, err
	}
	start := time.Now()
	p, err := io.ReadAll(r)
	if err != nil {
		c.ended(err)
		return typ, nil, start, err
	}
	return typ, p, start, nil
}

// ended ends the connection's telemetry after a read error.
func (c *Conn) ended(err error) {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		c.tel.End(int(ce.Code), ce.Reason, nil)
		return
	}
	c.tel.End(wsotel.CodeAbnormal, "", err)
}

// Ping sends a ping and waits for the pong, recording the round-trip time. As with websocket.Conn.Ping, a
// concurrent Read must be running for the pong to be seen.
func (c *Conn) Ping(ctx context.Context) error {
	start := time.Now()
	err := c.ws.Ping(ctx)
	c.tel.Ping(time.Since(start), err)
	return err
}

// Close performs the close handshake with code and reason and ends the connection's telemetry.
func (c *Conn) Close(code websocket.StatusCode, reason string) error {
	c.tel.LocalClose(int(code), reason)
	err := c.ws.Close(code, reason)
	c.tel.End(int(code), reason, err)
	return err
}

// CloseNow closes the connection without a close handshake.
func (c *Conn) CloseNow() error {
	c.tel.LocalClose(wsotel.CodeAbnormal, "")
	err := c.ws.CloseNow()
	c.tel.End(wsotel.CodeAbnormal, "", err)
	return err
}
