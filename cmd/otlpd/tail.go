package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/ingest/otlp"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/query/filter"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/tail"
)

const tailUsage = `Print spans and logs (and metric points on request) live as a running otlpd receives them, one line each,
filtered by service or with the filter language (docs/filter.md). Reconnects when the server restarts; Ctrl-C
stops it. With --listen, tail is itself an OTLP receiver (on --grpc-addr and --http-addr) that stores nothing
and prints what arrives: point an application at it to see its telemetry with no backend at all.

Examples:
  otlpd tail
  otlpd tail --listen
  otlpd tail --listen --grpc-addr 127.0.0.1:14317 --http-addr 127.0.0.1:14318 --signal spans,logs,metrics
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
	token := tokenFlag(fs)
	fs.StringVar(&f.signals, "signal", "spans,logs", "comma-separated: spans, logs, metrics")
	fs.StringVar(&f.service, "service", "", "only items of this service.name")
	fs.StringVar(&f.filter, "filter", "", "filter expression, e.g. 'service.name = \"cart\" and duration > 100ms'")
	fs.StringVar(&f.output, "output", "text", "text (one line per item) or json (one JSON object per line)")
	fs.StringVar(&f.color, "color", "auto", "auto (when stdout is a terminal), always or never")
	fs.IntVar(&f.maxWidth, "max-width", 0, "truncate text lines to this many characters (0: no limit)")
	def := config.Default()
	listen := fs.Bool("listen", false, "be a standalone OTLP receiver that prints what arrives, instead of following a server")
	grpcAddr := fs.String("grpc-addr", def.GRPCAddr, "with --listen: OTLP/gRPC listen address")
	httpAddr := fs.String("http-addr", def.HTTPAddr, "with --listen: OTLP/HTTP listen address")
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
	if *listen {
		return tailListen(ctx, &f, *grpcAddr, *httpAddr, write, stderr)
	}
	c := &tail.Client{BaseURL: f.server, Headers: authHeaders(*token)}
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

// compileTailFilter compiles a filter expression for the signals asked for. A filter that names fields of one
// signal only (severity, body; duration, kind) selects that signal: for the other it matches nothing, so
// `--filter 'severity >= warn'` shows warning logs and no spans. It fails only when it fits none of them.
func compileTailFilter(expr string, sig tail.Signals) (storage.SpanMatcher, storage.LogMatcher, error) {
	if sig&(tail.Spans|tail.Logs) == 0 {
		return nil, nil, errors.New("a filter selects spans and logs; for metrics use service")
	}
	e, err := filter.Parse(expr)
	if err != nil {
		return nil, nil, err
	}
	var (
		sm       storage.SpanMatcher = matchNone{}
		lm       storage.LogMatcher  = matchNone{}
		firstErr error
		compiled bool
	)
	if sig&tail.Spans != 0 {
		if f, err := e.Spans(); err != nil {
			firstErr = err
		} else {
			sm, compiled = f, true
		}
	}
	if sig&tail.Logs != 0 {
		if f, err := e.Logs(); err != nil {
			firstErr = cmp.Or(firstErr, err)
		} else {
			lm, compiled = f, true
		}
	}
	if !compiled {
		return nil, nil, firstErr
	}
	return sm, lm, nil
}

// matchNone matches no span and no log record.
type matchNone struct{}

func (matchNone) MatchSpan(pcommon.Resource, pcommon.InstrumentationScope, ptrace.Span) bool {
	return false
}
func (matchNone) MatchLog(pcommon.Resource, pcommon.InstrumentationScope, plog.LogRecord) bool {
	return false
}

// tailListen receives OTLP on grpcAddr and httpAddr with otlpd's receivers, keeps nothing, and prints every
// matching item until ctx ends.
func tailListen(ctx context.Context, f *tailFlags, grpcAddr, httpAddr string, write func(tail.Item) error, stderr io.Writer) error {
	sig, err := tail.ParseSignals(f.signals)
	if err != nil {
		return usageError{err}
	}
	filter := tail.Filter{Signals: sig, Service: f.service}
	if f.filter != "" {
		if filter.Spans, filter.Logs, err = compileTailFilter(f.filter, sig); err != nil {
			return usageError{fmt.Errorf("--filter: %w", err)}
		}
	}
	// A big buffer: a terminal is slower than a burst of exports, and dropped items are reported.
	hub := tail.NewHub(tail.Options{Buffer: 1 << 16, MaxSubscribers: 1})
	defer hub.Close()
	sub, err := hub.Subscribe(filter)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	recv := otlp.New(pipeline.New(pipeline.Options{}, hub.Consumer()), otlp.Options{}, log)
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return fmt.Errorf("listen for OTLP/gRPC on %s: %w", grpcAddr, err)
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		gl.Close()
		return fmt.Errorf("listen for OTLP/HTTP on %s: %w", httpAddr, err)
	}
	grpcSrv := recv.NewGRPCServer()
	httpSrv := &http.Server{Handler: recv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{}, 2)
	go func() { _ = grpcSrv.Serve(gl); done <- struct{}{} }()
	go func() { _ = httpSrv.Serve(hl); done <- struct{}{} }()
	defer func() {
		grpcSrv.Stop()
		_ = httpSrv.Close()
		<-done
		<-done
	}()
	fmt.Fprintf(stderr, "otlpd tail: receiving OTLP/gRPC on %s and OTLP/HTTP on %s; storing nothing\n", gl.Addr(), hl.Addr())
	var reported int64
	for {
		it, ok := sub.Next(ctx)
		if !ok {
			return nil
		}
		if d := sub.Dropped(); d > reported {
			fmt.Fprintf(stderr, "otlpd tail: %d items dropped so far (this terminal is slower than the exports)\n", d)
			reported = d
		}
		if err := write(it); err != nil {
			return err
		}
	}
}
