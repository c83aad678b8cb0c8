package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Signal is the kind of telemetry sent.
type Signal string

// Signals.
const (
	SignalTraces  Signal = "traces"
	SignalLogs    Signal = "logs"
	SignalMetrics Signal = "metrics"
)

// Protocol is the OTLP transport and encoding.
type Protocol string

// Protocols.
const (
	ProtocolGRPC     Protocol = "grpc"
	ProtocolHTTP     Protocol = "http"      // OTLP/HTTP with protobuf bodies
	ProtocolHTTPJSON Protocol = "http-json" // OTLP/HTTP with JSON bodies
)

// Options configures a run.
type Options struct {
	Endpoint string // gRPC: host:port; HTTP: host:port or URL (a URL with a path is used as it is)
	Protocol Protocol
	Signal   Signal
	Rate     float64       // items per second for all workers together; 0 means as fast as possible
	Duration time.Duration // how long to send; requests in flight at the end still count
	// Warmup is how long to send before Duration starts, with the same requests; what is sent then is
	// reported apart (WarmupAccepted) and counts in no other figure.
	Warmup        time.Duration
	Requests      int64 // stop after this many measured requests, even before Duration; 0: no limit
	Workers       int   // concurrent exporters, each with its own connection (gRPC)
	Batch         int   // items per request
	Seed          int64
	Headers       map[string]string
	TLS           bool
	TLSSkipVerify bool
	Timeout       time.Duration // per export; 0 means 10 s
	PoolBytes     int64         // encoded bytes to prepare before the clock starts; 0 means 64 MiB
	// Unique prepares every request of the run (Requests of them, warm-up not allowed) instead of a pool of
	// PoolBytes, so that no request is a replay of an earlier one: for measuring what a storage keeps of
	// the workload, where replayed content (even moved in time) compresses better than new content would.
	Unique bool
	// Progress, if set, is called about once a second with the figures so far, from its own goroutine.
	Progress func(Progress)
}

// Progress is a snapshot taken during a run.
type Progress struct {
	Elapsed  time.Duration
	Accepted int64
	Failed   int64 // items of failed requests
	Rate     float64
}

// Result is the outcome of a run.
type Result struct {
	Signal     Signal   `json:"signal"`
	Protocol   Protocol `json:"protocol"`
	Endpoint   string   `json:"endpoint"`
	Batch      int      `json:"batch"`
	Workers    int      `json:"workers"`
	TargetRate float64  `json:"target_rate,omitempty"`
	Seconds    float64  `json:"seconds"`
	// WarmupSeconds and WarmupAccepted describe the warm-up before the measured window: items the server
	// accepted then are stored too, which matters for footprint per item.
	WarmupSeconds  float64          `json:"warmup_seconds,omitempty"`
	WarmupAccepted int64            `json:"warmup_accepted,omitempty"`
	Requests       int64            `json:"requests"`
	Sent           int64            `json:"sent"`     // items in all requests
	Accepted       int64            `json:"accepted"` // items the server acknowledged and did not reject
	Rejected       int64            `json:"rejected"` // items rejected through partial success
	Failed         int64            `json:"failed"`   // items of requests that failed
	ItemsPerS      float64          `json:"items_per_s"`
	BytesPerItem   float64          `json:"bytes_per_item"`
	P50ms          float64          `json:"p50_ms"`
	P99ms          float64          `json:"p99_ms"`
	MaxMs          float64          `json:"max_ms"`
	Errors         map[string]int64 `json:"errors,omitempty"` // failed requests by status code
	// ErrorSamples holds the first message seen for each code in Errors.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// RejectSample is the first partial-success message.
	RejectSample string `json:"reject_sample,omitempty"`
}

