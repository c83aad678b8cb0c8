package coderws_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/otlpd/otlpd/instrument/websocket/coderws"
	"github.com/otlpd/otlpd/instrument/websocket/internal/wstest"
)

// drain accepts connections (uninstrumented) and discards every message.
func drain(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
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
		c, _, err := websocket.Dial(ctx, drain(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"sampled-out", "sampled-in"} {
		b.Run(name, func(b *testing.B) {
			in := wstest.BenchInstrumentations(b)[name]
			c, _, err := coderws.Dial(ctx, drain(b), nil, in)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
