package wsotel_test

import (
	"net/http/httptest"
	"testing"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

func TestURLs(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		if got := wsotel.ClientURL(raw).String(); got != want {
			t.Errorf("ClientURL(%q) = %q, want %q", raw, got, want)
		}
	}
	f("ws://example.com/chat", "ws://example.com/chat")
	f("https://user:secret@example.com:8443/c?token=abc#x", "wss://example.com:8443/c")
	f("http://[::1]:80/", "ws://[::1]:80/")
	f("::bad", "")

	r := httptest.NewRequest("GET", "http://chat.example:9000/room/1?token=abc", nil)
	if got := wsotel.ServerURL(r).String(); got != "ws://chat.example:9000/room/1" {
		t.Errorf("ServerURL = %q", got)
	}
}

func TestNewRejectsBadRatio(t *testing.T) {
	for _, r := range []float64{-0.1, 1.5} {
		if _, err := wsotel.New(wsotel.Options{MessageSampleRatio: r}); err == nil {
			t.Errorf("New with MessageSampleRatio %v succeeded", r)
		}
	}
}