// Validate reports the first bad field of o.
func (o *Options) Validate() error {
	switch o.Signal {
	case SignalTraces, SignalLogs, SignalMetrics:
	default:
		return fmt.Errorf("signal %q: want traces, logs or metrics", o.Signal)
	}
	switch o.Protocol {
	case ProtocolGRPC, ProtocolHTTP, ProtocolHTTPJSON:
	default:
		return fmt.Errorf("protocol %q: want grpc, http or http-json", o.Protocol)
	}
	if o.Endpoint == "" {
		return errors.New("endpoint is empty")
	}
	if o.Batch < 1 || o.Batch > 100000 {
		return fmt.Errorf("batch %d: want 1..100000", o.Batch)
	}
	if o.Workers < 1 || o.Workers > 1024 {
		return fmt.Errorf("workers %d: want 1..1024", o.Workers)
	}
	if o.Duration <= 0 {
		return fmt.Errorf("duration %v: want more than 0", o.Duration)
	}
	if o.Requests < 0 {
		return fmt.Errorf("requests %d: want 0 (no limit) or more", o.Requests)
	}
	if o.Warmup < 0 {
		return fmt.Errorf("warmup %v: want 0 or more", o.Warmup)
	}
	if o.Unique && (o.Requests == 0 || o.Warmup > 0) {
		return fmt.Errorf("unique requests need a number of requests and no warm-up")
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		return fmt.Errorf("rate %v: want 0 (as fast as possible) or more", o.Rate)
	}
	return nil
}

// Run prepares the requests, checks that the endpoint answers, then sends for opts.Duration or until ctx
// is done. An unreachable endpoint is an error; failed requests during the run are counted in the result.
func Run(ctx context.Context, opts Options, logger *slog.Logger) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.PoolBytes <= 0 {
		opts.PoolBytes = 64 << 20
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	jsonBody := opts.Protocol == ProtocolHTTPJSON
	// gRPC: one connection per worker. HTTP: one client whose pool holds a connection per worker.
	var exps []exporter
	defer func() {
		for _, e := range exps {
			e.close()
		}
	}()
	for range opts.Workers {
		var (
			e   exporter
			err error
		)
		if opts.Protocol == ProtocolGRPC {
			e, err = newGRPCExporter(&opts)
		} else {
			e, err = newHTTPExporter(&opts, jsonBody, opts.Workers)
		}
		if err != nil {
			return Result{}, err
		}
		exps = append(exps, e)
		if opts.Protocol != ProtocolGRPC {
			break
		}
	}
	if err := probe(ctx, exps[0], jsonBody, opts); err != nil {
		return Result{}, err
	}
	prepStart := time.Now()
	minPayloads, poolBytes := opts.Workers*2, opts.PoolBytes
	if opts.Unique {
		minPayloads, poolBytes = int(max(opts.Requests, int64(opts.Workers))), 1
	}
	pl, err := buildPool(opts.Signal, jsonBody, opts.Seed, opts.Batch, minPayloads, poolBytes, time.Now())
	if err != nil {
		return Result{}, err
	}
	logger.Info("requests prepared", "requests", len(pl.payloads), "items", pl.items, "bytes", pl.bytes,
		"took", time.Since(prepStart).Round(time.Millisecond))
	res := run(ctx, &opts, pl, exps)
	res.BytesPerItem = float64(pl.bytes) / float64(pl.items)
	return res, nil
}

// probe sends an empty export request, so that an unreachable or wrong endpoint fails fast and clearly.
func probe(ctx context.Context, e exporter, jsonBody bool, opts Options) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body := []byte{}
	if jsonBody {
		body = []byte("{}")
	}
	if _, _, code, err := e.export(ctx, body); err != nil {
		msg := err.Error()
		if code == "UNAVAILABLE" || code == "NETWORK" {
			// "... dial tcp 127.0.0.1:4317: connect: connection refused" says it all in its last part.
			msg = strings.TrimSuffix(strings.TrimSpace(msg[strings.LastIndex(msg, ":")+1:]), `"`)
		}
		return fmt.Errorf("cannot export to %s over %s: %s (%s)", opts.Endpoint, opts.Protocol, msg, code)
	}
	return nil
}

type counters struct {
	requests, sent, accepted, rejected, failed atomic.Int64
	warmAccepted                               atomic.Int64
	mu                                         sync.Mutex
	errors                                     map[string]int64
	samples                                    map[string]string
	rejectMsg                                  string
}

