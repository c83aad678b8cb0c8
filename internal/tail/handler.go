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
		expr := q.Get("filter")
		if expr == "" {
			expr = q.Get("q") // the web UI's name for it
		}
		if expr = strings.TrimSpace(expr); expr != "" {
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
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Accel-Buffering", "no")
		bw := bufio.NewWriterSize(w, 32<<10)
		flush := func() bool {
			if bw.Flush() != nil {
				return false
			}
			if flusher != nil {
				flusher.Flush()
			}
			return true
		}
		var st streamWriter
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			st = &sseWriter{w: bw, batch: newOTLPBatch()}
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
			st = &ndjsonWriter{enc: json.NewEncoder(bw)}
		}
		w.WriteHeader(http.StatusOK)
		beat := func() bool { return st.heartbeat(sub.Dropped()) == nil && flush() }
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
				if st.add(&e) != nil {
					return
				}
				if len(sub.ch) == 0 || st.pending() >= 1000 {
					if st.flush() != nil || !flush() {
						return
					}
				}
			}
		}
	})
}

// streamWriter writes one form of the stream.
type streamWriter interface {
	add(e *entry) error
	pending() int // entries added and not yet written
	flush() error
	heartbeat(dropped int64) error
}

// ndjsonWriter writes each entry as an Item on its own line.
type ndjsonWriter struct{ enc *json.Encoder }

func (n *ndjsonWriter) add(e *entry) error { return n.enc.Encode(e.item()) }
func (n *ndjsonWriter) pending() int       { return 0 }
func (n *ndjsonWriter) flush() error       { return nil }
func (n *ndjsonWriter) heartbeat(dropped int64) error {
	return n.enc.Encode(Item{Signal: KindHeartbeat, Time: time.Now().UTC(), Dropped: dropped})
}

// sseWriter writes Server-Sent Events whose data is an OTLP JSON document (TracesData, LogsData or
// MetricsData) of the entries gathered since the last flush; heartbeats are SSE comments.
type sseWriter struct {
	w     *bufio.Writer
	batch *otlpBatch
}

func (s *sseWriter) add(e *entry) error { s.batch.add(e); return nil }
func (s *sseWriter) pending() int       { return s.batch.n }

func (s *sseWriter) flush() error {
	docs, err := s.batch.documents()
	if err != nil {
		return err
	}
	for _, d := range docs {
		for line := range strings.SplitSeq(string(d), "\n") {
			_, _ = s.w.WriteString("data: ")
			_, _ = s.w.WriteString(line)
			_ = s.w.WriteByte('\n')
		}
		if err := s.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

func (s *sseWriter) heartbeat(dropped int64) error {
	_, err := fmt.Fprintf(s.w, ": heartbeat dropped=%d\n\n", dropped)
	return err
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
