package wsotel

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Close initiators, the values of ws.close.initiator.
const (
	InitiatorLocal = "local"
	InitiatorPeer  = "peer"
)

// CodeAbnormal is the RFC 6455 status recorded when a connection ended without a close frame.
const CodeAbnormal = 1006

// Handshake is an HTTP upgrade in progress. Exactly one of Accepted or Fail must be called.
type Handshake struct {
	in    *Instrumentation
	role  Role
	ctx   context.Context // holds the handshake span
	span  trace.Span
	conn  trace.Span // client: the ws.connection span, started before the handshake
	cctx  context.Context
	attrs []attribute.KeyValue // shared by the connection's message spans
}

// StartServerHandshake starts the server's ws.handshake span for an upgrade request. Its parent is the span
// already in r.Context() (e.g. from otelhttp middleware, which extracted the headers itself), or else the trace
// context in the request headers (the client's ws.handshake).
func (in *Instrumentation) StartServerHandshake(r *http.Request) *Handshake {
	ctx := r.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = in.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	u := ServerURL(r)
	common := urlAttrs(u)
	attrs := append(make([]attribute.KeyValue, 0, len(common)+8), common...)
	attrs = append(attrs,
		attrURLScheme.String(u.Scheme),
		attrURLPath.String(u.Path),
		attrHTTPMethod.String(r.Method),
		attrProtoName.String("http"),
		attrProtoVersion.String(strconv.Itoa(r.ProtoMajor)+"."+strconv.Itoa(r.ProtoMinor)),
	)
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, attrUserAgent.String(ua))
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, attrClientAddress.String(host), attrPeerAddress.String(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, attrPeerPort.Int(p))
		}
	}
	ctx, span := in.tracer.Start(ctx, "ws.handshake", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attrs...))
	return &Handshake{in: in, role: Server, ctx: ctx, span: span, attrs: common}
}

