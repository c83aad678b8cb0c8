package metricstest

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const prometheusBin = "/usr/bin/prometheus"

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPrometheus runs a Prometheus server that scrapes otlpd's /federate every 250 ms and returns its URL.
func startPrometheus(t *testing.T, otlpdAddr string) string {
	t.Helper()
	if _, err := os.Stat(prometheusBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (Debian package prometheus); CI must install it", prometheusBin)
		}
		t.Skipf("%s is not installed (Debian package prometheus): skipping the comparison with a real Prometheus", prometheusBin)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 250ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: otlpd
    honor_labels: true
    honor_timestamps: true
    metrics_path: /federate
    params:
      'match[]': ['{job="checkout"}']
    static_configs:
      - targets: ['%s']
`, otlpdAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prometheusBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--enable-feature=native-histograms",
		"--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30 s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// round builds one export of the checkout service at time now: a counter, a gauge, a classic histogram and
// an exponential histogram, for two instances and two routes.
func round(i int, start, now time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for inst, name := range []string{"a", "b"} {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "checkout")
		rm.Resource().Attributes().PutStr("service.instance.id", name)
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		c := ms.AppendEmpty()
		c.SetName("requests")
		s := c.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for r, route := range []string{"/a", "/b"} {
			p := s.DataPoints().AppendEmpty()
			p.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			p.SetTimestamp(pcommon.NewTimestampFromTime(now))
			p.SetDoubleValue(float64(i*i*(r+1)) + float64(inst*i))
			p.Attributes().PutStr("route", route)
		}
		g := ms.AppendEmpty()
		g.SetName("queue")
		gp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		gp.SetTimestamp(pcommon.NewTimestampFromTime(now))
		gp.SetDoubleValue(float64((i*7+inst)%5) + 0.5)
		h := ms.AppendEmpty()
		h.SetName("latency")
		h.SetUnit("s")
		hh := h.SetEmptyHistogram()
		hh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		hp := hh.DataPoints().AppendEmpty()
		hp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		hp.SetTimestamp(pcommon.NewTimestampFromTime(now))
		hp.ExplicitBounds().FromRaw([]float64{0.1, 0.5, 1})
		n := uint64(i)
		hp.BucketCounts().FromRaw([]uint64{n * 2, n * n, n * uint64(inst+1), n})
		hp.SetCount(n*2 + n*n + n*uint64(inst+1) + n)
		hp.SetSum(float64(n) * 3.25)
		e := ms.AppendEmpty()
		e.SetName("rpc")
		e.SetUnit("s")
		eh := e.SetEmptyExponentialHistogram()
		eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		ep := eh.DataPoints().AppendEmpty()
		ep.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		ep.SetTimestamp(pcommon.NewTimestampFromTime(now))
		ep.SetScale(2)
		ep.Positive().SetOffset(-3)
		ep.Positive().BucketCounts().FromRaw([]uint64{n, 2 * n, n * n, n})
		ep.SetZeroCount(n)
		ep.SetCount(n + 2*n + n*n + n + n)
		ep.SetSum(float64(n) * 2.5)
	}
	return md
}

func TestAgainstPrometheus(t *testing.T) {
	h := Start(t)
	prom := startPrometheus(t, strings.TrimPrefix(h.APIURL, "http://"))
	ctx := context.Background()
	// Prometheus starts scraping a few seconds after it is ready (target updates are batched): wait for the
	// first scrape so that it sees every round.
	waitFor(t, 20*time.Second, func() bool {
		res, err := Query(ctx, prom, `up{job="otlpd"}`, time.Now())
		v, _ := res.Vector()
		return err == nil && len(v) == 1 && v[0].Float() == 1
	})
	start := time.Now().Add(-time.Second).Truncate(time.Second)
	var last time.Time
	const rounds = 10
	check := `count_over_time(requests_total{instance="a",route="/a"}[1m])`
	for i := 1; i <= rounds; i++ {
		last = start.Add(time.Duration(i) * time.Second)
		if d := time.Until(last); d > 0 {
			time.Sleep(d)
		}
		if err := h.Store.ConsumeMetrics(ctx, round(i, start, last)); err != nil {
			t.Fatal(err)
		}
		// Federation exposes only the newest sample of a series: wait for Prometheus to scrape this round
		// before writing the next, so that a slow scrape on a loaded machine cannot miss one.
		deadline := time.Now().Add(20 * time.Second)
		for {
			res, err := Query(ctx, prom, check, time.Now())
			if err == nil {
				if v, _ := res.Vector(); len(v) == 1 && v[0].Float() == float64(i) {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus did not scrape round %d in time (last answer: %s %v)", i, res.Result, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Windows are not multiples of the 1 s spacing: Prometheus 3 (otlpd's engine) selects left-open ranges
	// where Prometheus 2 (the Debian package) selects closed ones, so a sample exactly on the left edge would
	// count in one and not the other.
	queries := []string{
		`requests_total`,
		`sum by (route) (rate(requests_total[5500ms]))`,
		`increase(requests_total{route="/a"}[8500ms])`,
		`sum by (instance) (queue)`,
		`max_over_time(queue[10500ms])`,
		`histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5500ms])))`,
		`histogram_quantile(0.5, sum by (le, instance) (latency_seconds_bucket))`,
		`histogram_count(sum(rpc_seconds))`,
		`histogram_sum(rate(rpc_seconds[5500ms]))`,
		`histogram_count(rate(rpc_seconds[5500ms]))`,
		`topk(1, requests_total)`,
		`requests_total offset 3s`,
	}
	for _, q := range queries {
		want := vectorMap(t, prom, q, last)
		got := vectorMap(t, h.APIURL, q, last)
		if len(want) == 0 {
			t.Errorf("%s: Prometheus returned nothing", q)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: otlpd %v, Prometheus %v", q, got, want)
			continue
		}
		for k, w := range want {
			g, ok := got[k]
			if !ok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("%s %s: otlpd %v, Prometheus %v", q, k, g, w)
			}
		}
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// vectorMap runs an instant query and keys its samples by their labels, dropping the labels that only the
// scraping Prometheus adds.
func vectorMap(t *testing.T, base, q string, ts time.Time) map[string]float64 {
	t.Helper()
	res, err := Query(context.Background(), base, q, ts)
	if err != nil {
		t.Fatalf("%s at %s: %v", q, base, err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := map[string]float64{}
	for _, s := range v {
		keys := make([]string, 0, len(s.Metric))
		for k, val := range s.Metric {
			keys = append(keys, k+"="+val)
		}
		sort.Strings(keys)
		out[strings.Join(keys, ",")] = s.Float()
	}
	return out
}
