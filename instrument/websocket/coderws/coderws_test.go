package coderws_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"github.com/otlpd/otlpd/instrument/websocket/coderws"
	"github.com/otlpd/otlpd/instrument/websocket/internal/wstest"
	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

type conn struct{ *coderws.Conn }

func (c conn) Write(ctx context.Context, binary bool, p []byte) error {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return c.Conn.Write(ctx, typ, p)
}

func (c conn) Read(ctx context.Context) (context.Context, bool, []byte, error) {
	rctx, typ, p, err := c.Conn.Read(ctx)
	return rctx, typ == websocket.MessageBinary, p, err
}

func (c conn) Close(code int, reason string) error {
	return c.Conn.Close(websocket.StatusCode(code), reason)
}

var driver = wstest.Driver{
	Upgrade: func(w http.ResponseWriter, r *http.Request, in *wsotel.Instrumentation) (wstest.Conn, error) {
		c, err := coderws.Accept(w, r, nil, in)
		if err != nil {
			return nil, err
		}
		return conn{c}, nil
	},
	Dial: func(ctx context.Context, url string, in *wsotel.Instrumentation) (wstest.Conn, *http.Response, error) {
		c, resp, err := coderws.Dial(ctx, url, nil, in)
		if err != nil {
			return nil, resp, err
		}
		return conn{c}, resp, nil
	},
}

func TestCoderWebSocket(t *testing.T) { wstest.Run(t, driver) }