// StartClientHandshake starts the client's ws.connection span and, inside it, the ws.handshake span for
// dialing rawURL, and injects the handshake's trace context into h (which must be non-nil and owned by the
// caller). ctx's span, if any, becomes the connection's parent. The returned context holds the handshake span.
func (in *Instrumentation) StartClientHandshake(ctx context.Context, rawURL string, h http.Header) (context.Context, *Handshake) {
	u := ClientURL(rawURL)
	common := urlAttrs(u)
	cctx, conn := in.tracer.Start(ctx, "ws.connection", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(common...), trace.WithAttributes(attrURLFull.String(u.String())))
	attrs := append(make([]attribute.KeyValue, 0, len(common)+5), common...)
	attrs = append(attrs,
		attrURLFull.String(u.String()),
		attrHTTPMethod.String(http.MethodGet),
		attrProtoName.String("http"),
		attrProtoVersion.String("1.1"),
	)
	hctx, span := in.tracer.Start(cctx, "ws.handshake", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	in.prop.Inject(hctx, propagation.HeaderCarrier(h))
	return hctx, &Handshake{in: in, role: Client, ctx: hctx, span: span, conn: conn, cctx: cctx, attrs: common}
}

// Fail ends a handshake that did not produce a connection. status is the HTTP status seen (0 if none).
func (h *Handshake) Fail(status int, err error) {
	if status > 0 {
		h.span.SetAttributes(attrHTTPStatus.Int(status))
	}
	typ := errorType(status, err)
	h.span.SetAttributes(attrErrorType.String(typ))
	if err != nil {
		h.span.RecordError(err)
	}
	h.span.SetStatus(codes.Error, statusText(status, err))
	h.span.End()
	if h.conn != nil {
		h.conn.SetAttributes(attrErrorType.String(typ))
		if err != nil {
			h.conn.RecordError(err)
		}
		h.conn.SetStatus(codes.Error, "handshake failed")
		h.conn.End()
	}
}

// PeerInfo describes an established connection.
type PeerInfo struct {
	Subprotocol string
	RemoteAddr  net.Addr // may be nil
}

// Accepted ends a successful handshake (status 101) and returns the live connection's telemetry. On the
// server it starts ws.connection as a child of the handshake. ctx's values (not its span) are kept in
// Conn.Context.
func (h *Handshake) Accepted(info PeerInfo) *Conn {
	h.span.SetAttributes(attrHTTPStatus.Int(http.StatusSwitchingProtocols))
	extra := make([]attribute.KeyValue, 0, 6)
	extra = append(extra, attrProtoName.String("websocket"), attrTransport.String("tcp"))
	if info.Subprotocol != "" {
		extra = append(extra, AttrSubprotocol.String(info.Subprotocol))
		h.span.SetAttributes(AttrSubprotocol.String(info.Subprotocol))
	}
	if h.role == Client && info.RemoteAddr != nil {
		if host, port, err := net.SplitHostPort(info.RemoteAddr.String()); err == nil {
			extra = append(extra, attrPeerAddress.String(host))
			if p, err := strconv.Atoi(port); err == nil {
				extra = append(extra, attrPeerPort.Int(p))
			}
		}
	}
	h.span.End()

	c := &Conn{in: h.in, role: h.role, opened: time.Now(), msgAttrs: h.attrs}
	if h.role == Server {
		c.ctx, c.span = h.in.tracer.Start(h.ctx, "ws.connection", trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(h.attrs...), trace.WithAttributes(extra...))
	} else {
		c.ctx, c.span = h.cctx, h.conn
		c.span.SetAttributes(extra...)
	}
	c.sc = c.span.SpanContext()
	h.in.active.Add(context.Background(), 1, h.in.roles[c.role].roleAdd...)
	return c
}

// Conn is the telemetry of one open connection. Its methods are safe for concurrent use.
type Conn struct {
	in       *Instrumentation
	role     Role
	ctx      context.Context // holds the ws.connection span
	span     trace.Span
	sc       trace.SpanContext
	opened   time.Time
	msgAttrs []attribute.KeyValue

	mu          sync.Mutex
	ended       bool
	localClose  bool
	localCode   int
	localReason string
}

// Context returns a context holding the ws.connection span.
func (c *Conn) Context() context.Context { return c.ctx }

// Span returns the ws.connection span.
func (c *Conn) Span() trace.Span { return c.span }

// Message is a ws.send in progress; a zero Message (sampled out) is valid. End it once.
type Message struct {
	c    *Conn
	span trace.Span
	typ  MessageType
	size int
}

// Send starts a ws.send for a message whose trace context is not needed afterwards (no envelope): like
// StartSend, but a sampled-out message costs no context allocation.
func (c *Conn) Send(ctx context.Context, typ MessageType, size int) Message {
	if !c.in.sampleMessage() {
		return Message{c: c, typ: typ, size: size}
	}
	_, m := c.startSendSpan(ctx, typ, size)
	return m
}

// StartSend starts a ws.send span for a message of size bytes. Its parent is ctx's span, or the connection's
// span when ctx has none; the returned context holds the new span (or that parent when the message is sampled
// out), ready for injecting into an envelope.
func (c *Conn) StartSend(ctx context.Context, typ MessageType, size int) (context.Context, Message) {
	if !c.in.sampleMessage() {
		if !trace.SpanContextFromContext(ctx).IsValid() {
			ctx = trace.ContextWithSpan(ctx, c.span)
		}
		return ctx, Message{c: c, typ: typ, size: size}
	}
	return c.startSendSpan(ctx, typ, size)
}

func (c *Conn) startSendSpan(ctx context.Context, typ MessageType, size int) (context.Context, Message) {
	parent := trace.SpanContextFromContext(ctx)
	if !parent.IsValid() {
		ctx = trace.ContextWithSpan(ctx, c.span)
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(c.msgAttrs...),
		trace.WithAttributes(AttrMessageType.String(typ.String()), AttrMessageSize.Int(size)),
	}
	if parent.IsValid() && !parent.Equal(c.sc) {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: c.sc}))
	}
	ctx, span := c.in.tracer.Start(ctx, "ws.send", opts...)
	return ctx, Message{c: c, span: span, typ: typ, size: size}
}

