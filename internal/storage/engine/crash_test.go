package engine

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/workload"
)

// crashLedger records what the test sent and what the server acknowledged, by item key, with a hash of the
// item's full content (resource, scope and every field).
type crashLedger struct {
	mu    sync.Mutex
	sent  map[string]uint64
	acked map[string]uint64
}

func contentHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// spanProto and logProto render one item with its resource and scope as OTLP protobuf. Attribute order is
// kept by the engine, so equal items render equal bytes.
func spanProto(res pcommon.Resource, sc pcommon.InstrumentationScope, sp ptrace.Span) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res.CopyTo(rs.Resource())
	ss := rs.ScopeSpans().AppendEmpty()
	sc.CopyTo(ss.Scope())
	sp.CopyTo(ss.Spans().AppendEmpty())
	b, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	return b
}

func logProto(res pcommon.Resource, sc pcommon.InstrumentationScope, rec plog.LogRecord) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sc.CopyTo(sl.Scope())
	rec.CopyTo(sl.LogRecords().AppendEmpty())
	b, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	return b
}

func spanItemKey(sp ptrace.Span) string {
	return fmt.Sprintf("s/%x/%x", sp.TraceID(), sp.SpanID())
}

func logItemKey(rec plog.LogRecord) string {
	v, _ := rec.Attributes().Get("test.seq")
	return fmt.Sprintf("l/%d", v.Int())
}

func (l *crashLedger) record(td *ptrace.Traces, ld *plog.Logs, into map[string]uint64) {
	if td != nil {
		for _, f := range flattenSpans([]ptrace.Traces{*td}) {
			into[spanItemKey(f.span)] = contentHash(spanProto(f.res, f.sc, f.span))
		}
	}
	if ld != nil {
		for _, f := range flattenLogs([]plog.Logs{*ld}) {
			into[logItemKey(f.rec)] = contentHash(logProto(f.res, f.sc, f.rec))
		}
	}
}

// TestCrashRecovery runs the otlpd binary on a data directory, ingests the reference workload's spans and logs
// over OTLP/gRPC from two clients (the pdata OTLP gRPC client, so that each acknowledgement is known per
// request), and SIGKILLs the server at a random moment, over and over. After each kill it checks, on a copy of
// what the kill left, that every acknowledged item is stored exactly once and unaltered, and that nothing
// stored was never sent; and it restarts the server on the original directory within a time bound.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the otlpd binary; skipped with -short")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("OTLPD_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (rerun with OTLPD_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 77))
	rounds := 20
	if s := os.Getenv("OTLPD_CRASH_ROUNDS"); s != "" {
		fmt.Sscan(s, &rounds)
	}

	bin := filepath.Join(t.TempDir(), "otlpd")
	build := exec.Command("go", "build", "-o", bin, "github.com/otlpd/otlpd/cmd/otlpd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	cfgPath := filepath.Join(t.TempDir(), "otlpd.yaml")
	// Small flushes, so that kills also land during flushes and data sits in parts as well as in the WAL.
	os.WriteFile(cfgPath, []byte("engine:\n  flush_items: 3000\nretention:\n  max_age: 0s\n"), 0o644)

	ledger := &crashLedger{sent: map[string]uint64{}, acked: map[string]uint64{}}
	logSeq := int64(0)
	var maxStart time.Duration
	for round := range rounds {
		srv, grpcAddr, startup := startOtlpd(t, bin, dataDir, cfgPath)
		maxStart = max(maxStart, startup)
		if startup > 20*time.Second {
			t.Fatalf("round %d: otlpd took %v to start", round, startup)
		}
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		gen := workload.New(seed+int64(round), workload.Options{Start: time.Now()})
		var traces []ptrace.Traces
		var logs []plog.Logs
		for range 60 {
			traces = append(traces, gen.NextTraces(50))
			logs = append(logs, gen.NextLogs(50))
		}
		for _, ld := range logs {
			for _, f := range flattenLogs([]plog.Logs{ld}) {
				logSeq++
				f.rec.Attributes().PutInt("test.seq", logSeq)
			}
		}
		wg.Go(func() {
			client := ptraceotlp.NewGRPCClient(conn)
			for _, td := range traces {
				ledger.mu.Lock()
				ledger.record(&td, nil, ledger.sent)
				ledger.mu.Unlock()
				if _, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td)); err != nil {
					return
				}
				ledger.mu.Lock()
				ledger.record(&td, nil, ledger.acked)
				ledger.mu.Unlock()
				time.Sleep(time.Duration(rng2(round).IntN(8)) * time.Millisecond) // spread the exports over the round
			}
		})
		wg.Go(func() {
			client := plogotlp.NewGRPCClient(conn)
			for _, ld := range logs {
				ledger.mu.Lock()
				ledger.record(nil, &ld, ledger.sent)
				ledger.mu.Unlock()
				if _, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld)); err != nil {
					return
				}
				ledger.mu.Lock()
				ledger.record(nil, &ld, ledger.acked)
				ledger.mu.Unlock()
				time.Sleep(time.Duration(rng2(round+100).IntN(8)) * time.Millisecond)
			}
		})
		time.Sleep(time.Duration(100+rng.IntN(700)) * time.Millisecond)
		if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		srv.Wait()
		tKill := time.Now()
		wg.Wait()
		cancel()
		conn.Close()
		tClients := time.Since(tKill)

		ledger.mu.Lock()
		img := copyDir(t, dataDir)
		tCopy := time.Since(tKill)
		checkCrashImage(t, round, img, ledger)
		ledger.mu.Unlock()
		t.Logf("round %d: start %v, clients stopped %v, copied %v, checked %v", round, startup.Round(time.Millisecond),
			tClients.Round(time.Millisecond), tCopy.Round(time.Millisecond), time.Since(tKill).Round(time.Millisecond))
	}
	t.Logf("%d rounds, %d items acknowledged, slowest start %v", rounds, len(ledger.acked), maxStart)
}

