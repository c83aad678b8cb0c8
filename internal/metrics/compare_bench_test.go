package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

func freeAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPinned starts a server process on one CPU core (with taskset when it is installed) and stops it when
// the benchmark ends.
func startPinned(b *testing.B, core int, bin string, args ...string) {
	b.Helper()
	name, argv := bin, args
	if ts, err := exec.LookPath("taskset"); err == nil {
		name, argv = ts, append([]string{"-c", fmt.Sprint(core), bin}, args...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, argv...)
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
}

func waitHTTP(b *testing.B, url string) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s not ready after 30 s", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// BenchmarkSideBySide posts the same reference-workload OTLP/HTTP protobuf payloads to otlpd and to
// VictoriaMetrics, each its own process pinned to one core (otlpd to core 1, VictoriaMetrics to core 0), from
// two concurrent clients, and reports points/s for each. It runs only when OTLPD_VM_BIN names a
// victoria-metrics binary (app/victoria-metrics, OTLP at /opentelemetry/v1/metrics).
func BenchmarkSideBySide(b *testing.B) {
	vmBin := os.Getenv("OTLPD_VM_BIN")
	if vmBin == "" {
		b.Skip("set OTLPD_VM_BIN to a victoria-metrics binary to compare with it")
	}
	dir := b.TempDir()
	otlpdBin := filepath.Join(dir, "otlpd")
	if out, err := exec.Command("go", "build", "-o", otlpdBin, "github.com/otlpd/otlpd/cmd/otlpd").CombinedOutput(); err != nil {
		b.Fatalf("build otlpd: %v\n%s", err, out)
	}
	vmAddr, otlpAddr, uiAddr := freeAddr(b), freeAddr(b), freeAddr(b)
	startPinned(b, 0, vmBin, "-httpListenAddr="+vmAddr, "-storageDataPath="+filepath.Join(dir, "vm"), "-retentionPeriod=100y",
		"-loggerLevel=ERROR")
	startPinned(b, 1, otlpdBin, "serve", "--grpc-addr=127.0.0.1:0", "--http-addr="+otlpAddr, "--ui-addr="+uiAddr,
		"--data-dir="+filepath.Join(dir, "otlpd"))
	waitHTTP(b, "http://"+vmAddr+"/health")
	waitHTTP(b, "http://"+uiAddr+"/readyz")

	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	for _, target := range []struct{ name, url string }{
		{"otlpd", "http://" + otlpAddr + "/v1/metrics"},
		{"victoriametrics", "http://" + vmAddr + "/opentelemetry/v1/metrics"},
	} {
		next := 0 // the next interval to send: every run continues where the previous one stopped
		b.Run(target.name, func(b *testing.B) {
			post := func(p []byte) error {
				resp, err := http.Post(target.url, "application/x-protobuf", bytes.NewReader(p))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					return fmt.Errorf("%s: status %d", target.name, resp.StatusCode)
				}
				if target.name == "otlpd" {
					// Refused points would flatter the figure: require full success.
					body, _ := io.ReadAll(resp.Body)
					r := pmetricotlp.NewExportResponse()
					if err := r.UnmarshalProto(body); err != nil {
						return err
					}
					if n := r.PartialSuccess().RejectedDataPoints(); n > 0 {
						return fmt.Errorf("otlpd rejected %d points: %s", n, r.PartialSuccess().ErrorMessage())
					}
				}
				return nil
			}
			if next == 0 {
				// Series are created before the clock starts.
				for g := range groups {
					p, _ := pmetricotlp.NewExportRequestFromMetrics(workloadBatchAt(g, 0, base)).MarshalProto()
					if err := post(p); err != nil {
						b.Fatal(err)
					}
				}
				next = groups
			}
			bodies := make([][]byte, 0, b.N)
			for i := next; i < next+b.N; i++ {
				p, _ := pmetricotlp.NewExportRequestFromMetrics(workloadBatchAt(i%groups, i/groups, base)).MarshalProto()
				bodies = append(bodies, p)
			}
			next += b.N
			b.SetBytes(int64(len(bodies[0])))
			b.ResetTimer()
			queue := make(chan []byte, b.N)
			for _, p := range bodies {
				queue <- p
			}
			close(queue)
			errs := make(chan error, 2)
			for range 2 {
				go func() {
					for p := range queue {
						if err := post(p); err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for range 2 {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*pointsPerBatch)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
