package gorillaws_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/otlpd/otlpd/instrument/websocket/gorillaws"
	"github.com/otlpd/otlpd/instrument/websocket/internal/wstest"
)

// drain accepts connections (uninstrumented) and discards every message.
func drain(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	}))
	b.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// BenchmarkWrite sends 128-byte text messages over loopback: bare library, then instrumented with the message
// span sampled out (metrics only) and sampled in.
func BenchmarkWrite(b *testing.B) {
	msg := []byte(strings.Repeat("x", 128))
	ctx := context.Background()
	b.Run("uninstrumented", func(b *testing.B) {
		c, _, err := websocket.DefaultDialer.Dial(drain(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"sampled-out", "sampled-in"} {
		b.Run(name, func(b *testing.B) {
			in := wstest.BenchInstrumentations(b)[name]
			c, _, err := gorillaws.Dial(ctx, nil, drain(b), nil, in)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Unwrap().Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := c.WriteMessage(ctx, websocket.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
