// Package gorillaws instruments github.com/gorilla/websocket connections with OpenTelemetry traces and
// metrics (see package wsotel for the telemetry produced). Use Upgrade and Dial in place of
// Upgrader.Upgrade and Dialer.DialContext, and the returned Conn's methods for messages.
package gorillaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

// closeWriteTimeout bounds writing the close frame in Close.
const closeWriteTimeout = 5 * time.Second

// Conn is an instrumented connection. Concurrency rules are gorilla's: one concurrent reader and one
// concurrent writer; Ping and Close may be called concurrently with both.
type Conn struct {
	ws  *websocket.Conn
	tel *wsotel.Conn

	pingSeq atomic.Uint64
	mu      sync.Mutex
	pings   map[string]chan struct{} // outstanding pings by payload
}

// Upgrade upgrades a request like u.Upgrade and records the handshake and the connection. u must not be nil;
// a rejected upgrade is recorded with the HTTP status gorilla wrote.
func Upgrade(w http.ResponseWriter, r *http.Request, u *websocket.Upgrader, respHeader http.Header, in *wsotel.Instrumentation) (*Conn, error) {
	hs := in.StartServerHandshake(r)
	rec := &wsotel.StatusRecorder{ResponseWriter: w}
	ws, err := u.Upgrade(rec, r, respHeader)
	if err != nil {
		hs.Fail(rec.Status, err)
		return nil, err
	}
	return wrap(ws, hs), nil
}

// Dial connects like d.DialContext (d nil means websocket.DefaultDialer), carrying the trace context in the
// upgrade request. requestHeader is not modified.
func Dial(ctx context.Context, d *websocket.Dialer, u string, requestHeader http.Header, in *wsotel.Instrumentation) (*Conn, *http.Response, error) {
	if d == nil {
		d = websocket.DefaultDialer
	}
	h := requestHeader.Clone()
	if h == nil {
		h = http.Header{}
	}
	hctx, hs := in.StartClientHandshake(ctx, u, h)
	ws, resp, err := d.DialContext(hctx, u, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		hs.Fail(status, err)
		return nil, resp, err
	}
	return wrap(ws, hs), resp, nil
}

func wrap(ws *websocket.Conn, hs *wsotel.Handshake) *Conn {
	c := &Conn{
		ws:    ws,
		tel:   hs.Accepted(wsotel.PeerInfo{Subprotocol: ws.Subprotocol(), RemoteAddr: ws.RemoteAddr()}),
		pings: make(map[string]chan struct{}),
	}
	ws.SetPongHandler(c.pong)
	return c
}

// Unwrap returns the underlying connection for settings such as SetReadLimit. Messages read or written on it
// directly are not recorded; replacing its pong handler breaks Ping.
func (c *Conn) Unwrap() *websocket.Conn { return c.ws }

// Telemetry returns the connection's telemetry (its span and context).
func (c *Conn) Telemetry() *wsotel.Conn { return c.tel }

func msgType(t int) wsotel.MessageType {
	if t == websocket.BinaryMessage {
		return wsotel.Binary
	}
	return wsotel.Text
}

// WriteMessage sends a message (websocket.TextMessage or BinaryMessage) in a ws.send span whose parent is
// ctx's span (or the connection's). ctx's deadline, if any, becomes the write deadline.
func (c *Conn) WriteMessage(ctx context.Context, typ int, data []byte) error {
	m := c.tel.Send(ctx, msgType(typ), len(data))
	err := c.write(ctx, typ, data)
	m.End(err)
	return err
}

func (c *Conn) write(ctx context.Context, typ int, data []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		if err := c.ws.SetWriteDeadline(dl); err != nil {
			return err
		}
		defer c.ws.SetWriteDeadline(time.Time{})
	}
	return c.ws.WriteMessage(typ, data)
}

// WriteEnvelope sends data (valid JSON) as a text message wrapped in an envelope that carries the ws.send
// span's trace context, so that the receiver's ReadEnvelope continues this trace.
func (c *Conn) WriteEnvelope(ctx context.Context, data []byte) error {
	sctx, m := c.tel.StartSend(ctx, wsotel.Text, len(data))
	msg, err := c.tel.Instrumentation().EncodeEnvelope(sctx, data)
	if err != nil {
		m.Abort(err)
		return err
	}
	m.SetSize(len(msg))
	err = c.write(ctx, websocket.TextMessage, msg)
	m.End(err)
	return err
}

// ReadMessage reads one message. The returned context holds the ws.receive span (or the connection's span
// when the message was sampled out). A read error ends the connection's telemetry with the close code seen.
// ctx is used for its values only: gorilla reads are bounded by SetReadDeadline on Unwrap().
func (c *Conn) ReadMessage(ctx context.Context) (context.Context, int, []byte, error) {
	typ, p, start, err := c.read()
	if err != nil {
		return ctx, typ, nil, err
	}
	return c.tel.Received(ctx, start, msgType(typ), len(p), nil, nil), typ, p, nil
}

// ReadEnvelope reads one message written by WriteEnvelope and returns its data with a context that continues
// the sender's trace (and carries its baggage). A message that is not an envelope yields a
// *wsotel.EnvelopeError with the context still usable; the connection stays open.
func (c *Conn) ReadEnvelope(ctx context.Context) (context.Context, []byte, error) {
	typ, p, start, err := c.read()
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

func (c *Conn) read() (int, []byte, time.Time, error) {
	typ, r, err := c.ws.NextReader()
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

func (c *Conn) ended(err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		c.tel.End(ce.Code, ce.Text, nil)
		return
	}
	c.tel.End(wsotel.CodeAbnormal, "", err)
}

// Ping sends a ping and waits for its pong until ctx is done, recording the round-trip time. A concurrent
// ReadMessage/ReadEnvelope must be running: gorilla handles pongs while reading.
func (c *Conn) Ping(ctx context.Context) error {
	payload := "otlpd-" + strconv.FormatUint(c.pingSeq.Add(1), 10)
	ch := make(chan struct{})
	c.mu.Lock()
	c.pings[payload] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pings, payload)
		c.mu.Unlock()
	}()
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(closeWriteTimeout)
	}
	start := time.Now()
	if err := c.ws.WriteControl(websocket.PingMessage, []byte(payload), dl); err != nil {
		err = fmt.Errorf("ws ping: %w", err)
		c.tel.Ping(0, err)
		return err
	}
	select {
	case <-ch:
		c.tel.Ping(time.Since(start), nil)
		return nil
	case <-ctx.Done():
		err := fmt.Errorf("ws ping: waiting for pong: %w", ctx.Err())
		c.tel.Ping(0, err)
		return err
	}
}

func (c *Conn) pong(appData string) error {
	c.mu.Lock()
	ch, ok := c.pings[appData]
	if ok {
		delete(c.pings, appData)
	}
	c.mu.Unlock()
	if ok {
		close(ch)
	}
	return nil
}

// Close sends a close frame with code and reason, closes the network connection and ends the connection's
// telemetry. A concurrent reader sees the connection closed.
func (c *Conn) Close(code int, reason string) error {
	c.tel.LocalClose(code, reason)
	werr := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
		time.Now().Add(closeWriteTimeout))
	cerr := c.ws.Close()
	c.tel.End(code, reason, nil)
	if werr != nil && !errors.Is(werr, websocket.ErrCloseSent) {
		return fmt.Errorf("ws close: %w", werr)
	}
	return cerr
}
