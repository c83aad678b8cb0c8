package metrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/otlpd/otlpd/internal/api/prom"
)

// crashChildEnv, when set to a directory, makes the test binary a metrics server on that directory instead of
// running tests: the same store, OTLP/HTTP metrics decoding and remote-write handler otlpd serves, in a
// process the crash test can SIGKILL.
const crashChildEnv = "OTLPD_METRICS_CRASH_CHILD"

func crashChild(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := Open(Options{Dir: dir, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/write", prom.New(prom.Options{Queryable: st.Queryable(), Appender: st.Appender, Logger: log}))
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := st.ConsumeMetrics(r.Context(), req.Metrics()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("listening %s\n", ln.Addr())
	_ = http.Serve(ln, mux) // until SIGKILL
	return 1
}

// crashPoint is one sample the test sent: series i of metric name at t.
type crashPoint struct {
	name string
	i    int
	t    int64
}

type crashLedger struct {
	mu    sync.Mutex
	sent  map[crashPoint]float64
	acked map[crashPoint]float64
}

func (l *crashLedger) add(into map[crashPoint]float64, pts map[crashPoint]float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, v := range pts {
		into[p] = v
	}
}

// TestCrashRecovery runs the metrics store in a child process on one directory, exports OTLP metrics (gauges
// and cumulative counters) and Prometheus remote writes to it from two clients, and SIGKILLs it at a random
// moment, round after round. After each kill it reopens the directory, as a restarted otlpd does, and checks
// that every acknowledged sample is there with its value and that nothing stored was never sent.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills child processes; skipped with -short")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("OTLPD_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (rerun with OTLPD_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 91))
	rounds := 12
	if s := os.Getenv("OTLPD_CRASH_ROUNDS"); s != "" {
		fmt.Sscan(s, &rounds)
	}
	dir := filepath.Join(t.TempDir(), "metrics")
	ledger := &crashLedger{sent: map[crashPoint]float64{}, acked: map[crashPoint]float64{}}
	base := time.Now().Add(-10 * time.Minute).UnixMilli()
	var mu sync.Mutex
	tick := int64(0) // next timestamp offset; one per request, so every series only moves forward
	nextTick := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		tick++
		return base + tick
	}
	var maxOpen time.Duration
	for round := range rounds {
		child, addr := startCrashChild(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		r1, r2 := rand.New(rand.NewPCG(uint64(seed), uint64(round))), rand.New(rand.NewPCG(uint64(seed), uint64(round+1000)))
		wg.Go(func() { crashOTLPClient(ctx, addr, ledger, nextTick, r1) })
		wg.Go(func() { crashRWClient(ctx, addr, ledger, nextTick, r2) })
		time.Sleep(time.Duration(100+rng.IntN(600)) * time.Millisecond)
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		cancel()
		wg.Wait()

		start := time.Now()
		st, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		maxOpen = max(maxOpen, time.Since(start))
		checkCrashStore(t, round, st, ledger)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	if len(ledger.acked) == 0 {
		t.Fatal("no export was acknowledged: the test checked nothing")
	}
	t.Logf("%d rounds, %d samples acknowledged of %d sent, slowest reopen %v", rounds, len(ledger.acked), len(ledger.sent), maxOpen)
}

func startCrashChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not start: %v", err)
	}
	return cmd, "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))
}

// crashOTLPClient exports batches of 50 gauges and 50 counters until ctx ends or the server is gone.
func crashOTLPClient(ctx context.Context, url string, l *crashLedger, next func() int64, rng *rand.Rand) {
	for ctx.Err() == nil {
		ts := next()
		pts := map[crashPoint]float64{}
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "crash")
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		g := ms.AppendEmpty()
		g.SetName("crash.gauge")
		gauge := g.SetEmptyGauge()
		c := ms.AppendEmpty()
		c.SetName("crash.count")
		sum := c.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for i := range 50 {
			v := float64(rng.IntN(1_000_000))
			p := gauge.DataPoints().AppendEmpty()
			p.SetTimestamp(pcommon.Timestamp(ts * 1e6))
			p.SetDoubleValue(v)
			p.Attributes().PutInt("i", int64(i))
			pts[crashPoint{"crash_gauge", i, ts}] = v

			q := sum.DataPoints().AppendEmpty()
			q.SetStartTimestamp(pcommon.Timestamp(base(ts) * 1e6))
			q.SetTimestamp(pcommon.Timestamp(ts * 1e6))
			q.SetIntValue(ts - base(ts) + int64(i))
			q.Attributes().PutInt("i", int64(i))
			pts[crashPoint{"crash_count_total", i, ts}] = float64(ts - base(ts) + int64(i))
		}
		body, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		l.add(l.sent, pts)
		if crashPost(ctx, url+"/v1/metrics", "application/x-protobuf", body) != http.StatusOK {
			return
		}
		l.add(l.acked, pts)
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
	}
}

// base is a fixed counter start before every timestamp of the test.
func base(ts int64) int64 {
	return ts - ts%int64(time.Hour/time.Millisecond) - int64(time.Hour/time.Millisecond)
}

// crashRWClient sends remote writes of 50 series until ctx ends or the server is gone.
func crashRWClient(ctx context.Context, url string, l *crashLedger, next func() int64, rng *rand.Rand) {
	for ctx.Err() == nil {
		ts := next()
		pts := map[crashPoint]float64{}
		req := &prompb.WriteRequest{}
		for i := range 50 {
			v := float64(rng.IntN(1_000_000))
			req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "crash_rw"}, {Name: "i", Value: fmt.Sprint(i)}},
				Samples: []prompb.Sample{{Value: v, Timestamp: ts}},
			})
			pts[crashPoint{"crash_rw", i, ts}] = v
		}
		raw, _ := req.Marshal()
		l.add(l.sent, pts)
		if crashPost(ctx, url+"/api/v1/write", "application/x-protobuf", snappy.Encode(nil, raw)) != http.StatusNoContent {
			return
		}
		l.add(l.acked, pts)
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
	}
}

func crashPost(ctx context.Context, url, ctype string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", ctype)
	if strings.HasSuffix(url, "/write") {
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// checkCrashStore reads every sample of the test's metrics back and compares with the ledger.
func checkCrashStore(t *testing.T, round int, st *Store, l *crashLedger) {
	t.Helper()
	q, err := st.Queryable().Querier(0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	stored := map[crashPoint]float64{}
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, "crash_.*"))
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		var i int
		fmt.Sscan(s.Labels().Get("i"), &i)
		name := s.Labels().Get(labels.MetricName)
		it = s.Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			stored[crashPoint{name, i, ts}] = v
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lost := 0
	for p, v := range l.acked {
		got, ok := stored[p]
		switch {
		case !ok:
			lost++
			if lost <= 5 {
				t.Errorf("round %d: acknowledged sample %v lost", round, p)
			}
		case got != v:
			t.Errorf("round %d: sample %v = %v, acknowledged %v", round, p, got, v)
		}
	}
	if lost > 0 {
		t.Errorf("round %d: %d of %d acknowledged samples lost", round, lost, len(l.acked))
	}
	for p, v := range stored {
		if sent, ok := l.sent[p]; !ok || sent != v {
			t.Errorf("round %d: stored sample %v = %v was never sent", round, p, v)
			break
		}
	}
	t.Logf("round %d: %d samples stored, %d acknowledged, %d sent", round, len(stored), len(l.acked), len(l.sent))
}
