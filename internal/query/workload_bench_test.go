package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage/memory"
)

// The workload benchmarks store a reference-like workload (docs: reference workload; 20 services, traces of
// 2-20 spans crossing services, ~8 attributes per span from semantic conventions, 2% errors) spread over one
// hour, OTLPD_BENCH_SPANS spans (default 1,000,000), in the memory backend, then time the queries the UI
// makes over that hour.

var (
	workloadOnce  sync.Once
	workloadStore *memory.Store
	workloadSpans int
)

func workload(b *testing.B) *Querier {
	workloadOnce.Do(func() {
		n := 1_000_000
		if s := os.Getenv("OTLPD_BENCH_SPANS"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		workloadStore = memory.New(memory.Options{MaxSpans: n + 1})
		rng := rand.New(rand.NewPCG(42, 42))
		services := make([]string, 20)
		for i := range services {
			services[i] = fmt.Sprintf("svc-%02d", i)
		}
		written, trace := 0, 0
		for written < n {
			td := ptrace.NewTraces()
			for td.SpanCount() < 512 && written < n {
				trace++
				size := min(2+rng.IntN(19), n-written)
				at := base.Add(time.Duration(float64(written) / float64(n) * float64(time.Hour)))
				var tidb pcommon.TraceID
				for i := range tidb {
					tidb[i] = byte(rng.Uint32())
				}
				type spanInfo struct {
					svc        int
					start, end time.Time
				}
				infos := make([]spanInfo, size)
				for i := range size {
					rs := td.ResourceSpans().AppendEmpty()
					svc := rng.IntN(len(services))
					if i == 0 {
						infos[i] = spanInfo{svc, at, at.Add(time.Duration(math.Exp(rng.NormFloat64()+3) * float64(time.Millisecond)))}
					} else {
						p := infos[rng.IntN(i)]
						if rng.IntN(3) == 0 {
							svc = p.svc
						}
						d := p.end.Sub(p.start)
						st := p.start.Add(time.Duration(rng.Int64N(int64(d)/2 + 1)))
						infos[i] = spanInfo{svc, st, st.Add(time.Duration(rng.Int64N(int64(d)/2 + 1)))}
					}
					ra := rs.Resource().Attributes()
					ra.PutStr("service.name", services[infos[i].svc])
					ra.PutStr("service.instance.id", strconv.Itoa(rng.IntN(5)))
					ra.PutStr("host.name", "host-"+strconv.Itoa(infos[i].svc))
					sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
					sp.SetTraceID(tidb)
					sp.SetSpanID(pcommon.SpanID{byte(i), byte(trace), byte(trace >> 8), byte(trace >> 16), byte(trace >> 24), 1, 2, 3})
					if i > 0 {
						sp.SetParentSpanID(pcommon.SpanID{byte(rng.IntN(i)), byte(trace), byte(trace >> 8), byte(trace >> 16), byte(trace >> 24), 1, 2, 3})
					}
					sp.SetKind([]ptrace.SpanKind{ptrace.SpanKindServer, ptrace.SpanKindClient, ptrace.SpanKindInternal}[min(i, 1+rng.IntN(2))])
					route := rng.IntN(40)
					sp.SetName(fmt.Sprintf("GET /api/v1/route%d", route))
					sp.SetStartTimestamp(pcommon.NewTimestampFromTime(infos[i].start))
					sp.SetEndTimestamp(pcommon.NewTimestampFromTime(infos[i].end))
					a := sp.Attributes()
					a.PutStr("http.request.method", []string{"GET", "POST", "PUT", "DELETE", "PATCH"}[rng.IntN(5)])
					a.PutStr("http.route", fmt.Sprintf("/api/v1/route%d", route))
					a.PutStr("url.path", fmt.Sprintf("/api/v1/route%d/%d", route, rng.IntN(1_000_000)))
					code := int64(200)
					if rng.IntN(50) == 0 {
						code = 500
						sp.Status().SetCode(ptrace.StatusCodeError)
					} else if rng.IntN(20) == 0 {
						code = 404
					}
					a.PutInt("http.response.status_code", code)
					a.PutStr("server.address", services[infos[i].svc]+".internal")
					a.PutStr("user.id", strconv.Itoa(rng.IntN(10_000)))
					a.PutInt("net.peer.port", int64(1024+rng.IntN(60000)))
					a.PutStr("rpc.method", "Method"+strconv.Itoa(rng.IntN(20)))
				}
				written += size
			}
			if err := workloadStore.WriteSpans(context.Background(), td); err != nil {
				panic(err)
			}
		}
		workloadSpans = written
	})
	return New(workloadStore, workloadStore, Options{Now: func() time.Time { return base.Add(time.Hour) }, Timeout: 10 * time.Minute})
}

var hour = TimeRange{Start: base, End: base.Add(time.Hour)}

func BenchmarkWorkloadSearchAttr(b *testing.B) {
	q := workload(b)
	b.ResetTimer()
	for b.Loop() {
		res, err := q.SearchTraces(context.Background(), TraceSearch{TimeRange: hour,
			Filter: `http.route = "/api/v1/route7" and http.response.status_code >= 500`, Limit: 20})
		if err != nil || len(res.Traces) == 0 {
			b.Fatal(err, len(res.Traces))
		}
	}
}

func BenchmarkWorkloadRED1h(b *testing.B) {
	q := workload(b)
	b.ResetTimer()
	for b.Loop() {
		res, err := q.RED(context.Background(), REDQuery{TimeRange: hour, Step: time.Minute, ByOperation: true})
		if err != nil || len(res.Series) == 0 || res.Truncated {
			b.Fatal(err, len(res.Series), res.Truncated)
		}
	}
}

func BenchmarkWorkloadDependencies1h(b *testing.B) {
	q := workload(b)
	b.ResetTimer()
	for b.Loop() {
		g, err := q.Dependencies(context.Background(), hour)
		if err != nil || len(g.Edges) == 0 || g.Truncated {
			b.Fatal(err, len(g.Edges), g.Truncated)
		}
	}
}
