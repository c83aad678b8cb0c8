package loadgen

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otlpd/otlpd/internal/otlpsink"
)

var update = flag.Bool("update", false, "rewrite golden files")

func startSink(t *testing.T, opts otlpsink.Options) *otlpsink.Sink {
	t.Helper()
	s, err := otlpsink.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func endpoint(s *otlpsink.Sink, p Protocol) string {
	if p == ProtocolGRPC {
		return s.GRPCAddr
	}
	return s.HTTPAddr
}

func received(s *otlpsink.Sink, sig Signal) int64 {
	switch sig {
	case SignalTraces:
		return s.Spans.Load()
	case SignalLogs:
		return s.Logs.Load()
	}
	return s.Points.Load()
}

// TestAcceptedEqualsReceived runs every protocol and signal against a counting sink.
func TestAcceptedEqualsReceived(t *testing.T) {
	for _, proto := range []Protocol{ProtocolGRPC, ProtocolHTTP, ProtocolHTTPJSON} {
		for _, sig := range []Signal{SignalTraces, SignalLogs, SignalMetrics} {
			t.Run(string(proto)+"/"+string(sig), func(t *testing.T) {
				s := startSink(t, otlpsink.Options{})
				res, err := Run(context.Background(), Options{
					Endpoint: endpoint(s, proto), Protocol: proto, Signal: sig, Duration: 300 * time.Millisecond,
					Workers: 3, Batch: 50, Seed: 7, PoolBytes: 1,
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Requests == 0 || res.Accepted == 0 {
					t.Fatalf("nothing sent: %+v", res)
				}
				if got := received(s, sig); got != res.Accepted {
					t.Fatalf("sink received %d items, loadgen says %d accepted", got, res.Accepted)
				}
				if res.Sent != res.Accepted+res.Rejected+res.Failed || res.Sent != res.Requests*50 {
					t.Fatalf("counts do not add up: %+v", res)
				}
				if res.P50ms <= 0 || res.P99ms < res.P50ms || res.MaxMs < res.P99ms {
					t.Fatalf("latencies out of order: %+v", res)
				}
			})
		}
	}
}

// TestReplaysAreNotDuplicates checks that replayed traces get new trace IDs, replayed metric points move
// forward in time, series by series, and replayed log records get times after those of every record sent in
// the round before, whichever worker sends them.
func TestReplaysAreNotDuplicates(t *testing.T) {
	for _, proto := range []Protocol{ProtocolGRPC, ProtocolHTTPJSON} {
		t.Run(string(proto), func(t *testing.T) {
			var mu sync.Mutex
			spans := map[[24]byte]bool{}
			dups := 0
			last := map[string]pcommon.Timestamp{}
			outOfOrder := 0
			type logKey struct {
				body     string
				t        pcommon.Timestamp
				resource string
			}
			records := map[logKey]bool{}
			logDups, logs := 0, 0
			s := startSink(t, otlpsink.Options{
				OnTraces: func(td ptrace.Traces) {
					mu.Lock()
					defer mu.Unlock()
					for _, rs := range td.ResourceSpans().All() {
						for _, ss := range rs.ScopeSpans().All() {
							for _, sp := range ss.Spans().All() {
								var k [24]byte
								tid, sid := sp.TraceID(), sp.SpanID()
								copy(k[:], tid[:])
								copy(k[16:], sid[:])
								if spans[k] {
									dups++
								}
								spans[k] = true
							}
						}
					}
				},
				OnLogs: func(ld plog.Logs) {
					mu.Lock()
					defer mu.Unlock()
					for _, rl := range ld.ResourceLogs().All() {
						id, _ := rl.Resource().Attributes().Get("service.instance.id")
						for _, sl := range rl.ScopeLogs().All() {
							for _, rec := range sl.LogRecords().All() {
								k := logKey{rec.Body().AsString(), rec.Timestamp(), id.Str()}
								if records[k] {
									logDups++
								}
								records[k] = true
								logs++
							}
						}
					}
				},
				OnMetrics: func(md pmetric.Metrics) {
					mu.Lock()
					defer mu.Unlock()
					for _, rm := range md.ResourceMetrics().All() {
						id, _ := rm.Resource().Attributes().Get("service.instance.id")
						for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
							if m.Type() != pmetric.MetricTypeSum {
								continue
							}
							for _, dp := range m.Sum().DataPoints().All() {
								key := id.Str() + m.Name() + attrKey(dp.Attributes())
								if dp.Timestamp() <= last[key] {
									outOfOrder++
								}
								last[key] = dp.Timestamp()
							}
						}
					}
				},
			})
			// A tiny pool makes every worker replay its requests.
			for _, sig := range []Signal{SignalTraces, SignalMetrics, SignalLogs} {
				batch, pool := 20, int64(6) // 6 requests in the pool
				if sig == SignalMetrics {
					batch, pool = 10000, 10 // one interval: 10 requests
				}
				// Three rounds of the pool, however slow the machine.
				res, err := Run(context.Background(), Options{Endpoint: endpoint(s, proto), Protocol: proto,
					Signal: sig, Duration: time.Minute, Requests: 3 * pool, Workers: 3, Batch: batch, PoolBytes: 1}, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %d requests", sig, res.Requests)
				if res.Requests != 3*pool {
					t.Fatalf("%s: %d requests, want %d", sig, res.Requests, 3*pool)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if dups != 0 {
				t.Errorf("%d duplicate spans among %d", dups, len(spans))
			}
			if outOfOrder != 0 || len(last) == 0 {
				t.Errorf("%d counter points out of order among %d series", outOfOrder, len(last))
			}
			if logDups != 0 || logs == 0 {
				t.Errorf("%d duplicate log records among %d", logDups, logs)
			}
		})
	}
}

// TestUnique checks that with Options.Unique every request is sent once: the run's records carry bodies
// none of which was sent before, unlike replays (which repeat content at later times).
func TestUnique(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string]int{}
	logs := 0
	s := startSink(t, otlpsink.Options{OnLogs: func(ld plog.Logs) {
		mu.Lock()
		defer mu.Unlock()
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, rec := range sl.LogRecords().All() {
					if rec.Body().Type() == pcommon.ValueTypeStr {
						bodies[rec.Body().Str()]++
					}
					logs++
				}
			}
		}
	}})
	opts := Options{Endpoint: endpoint(s, ProtocolGRPC), Protocol: ProtocolGRPC, Signal: SignalLogs,
		Duration: time.Minute, Requests: 24, Workers: 3, Batch: 20, PoolBytes: 1, Unique: true}
	res, err := Run(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 24 || logs != 24*20 {
		t.Fatalf("%d requests, %d records; want 24, 480", res.Requests, logs)
	}
	for b, n := range bodies {
		if n > 1 {
			t.Fatalf("body sent %d times: %q", n, b)
		}
	}
	// The same run without Unique replays its pool (at least 6 requests: two per worker).
	clear(bodies)
	opts.Unique = false
	if _, err := Run(context.Background(), opts, nil); err != nil {
		t.Fatal(err)
	}
	repeated := 0
	for _, n := range bodies {
		if n > 1 {
			repeated++
		}
	}
	if repeated == 0 {
		t.Fatal("a run from a pool of 6 requests repeated no body")
	}
	opts.Requests, opts.Unique = 0, true
	if err := opts.Validate(); err == nil {
		t.Fatal("Unique without Requests: no error")
	}
}

func attrKey(m pcommon.Map) string {
	var b strings.Builder
	for k, v := range m.All() {
		b.WriteString(k + "=" + v.AsString() + ",")
	}
	return b.String()
}

func TestPartialSuccessAndErrors(t *testing.T) {
	for _, proto := range []Protocol{ProtocolGRPC, ProtocolHTTP} {
		t.Run(string(proto), func(t *testing.T) {
			s := startSink(t, otlpsink.Options{
				Reject: func(int) int { return 3 },
				Fail: func(n int64) error {
					if n%4 == 0 {
						return status.Error(codes.Unavailable, "sink overloaded")
					}
					return nil
				},
			})
			res, err := Run(context.Background(), Options{Endpoint: endpoint(s, proto), Protocol: proto,
				Signal: SignalLogs, Duration: 300 * time.Millisecond, Workers: 2, Batch: 10, PoolBytes: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			code := "UNAVAILABLE"
			if proto != ProtocolGRPC {
				code = "HTTP 503"
			}
			failedReqs := res.Errors[code]
			if failedReqs == 0 || len(res.Errors) != 1 || !strings.Contains(res.ErrorSamples[code], "sink overloaded") {
				t.Fatalf("errors %v %v, want only %s", res.Errors, res.ErrorSamples, code)
			}
			okReqs := res.Requests - failedReqs
			if res.RejectSample != "rejected by the sink" {
				t.Errorf("reject sample %q", res.RejectSample)
			}
			if res.Rejected != 3*okReqs || res.Failed != 10*failedReqs || res.Accepted != 7*okReqs {
				t.Fatalf("rejected %d failed %d accepted %d, want %d, %d, %d", res.Rejected, res.Failed, res.Accepted,
					3*okReqs, 10*failedReqs, 7*okReqs)
			}
			if s.Logs.Load() != res.Accepted {
				t.Fatalf("sink kept %d, loadgen says %d accepted", s.Logs.Load(), res.Accepted)
			}
		})
	}
}

// TestWarmup checks that what is sent during the warm-up is reported apart and counts in no other figure.
func TestWarmup(t *testing.T) {
	s := startSink(t, otlpsink.Options{})
	res, err := Run(context.Background(), Options{Endpoint: s.GRPCAddr, Protocol: ProtocolGRPC, Signal: SignalLogs,
		Duration: 300 * time.Millisecond, Warmup: 300 * time.Millisecond, Workers: 2, Batch: 20, PoolBytes: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.WarmupAccepted == 0 || res.Accepted == 0 {
		t.Fatalf("want items accepted both in the warm-up and after it: %+v", res)
	}
	if got := s.Logs.Load(); got != res.Accepted+res.WarmupAccepted {
		t.Fatalf("sink received %d items, loadgen says %d + %d in the warm-up", got, res.Accepted, res.WarmupAccepted)
	}
	if res.Sent != res.Requests*20 || res.Seconds >= 0.55 || res.WarmupSeconds != 0.3 {
		t.Fatalf("the measured window includes the warm-up: %+v", res)
	}
}

func TestRateLimit(t *testing.T) {
	s := startSink(t, otlpsink.Options{})
	res, err := Run(context.Background(), Options{Endpoint: s.GRPCAddr, Protocol: ProtocolGRPC, Signal: SignalTraces,
		Duration: time.Second, Workers: 4, Batch: 10, Rate: 500, PoolBytes: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// At 500 items/s for 1 s: 500 items, plus at most one batch per worker already scheduled.
	if res.Sent > 500+4*10 || res.Sent < 250 {
		t.Fatalf("sent %d items at 500 items/s for 1 s", res.Sent)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, proto := range []Protocol{ProtocolGRPC, ProtocolHTTP} {
		start := time.Now()
		_, err := Run(context.Background(), Options{Endpoint: addr, Protocol: proto, Signal: SignalTraces,
			Duration: time.Second, Workers: 1, Batch: 10}, nil)
		if err == nil || !strings.Contains(err.Error(), "cannot export to "+addr) {
			t.Fatalf("%s: err = %v, want cannot export", proto, err)
		}
		if time.Since(start) > 6*time.Second {
			t.Fatalf("%s: took %v to fail", proto, time.Since(start))
		}
	}
}

func TestValidate(t *testing.T) {
	base := Options{Endpoint: "x:1", Protocol: ProtocolGRPC, Signal: SignalLogs, Duration: time.Second, Workers: 1, Batch: 1}
	f := func(name string, mod func(*Options), want string) {
		t.Helper()
		o := base
		mod(&o)
		_, err := Run(context.Background(), o, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", name, err, want)
		}
	}
	f("signal", func(o *Options) { o.Signal = "spans" }, `signal "spans"`)
	f("protocol", func(o *Options) { o.Protocol = "udp" }, `protocol "udp"`)
	f("batch", func(o *Options) { o.Batch = 0 }, "batch 0")
	f("workers", func(o *Options) { o.Workers = 0 }, "workers 0")
	f("duration", func(o *Options) { o.Duration = 0 }, "duration 0s")
	f("warmup", func(o *Options) { o.Warmup = -time.Second }, "warmup -1s")
	f("rate", func(o *Options) { o.Rate = -1 }, "rate -1")
	f("requests", func(o *Options) { o.Requests = -1 }, "requests -1")
	f("endpoint", func(o *Options) { o.Endpoint = "" }, "endpoint is empty")
}

func TestHTTPURL(t *testing.T) {
	f := func(endpoint string, tls bool, want string) {
		t.Helper()
		got, err := httpURL(endpoint, SignalLogs, tls)
		if err != nil || got != want {
			t.Errorf("httpURL(%q) = %q, %v; want %q", endpoint, got, err, want)
		}
	}
	f("127.0.0.1:4318", false, "http://127.0.0.1:4318/v1/logs")
	f("collector:4318", true, "https://collector:4318/v1/logs")
	f("http://127.0.0.1:4318/", false, "http://127.0.0.1:4318/v1/logs")
	f("https://otlpd.example.com/ingest/v1/logs", false, "https://otlpd.example.com/ingest/v1/logs")
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func sampleResult() Result {
	return Result{Signal: SignalTraces, Protocol: ProtocolGRPC, Endpoint: "127.0.0.1:4317", Batch: 512, Workers: 8,
		Seconds: 20.004, Requests: 4021, RejectSample: "1000 of 2058752 spans rejected: attribute value too long", Sent: 2058752, Accepted: 2047000, Rejected: 1000, Failed: 10752,
		ItemsPerS: 102329.5, BytesPerItem: 512.3, P50ms: 31.25, P99ms: 120.5, MaxMs: 250,
		Errors: map[string]int64{"UNAVAILABLE": 20, "DEADLINE_EXCEEDED": 1},
		ErrorSamples: map[string]string{"UNAVAILABLE": "otlpd is overloaded: too much data in flight, retry later",
			"DEADLINE_EXCEEDED": "context deadline exceeded"}}
}

func TestReportGolden(t *testing.T) {
	var b bytes.Buffer
	WriteReport(&b, sampleResult())
	ok := sampleResult()
	ok.Errors, ok.ErrorSamples, ok.TargetRate, ok.Failed, ok.Rejected, ok.RejectSample = nil, nil, 100000, 0, 0, ""
	WriteReport(&b, ok)
	golden(t, "report.golden", b.Bytes())

	b.Reset()
	r1, r2 := sampleResult(), sampleResult()
	r1.Batch, r1.ItemsPerS = 10, 9876.4
	WriteSweepTable(&b, []Result{r1, r2})
	golden(t, "sweep.golden", b.Bytes())
}
