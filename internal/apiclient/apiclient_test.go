package apiclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(`{"q":"` + r.URL.Query().Get("q") + `"}`))
		case "/native":
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"filter: 1:3: expected a value"}`))
		case "/prom":
			w.WriteHeader(422)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"execution","error":"query timed out"}`))
		case "/plain":
			w.WriteHeader(502)
			_, _ = w.Write([]byte("bad gateway\nmore"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: strings.TrimPrefix(srv.URL, "http://")}
	body, err := c.Get(context.Background(), "/ok", url.Values{"q": {"a b"}})
	if err != nil || string(body) != `{"q":"a b"}` {
		t.Fatalf("ok: %s %v", body, err)
	}
	f := func(path string, code int, msg string) {
		t.Helper()
		_, err := c.Get(context.Background(), path, nil)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != code || se.Msg != msg {
			t.Errorf("%s: %v, want %d %q", path, err, code, msg)
		}
	}
	f("/native", 400, "filter: 1:3: expected a value")
	f("/prom", 422, "query timed out")
	f("/plain", 502, "HTTP 502: bad gateway")
	f("/missing", 404, "/missing not found (is this an otlpd of this version?)")

	small := &Client{BaseURL: srv.URL, MaxBody: 4}
	if _, err := small.Get(context.Background(), "/ok", nil); err == nil || !strings.Contains(err.Error(), "exceeds 4 bytes") {
		t.Errorf("body limit: %v", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if _, err := (&Client{BaseURL: addr}).Get(context.Background(), "/ok", nil); err == nil ||
		!strings.HasPrefix(err.Error(), "cannot reach otlpd at "+addr+": dial tcp") {
		t.Errorf("unreachable: %v", err)
	}
	if _, err := (&Client{BaseURL: "http://"}).Get(context.Background(), "/ok", nil); err == nil {
		t.Error("empty host accepted")
	}
}