// End records the message in the metrics and ends its span; err is the write error, if any. A write error
// ends the connection too: both supported libraries treat a failed write as fatal.
func (m Message) End(err error) {
	ro := &m.c.in.roles[m.c.role]
	if err == nil {
		bg := context.Background()
		m.c.in.sent.Add(bg, 1, ro.sent[m.typ]...)
		m.c.in.size.Record(bg, int64(m.size), ro.sizeOut[m.typ]...)
	}
	if m.span != nil {
		if err != nil {
			m.span.RecordError(err)
			m.span.SetStatus(codes.Error, err.Error())
			m.span.SetAttributes(attrErrorType.String(errorType(0, err)))
		}
		m.span.End()
	}
	if err != nil {
		m.c.End(CodeAbnormal, "", err)
	}
}

// Received records a message that arrived: start is when its first frame header was read. carrier, when
// non-nil, is the trace context from the message's envelope. decodeErr (e.g. a malformed envelope) is
// recorded on the span without ending the connection. The returned context carries the ws.receive span
// (or its parent when sampled out) and any extracted baggage; use it for work done on the message's behalf.
func (c *Conn) Received(ctx context.Context, start time.Time, typ MessageType, size int, carrier propagation.TextMapCarrier, decodeErr error) context.Context {
	ro := &c.in.roles[c.role]
	bg := context.Background()
	c.in.received.Add(bg, 1, ro.received[typ]...)
	c.in.size.Record(bg, int64(size), ro.sizeIn[typ]...)

	ctx = trace.ContextWithSpan(ctx, c.span)
	remote := false
	if carrier != nil {
		ctx = c.in.prop.Extract(ctx, carrier)
		remote = trace.SpanContextFromContext(ctx).IsRemote()
		if !remote {
			ctx = trace.ContextWithSpan(ctx, c.span)
		}
	}
	if c.in.noMsgs || (!remote && !c.in.sampleMessage()) {
		return ctx
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(start),
		trace.WithAttributes(c.msgAttrs...),
		trace.WithAttributes(AttrMessageType.String(typ.String()), AttrMessageSize.Int(size)),
	}
	if remote {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: c.sc}))
	}
	ctx, span := c.in.tracer.Start(ctx, "ws.receive", opts...)
	if decodeErr != nil {
		span.RecordError(decodeErr)
		span.SetStatus(codes.Error, decodeErr.Error())
		span.SetAttributes(attrErrorType.String(errorType(0, decodeErr)))
	}
	span.End()
	return ctx
}

// Ping records a ping's round-trip time; a failed ping (err != nil) is recorded on the connection span as an
// event and not in the histogram.
func (c *Conn) Ping(rtt time.Duration, err error) {
	if err != nil {
		c.span.AddEvent("ws.ping.failed", trace.WithAttributes(attrErrorType.String(errorType(0, err))))
		return
	}
	c.in.pingRTT.Record(context.Background(), rtt.Seconds(), c.in.roles[c.role].roleRec...)
}

// LocalClose notes that this side is closing with code and reason, so the connection's end is attributed to
// it even when the peer's echoed close frame is seen first. The first call wins.
func (c *Conn) LocalClose(code int, reason string) {
	c.mu.Lock()
	if !c.localClose {
		c.localClose, c.localCode, c.localReason = true, code, reason
	}
	c.mu.Unlock()
}

