// Package apiclient calls otlpd's HTTP query APIs (the native API under /api/otlpd/ and the
// Prometheus-compatible API under /api/v1/) and turns their failures into errors fit to show a user in one line.
package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls one otlpd.
type Client struct {
	// BaseURL is the UI/API address: host:port or an http(s) URL.
	BaseURL string
	HTTP    *http.Client // nil: http.DefaultClient
	Headers map[string]string
	// MaxBody bounds a response body. 0 means 256 MiB.
	MaxBody int64
}

// StatusError is an answer other than 200: the server refused the request (4xx: a bad filter, an unknown
// trace) or failed (5xx).
type StatusError struct {
	Code int
	Msg  string // the server's error message
}

func (e *StatusError) Error() string { return e.Msg }

// Get fetches path with the query parameters q and returns the body of a 200 answer.
func (c *Client) Get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	base := c.BaseURL
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server address %q: want host:port or an http URL", c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach otlpd at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = 256 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s: %w", path, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("answer of %s exceeds %d bytes", path, limit)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: resp.StatusCode, Msg: errorMessage(resp.StatusCode, path, body)}
	}
	return body, nil
}

// errorMessage extracts the message of an error answer: {"error": "..."} (native API) or
// {"status":"error","error":"..."} (Prometheus API).
func errorMessage(code int, path string, body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	if code == http.StatusNotFound {
		return fmt.Sprintf("%s not found (is this an otlpd of this version?)", path)
	}
	msg := strings.TrimSpace(string(body))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if msg == "" {
		msg = http.StatusText(code)
	}
	return fmt.Sprintf("HTTP %d: %s", code, msg)
}