func (c *counters) fail(code string, err error, items int) {
	c.failed.Add(int64(items))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors[code]++
	if _, ok := c.samples[code]; !ok && err != nil {
		c.samples[code] = err.Error()
	}
}

func (c *counters) reject(n int64, msg string) {
	c.rejected.Add(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rejectMsg == "" {
		c.rejectMsg = msg
	}
}

func run(ctx context.Context, opts *Options, pl *pool, exps []exporter) Result {
	c := &counters{errors: map[string]int64{}, samples: map[string]string{}}
	start := time.Now()
	measureStart := start.Add(opts.Warmup)
	deadline := measureStart.Add(opts.Duration)
	stopCtx, stop := context.WithDeadline(ctx, deadline)
	defer stop()
	var scheduled atomic.Int64 // items handed out so far, for pacing
	var claimed atomic.Int64   // requests started, for Options.Requests
	lat := make([][]time.Duration, opts.Workers)
	var wg sync.WaitGroup
	for w := range opts.Workers {
		var mine []*payload
		for _, p := range pl.payloads {
			if p.owner%opts.Workers == w {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			continue
		}
		e := exps[w%len(exps)]
		wg.Go(func() {
			for round := 0; round == 0 || !opts.Unique; round++ {
				for _, p := range mine {
					if stopCtx.Err() != nil {
						return
					}
					if opts.Requests > 0 && !time.Now().Before(measureStart) && claimed.Add(1) > opts.Requests {
						return
					}
					if opts.Rate > 0 {
						due := start.Add(time.Duration(float64(scheduled.Add(int64(p.items))-int64(p.items)) / opts.Rate * 1e9))
						if wait := time.Until(due); wait > 0 {
							select {
							case <-stopCtx.Done():
								return
							case <-time.After(wait):
							}
						}
					}
					pl.advance(p, round)
					// A request in flight when the time is up completes: its outcome counts.
					rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Timeout)
					t0 := time.Now()
					rejected, msg, code, err := e.export(rctx, p.body)
					d := time.Since(t0)
					cancel()
					if t0.Before(measureStart) {
						if code == "" {
							c.warmAccepted.Add(int64(p.items) - rejected)
						}
						continue
					}
					c.requests.Add(1)
					c.sent.Add(int64(p.items))
					if code != "" {
						c.fail(code, err, p.items)
						continue
					}
					lat[w] = append(lat[w], d)
					c.accepted.Add(int64(p.items) - rejected)
					if rejected > 0 {
						c.reject(rejected, msg)
					}
				}
			}
		})
	}
	done := make(chan struct{})
	if opts.Progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					el := time.Since(measureStart)
					if el <= 0 {
						continue
					}
					acc := c.accepted.Load()
					opts.Progress(Progress{Elapsed: el, Accepted: acc, Failed: c.failed.Load(), Rate: float64(acc) / el.Seconds()})
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	elapsed := time.Since(measureStart)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := Result{
		Signal: opts.Signal, Protocol: opts.Protocol, Endpoint: opts.Endpoint, Batch: opts.Batch,
		Workers: opts.Workers, TargetRate: opts.Rate, Seconds: elapsed.Seconds(),
		Requests: c.requests.Load(), Sent: c.sent.Load(), Accepted: c.accepted.Load(), Rejected: c.rejected.Load(),
		Failed: c.failed.Load(), P50ms: quantileMs(all, 0.50), P99ms: quantileMs(all, 0.99), MaxMs: quantileMs(all, 1),
		WarmupSeconds: opts.Warmup.Seconds(), WarmupAccepted: c.warmAccepted.Load(),
	}
	r.ItemsPerS = float64(r.Accepted) / elapsed.Seconds()
	if len(c.errors) > 0 {
		r.Errors, r.ErrorSamples = c.errors, c.samples
	}
	r.RejectSample = c.rejectMsg
	return r
}

// quantileMs returns the q-quantile of sorted durations in milliseconds (nearest rank).
func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(len(sorted)-1, i))
	return float64(sorted[i].Microseconds()) / 1000
}
