package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/server"
	"github.com/otlpd/otlpd/internal/storage/engine"
	"github.com/otlpd/otlpd/internal/workload"
)

const ingestBatch = 512

// startServer runs otlpd (engine storage, the given sync mode) on loopback until the benchmark ends, with
// the GOMAXPROCS and the soft memory limit otlpd serve sets (server.Procs, config.EffectiveMemoryLimit). It returns the gRPC address and a function that waits
// for the engine to settle (engine.Engine.Settle).
func startServer(b *testing.B, sync string) (string, func()) {
	b.Helper()
	procs := runtime.GOMAXPROCS(server.Procs(runtime.GOMAXPROCS(0)))
	b.Cleanup(func() { runtime.GOMAXPROCS(procs) })
	cfg := config.Default()
	cfg.Storage = "engine"
	cfg.DataDir = filepath.Join(b.TempDir(), "data")
	cfg.Engine.Sync = sync
	cfg.Retention.MaxAge = 0
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if limit := cfg.EffectiveMemoryLimit(); limit > 0 { // as otlpd serve sets it
		old := debug.SetMemoryLimit(limit)
		b.Cleanup(func() { debug.SetMemoryLimit(old) })
	}
	srv, err := server.New(cfg, nil, server.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if srv.GRPCAddr() != nil {
			break
		}
	}
	e := srv.Backend().(*engine.Engine)
	return srv.GRPCAddr().String(), func() {
		if err := e.Settle(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time of the process per item since c0: on a machine shared with other load, a
// steadier figure than the rate.
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N*ingestBatch), "cpu-ns/item")
}

func maxRSSMiB() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// The exporters send the requests encoded once beforehand, as a load generator does, so that the clients
// (in this process, on the same cores) spend next to nothing and the CPU goes to the server.
const (
	traceMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	logsMethod  = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// rawCodec sends already encoded protobuf bytes and keeps the answer's bytes.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// exportRaw sends one encoded export request and fails unless it is accepted whole (an empty partial success).
func exportRaw(conn *grpc.ClientConn, method string, req []byte) error {
	var resp []byte
	if err := conn.Invoke(context.Background(), method, &req, &resp, grpc.ForceCodecV2(rawCodec{})); err != nil {
		return err
	}
	if len(resp) != 0 {
		return fmt.Errorf("export answered a partial success (%d bytes)", len(resp))
	}
	return nil
}

// BenchmarkIngest exports batches of 512 spans or log records of the reference workload (internal/workload)
// over OTLP/gRPC to a real otlpd server storing into the engine with fsync before acknowledgement
// (sync=batch), from 16 concurrent clients, and, in the same run, unmarshals the same payloads with pdata on
// all cores: the ratio of the two rates is the figure. The ingest time includes the engine settling after
// the last export (the head flushed, every flushed part merged): merges run behind the writes, and a rate
// that left them undone would not be one the server can sustain.
func BenchmarkIngest(b *testing.B) {
	// 320 batches: 163,840 distinct items of each signal, more than a head holds (131,072), so that no flush
	// holds two copies of an item (copies of the same time would sit side by side in a block and compress
	// unlike new items do).
	gen := workload.New(1, workload.Options{})
	var spanReqs, logReqs [][]byte
	for i := range 320 {
		raw, _ := ptraceotlp.NewExportRequestFromTraces(gen.NextTraces(ingestBatch)).MarshalProto()
		spanReqs = append(spanReqs, raw)
		raw, _ = plogotlp.NewExportRequestFromLogs(gen.NextLogs(ingestBatch)).MarshalProto()
		logReqs = append(logReqs, raw)
		if i%16 == 15 {
			runtime.GC() // the batches' pdata is garbage: keep it from raising the process's peak RSS
		}
	}
	perItem := func(b *testing.B, reqs [][]byte) {
		n := 0
		for _, r := range reqs {
			n += len(r)
		}
		b.SetBytes(int64(n / len(reqs)))
	}

	b.Run("spans/unmarshal", func(b *testing.B) {
		perItem(b, spanReqs)
		var i atomic.Int64
		c0 := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := ptraceotlp.NewExportRequest()
				if err := req.UnmarshalProto(spanReqs[i.Add(1)%int64(len(spanReqs))]); err != nil {
					b.Error(err)
				}
			}
		})
		b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "spans/s")
		reportCPU(b, c0)
	})
	b.Run("logs/unmarshal", func(b *testing.B) {
		perItem(b, logReqs)
		var i atomic.Int64
		c0 := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := plogotlp.NewExportRequest()
				if err := req.UnmarshalProto(logReqs[i.Add(1)%int64(len(logReqs))]); err != nil {
					b.Error(err)
				}
			}
		})
		b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "logs/s")
		reportCPU(b, c0)
	})
	for _, sync := range []string{"batch", "none"} {
		b.Run("spans/grpc/sync="+sync, func(b *testing.B) {
			addr, settle := startServer(b, sync)
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			perItem(b, spanReqs)
			var i atomic.Int64
			b.SetParallelism(8) // 8 x GOMAXPROCS concurrent exporters
			b.ResetTimer()
			c0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := exportRaw(conn, traceMethod, spanReqs[i.Add(1)%int64(len(spanReqs))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// The rate of the exports alone, before the work they left (what the server can take in a burst),
			// then the rate including the flush and merges of what was acknowledged (what it can sustain).
			b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "burst-spans/s")
			settle()
			b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "spans/s")
			reportCPU(b, c0)
			b.ReportMetric(maxRSSMiB(), "peak-RSS-MiB")
		})
		b.Run("logs/grpc/sync="+sync, func(b *testing.B) {
			addr, settle := startServer(b, sync)
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			perItem(b, logReqs)
			var i atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			c0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := exportRaw(conn, logsMethod, logReqs[i.Add(1)%int64(len(logReqs))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// The rate of the exports alone, before the work they left (what the server can take in a burst),
			// then the rate including the flush and merges of what was acknowledged (what it can sustain).
			b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "burst-logs/s")
			settle()
			b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "logs/s")
			reportCPU(b, c0)
			b.ReportMetric(maxRSSMiB(), "peak-RSS-MiB")
		})
	}
}
