package tail

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/otlpd/otlpd/internal/storage"
)

// Path is where the stream is served on the UI/API address.
const Path = "/api/otlpd/tail"

// CompileFunc compiles a filter expression for the signals asked for. The error's text is shown to the user.
type CompileFunc func(expr string, signals Signals) (storage.SpanMatcher, storage.LogMatcher, error)

// HandlerOptions configures Handler.
type HandlerOptions struct {
	// Compile compiles the filter parameter; nil means filter expressions are refused (service= still works).
	Compile CompileFunc
	// Heartbeat is the interval of heartbeat lines. 0 means 5 s.
	Heartbeat time.Duration
}

// ParseSignals parses a comma-separated list of spans, logs and metrics (singular forms and "traces" too).
// Empty means spans and logs.
func ParseSignals(s string) (Signals, error) {
	if strings.TrimSpace(s) == "" {
		return Spans | Logs, nil
	}
	var out Signals
	for _, p := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "spans", "span", "traces":
			out |= Spans
		case "logs", "log":
			out |= Logs
		case "metrics", "metric":
			out |= Metrics
		default:
			return 0, fmt.Errorf("unknown signal %q: want spans, logs or metrics", p)
		}
	}
	return out, nil
}

// Handler serves the live stream (see the package documentation) until the client goes away or the hub
// closes.
func (h *Hub) Handler(opts HandlerOptions) http.Handler {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 5 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sig, err := ParseSignals(q.Get("signal"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		f := Filter{Signals: sig, Service: q.Get("service")}
		if expr := strings.TrimSpace(q.Get("filter")); expr != "" {
			if opts.Compile == nil {
				writeError(w, http.StatusBadRequest, "this server does not support filter expressions; use service=")
				return
			}
			if f.Spans, f.Logs, err = opts.Compile(expr, sig); err != nil {
				writeError(w, http.StatusBadRequest, "filter: "+err.Error())
				return
			}
		}
		sub, err := h.Subscribe(f)
		if errors.Is(err, ErrTooManySubscribers) {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		defer sub.Close()
		flusher, _ := w.(http.Flusher)
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 32<<10)
		enc := json.NewEncoder(bw)
		flush := func() bool {
			if bw.Flush() != nil {
				return false
			}
			if flusher != nil {
				flusher.Flush()
			}
			return true
		}
		beat := func() bool {
			return enc.Encode(Item{Signal: KindHeartbeat, Time: time.Now().UTC(), Dropped: sub.Dropped()}) == nil && flush()
		}
		if !beat() {
			return
		}
		t := time.NewTicker(opts.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
				if !beat() {
					return
				}
			case e, ok := <-sub.ch:
				if !ok {
					return // the hub closed: the server is shutting down
				}
				if enc.Encode(e.item()) != nil {
					return
				}
				if len(sub.ch) == 0 && !flush() {
					return
				}
			}
		}
	})
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
