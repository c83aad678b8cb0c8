package gorillaws_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/otlpd/otlpd/instrument/websocket/gorillaws"
	"github.com/otlpd/otlpd/instrument/websocket/internal/wstest"
	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

type conn struct{ *gorillaws.Conn }

func (c conn) Write(ctx context.Context, binary bool, p []byte) error {
	typ := websocket.TextMessage
	if binary {
		typ = websocket.BinaryMessage
	}
	return c.Conn.WriteMessage(ctx, typ, p)
}

func (c conn) Read(ctx context.Context) (context.Context, bool, []byte, error) {
	rctx, typ, p, err := c.Conn.ReadMessage(ctx)
	return rctx, typ == websocket.BinaryMessage, p, err
}

var upgrader = &websocket.Upgrader{}

var driver = wstest.Driver{
	Upgrade: func(w http.ResponseWriter, r *http.Request, in *wsotel.Instrumentation) (wstest.Conn, error) {
		c, err := gorillaws.Upgrade(w, r, upgrader, nil, in)
		if err != nil {
			return nil, err
		}
		return conn{c}, nil
	},
	Dial: func(ctx context.Context, url string, in *wsotel.Instrumentation) (wstest.Conn, *http.Response, error) {
		c, resp, err := gorillaws.Dial(ctx, nil, url, nil, in)
		if err != nil {
			return nil, resp, err
		}
		return conn{c}, resp, nil
	},
}

func TestGorillaWebSocket(t *testing.T) { wstest.Run(t, driver) }
