package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/otlpd/otlpd/internal/tail"
)

const tailUsage = `Print spans and logs (and metric points on request) live as a running otlpd receives them, one line each,
filtered by service or with the filter language (docs/filter.md). Reconnects when the server restarts; Ctrl-C
stops it.

Examples:
  otlpd tail
  otlpd tail --service checkout --signal spans
  otlpd tail --filter 'duration > 250ms or status = error'
  otlpd tail --signal logs --filter 'severity >= warn' --output json | jq .body
  otlpd tail --signal metrics --service cart`

// tailFlags are the flags shared by both modes of tail.
type tailFlags struct {
	server, signals, service, filter, output, color string
	maxWidth                                        int
}

func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", tailUsage, stdout)
	var f tailFlags
	fs.StringVar(&f.server, "server", "127.0.0.1:4320", "UI/API address of the running otlpd")
	fs.StringVar(&f.signals, "signal", "spans,logs", "comma-separated: spans, logs, metrics")
	fs.StringVar(&f.service, "service", "", "only items of this service.name")
	fs.StringVar(&f.filter, "filter", "", "filter expression, e.g. 'service.name = \"cart\" and duration > 100ms'")
	fs.StringVar(&f.output, "output", "text", "text (one line per item) or json (one JSON object per line)")
	fs.StringVar(&f.color, "color", "auto", "auto (when stdout is a terminal), always or never")
	fs.IntVar(&f.maxWidth, "max-width", 0, "truncate text lines to this many characters (0: no limit)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := tail.ParseSignals(f.signals); err != nil {
		return usageError{err}
	}
	write, err := f.writer(stdout)
	if err != nil {
		return err
	}
	c := &tail.Client{BaseURL: f.server}
	q := tail.Query{Signals: f.signals, Service: f.service, Filter: f.filter}
	var (
		werr        error
		lastDropped int64
	)
	err = c.Follow(ctx, q, tail.FollowOptions{
		OnDisconnect: func(err error) { fmt.Fprintf(stderr, "otlpd tail: lost the stream (%v); reconnecting\n", err) },
		OnReconnect:  func() { fmt.Fprintln(stderr, "otlpd tail: reconnected") },
	}, func(it tail.Item) {
		if werr != nil {
			return
		}
		if it.Signal == tail.KindHeartbeat && it.Dropped > lastDropped {
			fmt.Fprintf(stderr, "otlpd tail: %d items dropped so far (this terminal is slower than the stream)\n", it.Dropped)
			lastDropped = it.Dropped
		}
		werr = write(it)
	})
	var se *tail.StatusError
	switch {
	case errors.As(err, &se) && se.Code/100 == 4:
		return usageError{fmt.Errorf("%s refused the query: %s", f.server, se.Msg)}
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is noise; the server address is in the message already
		}
		return fmt.Errorf("cannot stream from %s: %w", f.server, err)
	}
	return werr
}

// writer returns the function that prints one item in the chosen output format.
func (f *tailFlags) writer(stdout io.Writer) (func(tail.Item) error, error) {
	switch f.output {
	case "json":
		return func(it tail.Item) error { return tail.WriteJSON(stdout, it) }, nil
	case "text":
	default:
		return nil, usageError{fmt.Errorf("--output %q: want text or json", f.output)}
	}
	var color bool
	switch f.color {
	case "auto":
		_, noColor := os.LookupEnv("NO_COLOR")
		color = isTerminal(stdout) && !noColor
	case "always":
		color = true
	case "never":
	default:
		return nil, usageError{fmt.Errorf("--color %q: want auto, always or never", f.color)}
	}
	if f.maxWidth < 0 {
		return nil, usageError{fmt.Errorf("--max-width %d: want 0 or more", f.maxWidth)}
	}
	fm := &tail.Formatter{Color: color, MaxWidth: f.maxWidth, Location: time.Local}
	return func(it tail.Item) error { return fm.Write(stdout, it) }, nil
}
