package tail

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client reads the live stream of a running otlpd.
type Client struct {
	// BaseURL is the otlpd UI/API address, e.g. http://127.0.0.1:4320.
	BaseURL string
	// HTTP is the client to use; nil means a client with no overall timeout.
	HTTP *http.Client
	// Headers are added to each request (e.g. Authorization).
	Headers map[string]string
	// Silence is how long the stream may stay silent (the server sends heartbeats) before the client treats
	// the connection as broken. 0 means 20 s.
	Silence time.Duration
}

// StatusError is a refusal from the server (a bad filter, an unknown signal): retrying will not help.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return e.Msg }

// Query is what to stream.
type Query struct {
	Signals string // comma-separated, e.g. "spans,logs"
	Service string
	Filter  string
}

func (c *Client) url(q Query) (string, error) {
	base := c.BaseURL
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("server address %q: want host:port or an http URL", c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + Path
	v := url.Values{}
	if q.Signals != "" {
		v.Set("signal", q.Signals)
	}
	if q.Service != "" {
		v.Set("service", q.Service)
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// Stream makes one connection and calls fn for each item, heartbeats included, until ctx ends (nil), the
// server refuses the query (*StatusError) or the connection breaks (another error). connected, if not nil,
// is called once the server has accepted the query.
func (c *Client) Stream(ctx context.Context, q Query, connected func(), fn func(Item)) error {
	u, err := c.url(q)
	if err != nil {
		return err
	}
	silence := c.Silence
	if silence <= 0 {
		silence = 20 * time.Second
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil && context.Cause(ctx) == ctx.Err() {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if msg == "" {
			msg = resp.Status
		}
		return &StatusError{Code: resp.StatusCode, Msg: msg}
	}
	if connected != nil {
		connected()
	}
	errSilent := errors.New("stream silent for too long")
	watchdog := time.AfterFunc(silence, func() { cancel(errSilent) })
	defer watchdog.Stop()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		watchdog.Reset(silence)
		it, err := decodeLine(sc.Bytes())
		if err != nil {
			return err
		}
		fn(it)
	}
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, errSilent) {
			return errSilent
		}
		return nil // ctx ended: the caller stopped
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF // the server closed the stream (shutdown or restart)
}

// FollowOptions configures Follow.
type FollowOptions struct {
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts. 0 means 250 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// OnDisconnect is called when an established stream breaks; OnReconnect when it is back.
	OnDisconnect func(err error)
	OnReconnect  func()
}

// Follow streams like Stream and reconnects with exponential backoff when an established stream breaks, so
// that a server restart only pauses it. The first connection must succeed: if it cannot, Follow returns the
// error (the server is unreachable or refused the query). It returns nil when ctx ends.
func (c *Client) Follow(ctx context.Context, q Query, opts FollowOptions, fn func(Item)) error {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	everConnected, down := false, false
	backoff := opts.MinBackoff
	for {
		connected := func() {
			everConnected = true
			backoff = opts.MinBackoff
			if down {
				down = false
				if opts.OnReconnect != nil {
					opts.OnReconnect()
				}
			}
		}
		err := c.Stream(ctx, q, connected, fn)
		if ctx.Err() != nil {
			return nil
		}
		var se *StatusError
		if errors.As(err, &se) || !everConnected {
			return err
		}
		if !down {
			down = true
			if opts.OnDisconnect != nil {
				opts.OnDisconnect(err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, opts.MaxBackoff)
	}
}

// decodeLine decodes one line of the stream.
func decodeLine(b []byte) (Item, error) {
	var it Item
	if err := json.Unmarshal(b, &it); err != nil {
		return Item{}, fmt.Errorf("decode stream line: %w", err)
	}
	return it, nil
}
