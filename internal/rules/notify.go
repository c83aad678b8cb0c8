package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/notifier"
)

// maxQueue bounds the alerts waiting to be sent; past it the oldest are dropped.
const maxQueue = 10_000

// maxBatch is the most alerts sent in one request.
const maxBatch = 256

// alertSender sends alerts to Alertmanagers (API v2) from a bounded queue.
type alertSender struct {
	urls   []string // .../api/v2/alerts
	client *http.Client
	log    *slog.Logger

	mu    sync.Mutex
	queue []*notifier.Alert
	wake  chan struct{}

	sent, failed, dropped *prometheus.CounterVec
}

func newNotifier(bases []string, log *slog.Logger, reg prometheus.Registerer) (*alertSender, error) {
	n := &alertSender{client: &http.Client{Timeout: 10 * time.Second}, log: log, wake: make(chan struct{}, 1)}
	for _, b := range bases {
		u, err := url.Parse(strings.TrimSuffix(b, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("rules: alertmanager URL %q: want http(s)://host:port", b)
		}
		n.urls = append(n.urls, u.String()+"/api/v2/alerts")
	}
	n.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otlpd_alerts_sent_total", Help: "Alerts sent, by Alertmanager."}, []string{"alertmanager"})
	n.failed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otlpd_alerts_send_failures_total", Help: "Requests to an Alertmanager that failed."}, []string{"alertmanager"})
	n.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otlpd_alerts_dropped_total", Help: "Alerts dropped because the queue was full."}, nil)
	if reg != nil {
		reg.MustRegister(n.sent, n.failed, n.dropped)
	}
	return n, nil
}

// Send queues alerts (rules.Sender). It never blocks on the network.
func (n *alertSender) Send(alerts ...*notifier.Alert) {
	if len(n.urls) == 0 {
		return
	}
	n.mu.Lock()
	n.queue = append(n.queue, alerts...)
	if over := len(n.queue) - maxQueue; over > 0 {
		n.queue = n.queue[over:]
		n.dropped.WithLabelValues().Add(float64(over))
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *alertSender) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		for {
			n.mu.Lock()
			k := min(len(n.queue), maxBatch)
			batch := n.queue[:k:k]
			n.queue = n.queue[k:]
			n.mu.Unlock()
			if k == 0 {
				break
			}
			n.post(ctx, batch)
		}
	}
}

// wireAlert is an alert of Alertmanager's API v2.
type wireAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func (n *alertSender) post(ctx context.Context, alerts []*notifier.Alert) {
	wire := make([]wireAlert, len(alerts))
	for i, a := range alerts {
		wire[i] = wireAlert{Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL}
	}
	body, err := json.Marshal(wire)
	if err != nil {
		n.log.Error("alerts: encode", "err", err)
		return
	}
	for _, u := range n.urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := n.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		if err != nil {
			n.failed.WithLabelValues(u).Inc()
			n.log.Warn("alerts: cannot notify alertmanager", "url", u, "alerts", len(alerts), "err", err)
			continue
		}
		n.sent.WithLabelValues(u).Add(float64(len(alerts)))
	}
}