var listenLine = regexp.MustCompile(`OTLP/gRPC (\S+),`)

// startOtlpd starts otlpd and returns once it prints its listen addresses.
func startOtlpd(t *testing.T, bin, dataDir, cfgPath string) (*exec.Cmd, string, time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--config", cfgPath,
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			out, _ := os.ReadFile(stderr.Name())
			t.Fatalf("otlpd exited before listening:\n%s", out)
		}
		return cmd, addr, time.Since(t0)
	case <-time.After(60 * time.Second):
		out, _ := os.ReadFile(stderr.Name())
		t.Fatalf("otlpd did not start within 60s:\n%s", out)
	}
	return nil, "", 0
}

// checkCrashImage opens a copy of a killed server's data directory and compares its content with the ledger.
func checkCrashImage(t *testing.T, round int, dir string, l *crashLedger) {
	t.Helper()
	t0 := time.Now()
	e, err := Open(dir, Options{Logger: testOptions().Logger, FlushInterval: time.Hour, MaintenanceInterval: time.Hour, noCloseFlush: true})
	if err != nil {
		t.Fatalf("round %d: open the crash image: %v", round, err)
	}
	defer e.Close()
	openTime := time.Since(t0)
	seen := map[string]int{}
	check := func(key string, h uint64) {
		seen[key]++
		want, ok := l.sent[key]
		switch {
		case !ok:
			t.Fatalf("round %d: stored item %s was never sent", round, key)
		case want != h:
			t.Fatalf("round %d: item %s is altered", round, key)
		case seen[key] > 1:
			t.Fatalf("round %d: item %s is stored %d times", round, key, seen[key])
		}
	}
	ctx := context.Background()
	for td, err := range e.FindSpans(ctx, storage.SpanQuery{Limit: 1 << 30}) {
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, f := range flattenSpans([]ptrace.Traces{td}) {
			check(spanItemKey(f.span), contentHash(spanProto(f.res, f.sc, f.span)))
		}
	}
	for ld, err := range e.FindLogs(ctx, storage.LogQuery{Limit: 1 << 30}) {
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, f := range flattenLogs([]plog.Logs{ld}) {
			check(logItemKey(f.rec), contentHash(logProto(f.res, f.sc, f.rec)))
		}
	}
	missing := 0
	for k := range l.acked {
		if seen[k] == 0 {
			missing++
			if missing < 5 {
				t.Errorf("round %d: acknowledged item %s is lost", round, k)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("round %d: %d of %d acknowledged items lost", round, missing, len(l.acked))
	}
	// Trace by ID, without a time range, for a sample of acknowledged spans.
	n := 0
	for k := range l.acked {
		var tid pcommon.TraceID
		if _, err := fmt.Sscanf(k, "s/%x/", &tid); err != nil {
			continue
		}
		found := false
		for _, err := range e.GetTrace(ctx, storage.TraceQuery{TraceID: tid}) {
			found = err == nil
		}
		if !found {
			t.Fatalf("round %d: GetTrace %s found nothing", round, k)
		}
		if n++; n == 20 {
			break
		}
	}
	t.Logf("round %d: %d items stored, %d acknowledged, all found once; crash image opened in %v", round,
		len(seen), len(l.acked), openTime.Round(time.Millisecond))
}

// rng2 gives each client goroutine its own deterministic random source.
func rng2(n int) *rand.Rand { return rand.New(rand.NewPCG(uint64(n), 5)) }