// End ends the connection's telemetry; only the first call counts. code and reason come from the close frame
// (code 0 or CodeAbnormal when there was none); err is the error that ended the connection, if it was not a
// clean close. After LocalClose, the local code and reason are recorded and err is ignored unless the close
// itself failed before a frame was sent (code 0).
func (c *Conn) End(code int, reason string, err error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	initiator := InitiatorPeer
	if c.localClose {
		initiator, code, reason = InitiatorLocal, c.localCode, c.localReason
		err = nil
	} else if code <= 0 {
		code, initiator = CodeAbnormal, ""
	}
	c.mu.Unlock()

	attrs := []attribute.KeyValue{AttrCloseCode.Int(code)}
	if reason != "" {
		attrs = append(attrs, AttrCloseReason.String(reason))
	}
	if initiator != "" {
		attrs = append(attrs, AttrCloseInitiator.String(initiator))
	}
	c.span.SetAttributes(attrs...)
	switch {
	case err != nil:
		c.span.RecordError(err)
		c.span.SetAttributes(attrErrorType.String(errorType(0, err)))
		c.span.SetStatus(codes.Error, err.Error())
	case closeIsError(code):
		c.span.SetAttributes(attrErrorType.String(strconv.Itoa(code)))
		c.span.SetStatus(codes.Error, "close "+strconv.Itoa(code)+" "+reason)
	}
	c.span.End()
	ro := &c.in.roles[c.role]
	c.in.active.Add(context.Background(), -1, ro.roleAdd...)
	c.in.connDur.Record(context.Background(), time.Since(c.opened).Seconds(), ro.roleRec...)
}

// closeIsError reports whether a close status means failure: the RFC 6455 protocol and server error codes.
// Normal closure (1000), going away (1001), no status (1005) and application codes (3000-4999) are not errors.
func closeIsError(code int) bool {
	return code >= 1002 && code <= 1015 && code != 1005
}

// ServerURL reconstructs the ws:// or wss:// URL a request was made to, without query or userinfo.
func ServerURL(r *http.Request) *url.URL {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}
}

// ClientURL normalizes a dial URL for attributes: http(s) becomes ws(s); userinfo, query and fragment are
// dropped because they commonly carry credentials. An unparsable URL yields an empty URL.
func ClientURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		return &url.URL{}
	}
	out := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	switch out.Scheme {
	case "http":
		out.Scheme = "ws"
	case "https":
		out.Scheme = "wss"
	}
	return out
}

// urlAttrs are the attributes every span of a connection carries.
func urlAttrs(u *url.URL) []attribute.KeyValue {
	attrs := []attribute.KeyValue{AttrURL.String(u.String())}
	host, port := u.Hostname(), u.Port()
	if host != "" {
		attrs = append(attrs, attrServerAddress.String(host))
	}
	if port == "" {
		switch u.Scheme {
		case "ws":
			port = "80"
		case "wss":
			port = "443"
		}
	}
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, attrServerPort.Int(p))
	}
	return attrs
}

// errorType is the error.type value: the HTTP status for handshake failures, else a short class.
func errorType(status int, err error) string {
	switch {
	case status >= 400:
		return strconv.Itoa(status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var ee *EnvelopeError
	if errors.As(err, &ee) {
		return "envelope"
	}
	return "_OTHER"
}

func statusText(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return http.StatusText(status)
}

// Instrumentation returns the Instrumentation the connection belongs to.
func (c *Conn) Instrumentation() *Instrumentation { return c.in }

// SetSize corrects the message size when it is known only after the span started (e.g. an envelope).
func (m *Message) SetSize(n int) {
	m.size = n
	if m.span != nil {
		m.span.SetAttributes(AttrMessageSize.Int(n))
	}
}

// Abort ends a message that was never written (e.g. it could not be encoded): its span records err, the
// metrics do not count it and the connection stays open.
func (m Message) Abort(err error) {
	if m.span == nil {
		return
	}
	m.span.RecordError(err)
	m.span.SetStatus(codes.Error, err.Error())
	m.span.SetAttributes(attrErrorType.String(errorType(0, err)))
	m.span.End()
}
