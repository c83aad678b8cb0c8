package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/otlpd/otlpd/internal/loadgen"
)

const loadgenUsage = `Send the reference workload (20 services x 5 instances; traces of about 10 spans, logs, metrics) to an
OTLP endpoint, as fast as possible or at --rate items per second, and report the items/s the server accepted,
export latency p50/p99 and errors by status code. Requests are encoded before the clock starts, so the
generator is not the bottleneck. Works against any OTLP server.

Examples:
  otlpd loadgen --signal traces --duration 30s
  otlpd loadgen --protocol http --endpoint 127.0.0.1:4318 --signal logs --rate 20000
  otlpd loadgen --protocol http-json --endpoint http://127.0.0.1:4318/v1/logs --signal logs
  otlpd loadgen --signal metrics --batch-sweep 10,100,500,1000 --duration 10s --json`

// stringList collects a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("loadgen", loadgenUsage, stdout)
	endpoint := fs.String("endpoint", "", "OTLP endpoint: host:port, or a URL for HTTP (default 127.0.0.1:4317 for grpc, 127.0.0.1:4318 for http)")
	protocol := fs.String("protocol", "grpc", "grpc, http (protobuf) or http-json")
	signal := fs.String("signal", "traces", "traces, logs or metrics")
	rate := fs.Float64("rate", 0, "items per second for all workers together; 0 sends as fast as possible")
	duration := fs.Duration("duration", 10*time.Second, "how long to send (per batch size with --batch-sweep)")
	warmup := fs.Duration("warmup", 0, "how long to send the same requests before --duration starts, not counted in the figures")
	requests := fs.Int64("requests", 0, "stop after this many requests, even before --duration (0: no limit)")
	workers := fs.Int("workers", 8, "concurrent exporters (one connection each over gRPC)")
	batch := fs.Int("batch", 0, "items per request (default 512 for traces and logs, 1000 for metrics)")
	sweep := fs.String("batch-sweep", "", "comma-separated batch sizes to run one after the other, e.g. 10,100,500,1000")
	seed := fs.Int64("seed", 1, "seed of the generated workload")
	var headers stringList
	fs.Var(&headers, "header", "request header or gRPC metadata as key=value (repeatable), e.g. authorization=Bearer x")
	useTLS := fs.Bool("tls", false, "use TLS")
	skipVerify := fs.Bool("tls-skip-verify", false, "with --tls, do not verify the server certificate")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of one export")
	poolMB := fs.Int("pool-mb", 64, "MiB of requests to encode before the clock starts")
	unique := fs.Bool("unique", false, "encode all --requests before the clock starts, so that none is a replay of an earlier one\n(for measuring bytes on disk per item; needs --requests, memory for all of them, no --warmup)")
	jsonOut := fs.Bool("json", false, "print the result as JSON (an array with --batch-sweep)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := loadgen.Options{
		Endpoint: *endpoint, Protocol: loadgen.Protocol(*protocol), Signal: loadgen.Signal(*signal), Rate: *rate,
		Duration: *duration, Warmup: *warmup, Requests: *requests, Workers: *workers, Seed: *seed, TLS: *useTLS,
		TLSSkipVerify: *skipVerify,
		Timeout:       *timeout, PoolBytes: int64(*poolMB) << 20, Unique: *unique,
	}
	if opts.Endpoint == "" {
		opts.Endpoint = "127.0.0.1:4317"
		if opts.Protocol != loadgen.ProtocolGRPC {
			opts.Endpoint = "127.0.0.1:4318"
		}
	}
	if len(headers) > 0 {
		opts.Headers = map[string]string{}
		for _, h := range headers {
			k, v, ok := strings.Cut(h, "=")
			if !ok || k == "" {
				return usageError{fmt.Errorf("--header %q: want key=value", h)}
			}
			opts.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	batches := []int{*batch}
	if *sweep != "" {
		if *batch != 0 {
			return usageError{fmt.Errorf("--batch and --batch-sweep exclude each other")}
		}
		batches = nil
		for _, s := range strings.Split(*sweep, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return usageError{fmt.Errorf("--batch-sweep %q: want positive integers separated by commas", *sweep)}
			}
			batches = append(batches, n)
		}
	}
	if *poolMB < 1 {
		return usageError{fmt.Errorf("--pool-mb %d: want at least 1", *poolMB)}
	}
	progress := isTerminal(stderr) && !*jsonOut
	var results []loadgen.Result
	for _, b := range batches {
		o := opts
		o.Batch = b
		if o.Batch == 0 {
			o.Batch = 512
			if o.Signal == loadgen.SignalMetrics {
				o.Batch = 1000
			}
		}
		if progress {
			o.Progress = func(p loadgen.Progress) {
				fmt.Fprintf(stderr, "\r\033[K%6.1fs  batch %d  accepted %s  %s items/s  failed %s", p.Elapsed.Seconds(),
					o.Batch, group(p.Accepted), group(int64(p.Rate)), group(p.Failed))
			}
		}
		if err := o.Validate(); err != nil {
			return usageError{err}
		}
		res, err := loadgen.Run(ctx, o, slog.New(slog.DiscardHandler))
		if progress {
			fmt.Fprint(stderr, "\r\033[K")
		}
		if err != nil {
			return err
		}
		results = append(results, res)
		if !*jsonOut {
			loadgen.WriteReport(stdout, res)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if *sweep != "" {
			return enc.Encode(results)
		}
		return enc.Encode(results[0])
	}
	if len(results) > 1 {
		fmt.Fprintln(stdout)
		loadgen.WriteSweepTable(stdout, results)
	}
	return nil
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// group formats n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && c != '-' && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
