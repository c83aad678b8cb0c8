package otlp

import (
	"fmt"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// A deterministic generator of the reference workload's shape (a subset: enough for benchmarks and fuzz
// seeds): resources with ~10 attributes, spans and logs with ~10 attributes, metric points with a few.

var (
	workloadServices = []string{"checkout", "cart", "payment", "shipping", "catalog"}
	workloadMethods  = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	workloadRoutes   = []string{"/api/cart/{id}", "/api/checkout", "/api/items/{id}", "/api/users/{id}/orders", "/healthz"}
)

func fillResource(res pcommon.Resource, rng *rand.Rand, svc int) {
	a := res.Attributes()
	a.PutStr("service.name", workloadServices[svc%len(workloadServices)])
	a.PutStr("service.namespace", "shop")
	a.PutStr("service.version", "1.4.2")
	a.PutStr("service.instance.id", fmt.Sprintf("%s-%d", workloadServices[svc%len(workloadServices)], rng.IntN(5)))
	a.PutStr("host.name", fmt.Sprintf("node-%02d", rng.IntN(20)))
	a.PutStr("host.arch", "amd64")
	a.PutStr("os.type", "linux")
	a.PutInt("process.pid", int64(1000+rng.IntN(30000)))
	a.PutStr("telemetry.sdk.name", "opentelemetry")
	a.PutStr("deployment.environment.name", "production")
}

func randomID(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[0] |= 1 // never all zeros
}

// genTraces returns n spans over a few resources, seeded.
func genTraces(seed uint64, n int) ptrace.Traces {
	rng := rand.New(rand.NewPCG(seed, 1))
	td := ptrace.NewTraces()
	perResource := max(n/4, 1)
	start := pcommon.Timestamp(1_700_000_000_000_000_000)
	for made := 0; made < n; {
		rs := td.ResourceSpans().AppendEmpty()
		fillResource(rs.Resource(), rng, td.ResourceSpans().Len())
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
		ss.Scope().SetVersion("0.60.0")
		var tid pcommon.TraceID
		for i := 0; i < perResource && made < n; i++ {
			s := ss.Spans().AppendEmpty()
			if i%10 == 0 {
				randomID(rng, tid[:])
			}
			var sid pcommon.SpanID
			randomID(rng, sid[:])
			s.SetTraceID(tid)
			s.SetSpanID(sid)
			if i%10 != 0 {
				var pid pcommon.SpanID
				randomID(rng, pid[:])
				s.SetParentSpanID(pid)
			}
			route := workloadRoutes[rng.IntN(len(workloadRoutes))]
			method := workloadMethods[rng.IntN(len(workloadMethods))]
			s.SetName(method + " " + route)
			s.SetKind(ptrace.SpanKind(1 + rng.IntN(3)))
			st := start + pcommon.Timestamp(made)*1_000_000
			s.SetStartTimestamp(st)
			s.SetEndTimestamp(st + pcommon.Timestamp(rng.IntN(50_000_000)))
			a := s.Attributes()
			a.PutStr("http.request.method", method)
			a.PutStr("http.route", route)
			a.PutStr("url.path", fmt.Sprintf("/api/items/%d", rng.IntN(100000)))
			a.PutInt("http.response.status_code", int64([]int{200, 200, 200, 201, 404, 500}[rng.IntN(6)]))
			a.PutStr("server.address", "shop.example.com")
			a.PutStr("user.id", fmt.Sprintf("user-%d", rng.IntN(10000)))
			a.PutStr("db.system.name", "postgresql")
			a.PutStr("db.query.text", "SELECT id, name, price FROM items WHERE id = $1")
			a.PutInt("net.peer.port", int64(5432))
			a.PutStr("rpc.method", "GetItem")
			if rng.IntN(50) == 0 {
				s.Status().SetCode(ptrace.StatusCodeError)
				e := s.Events().AppendEmpty()
				e.SetName("exception")
				e.SetTimestamp(st + 1000)
				e.Attributes().PutStr("exception.type", "io.EOF")
				e.Attributes().PutStr("exception.message", "unexpected end of stream")
			}
			made++
		}
	}
	return td
}

var logTemplates = []string{
	"user %d logged in from 10.0.%d.%d",
	"order %d placed with %d items",
	"cache miss for key item:%d (shard %d, ttl %d)",
	"request to /api/items/%d took %dms (retry %d)",
}

// genLogs returns n log records over a few resources, seeded.
func genLogs(seed uint64, n int) plog.Logs {
	rng := rand.New(rand.NewPCG(seed, 2))
	ld := plog.NewLogs()
	perResource := max(n/4, 1)
	for made := 0; made < n; {
		rl := ld.ResourceLogs().AppendEmpty()
		fillResource(rl.Resource(), rng, ld.ResourceLogs().Len())
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("app/logger")
		for i := 0; i < perResource && made < n; i++ {
			lr := sl.LogRecords().AppendEmpty()
			ts := pcommon.Timestamp(1_700_000_000_000_000_000 + int64(made)*1_000_000)
			lr.SetTimestamp(ts)
			lr.SetObservedTimestamp(ts + 10)
			sev := []plog.SeverityNumber{9, 9, 9, 5, 13, 17}[rng.IntN(6)]
			lr.SetSeverityNumber(sev)
			lr.SetSeverityText(sev.String())
			lr.Body().SetStr(fmt.Sprintf(logTemplates[rng.IntN(len(logTemplates))], rng.IntN(100000), rng.IntN(256), rng.IntN(256)))
			if rng.IntN(2) == 0 {
				var tid pcommon.TraceID
				var sid pcommon.SpanID
				randomID(rng, tid[:])
				randomID(rng, sid[:])
				lr.SetTraceID(tid)
				lr.SetSpanID(sid)
			}
			a := lr.Attributes()
			a.PutStr("code.function", "main.handleRequest")
			a.PutStr("code.filepath", "/src/app/handler.go")
			a.PutInt("code.lineno", int64(rng.IntN(400)))
			a.PutInt("thread.id", int64(rng.IntN(64)))
			a.PutStr("user.id", fmt.Sprintf("user-%d", rng.IntN(10000)))
			a.PutStr("http.route", workloadRoutes[rng.IntN(len(workloadRoutes))])
			a.PutStr("http.request.method", workloadMethods[rng.IntN(len(workloadMethods))])
			a.PutBool("retry", rng.IntN(10) == 0)
			a.PutDouble("duration_ms", rng.Float64()*100)
			a.PutStr("session.id", fmt.Sprintf("%016x", rng.Uint64()))
			made++
		}
	}
	return ld
}

var defaultBounds = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}

// genMetrics returns n points (sums, gauges and histograms) over a few resources, seeded.
func genMetrics(seed uint64, n int) pmetric.Metrics {
	rng := rand.New(rand.NewPCG(seed, 3))
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	fillResource(rm.Resource(), rng, 0)
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("app/metrics")
	ts := pcommon.Timestamp(1_700_000_000_000_000_000)
	const perMetric = 50
	for made, mi := 0, 0; made < n; mi++ {
		m := sm.Metrics().AppendEmpty()
		var addAttrs func() pcommon.Map
		switch mi % 3 {
		case 0:
			m.SetName(fmt.Sprintf("http.server.requests.%d", mi))
			m.SetUnit("{request}")
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			addAttrs = func() pcommon.Map {
				dp := s.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(ts - 10_000_000_000)
				dp.SetTimestamp(ts)
				dp.SetIntValue(int64(rng.IntN(1_000_000)))
				return dp.Attributes()
			}
		case 1:
			m.SetName(fmt.Sprintf("process.memory.usage.%d", mi))
			m.SetUnit("By")
			g := m.SetEmptyGauge()
			addAttrs = func() pcommon.Map {
				dp := g.DataPoints().AppendEmpty()
				dp.SetTimestamp(ts)
				dp.SetDoubleValue(rng.Float64() * 1e9)
				return dp.Attributes()
			}
		case 2:
			m.SetName(fmt.Sprintf("http.server.request.duration.%d", mi))
			m.SetUnit("ms")
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			addAttrs = func() pcommon.Map {
				dp := h.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(ts - 10_000_000_000)
				dp.SetTimestamp(ts)
				dp.ExplicitBounds().FromRaw(defaultBounds)
				counts := make([]uint64, len(defaultBounds)+1)
				var total uint64
				for i := range counts {
					counts[i] = uint64(rng.IntN(100))
					total += counts[i]
				}
				dp.BucketCounts().FromRaw(counts)
				dp.SetCount(total)
				dp.SetSum(float64(total) * 42.5)
				return dp.Attributes()
			}
		}
		for i := 0; i < perMetric && made < n; i++ {
			a := addAttrs()
			a.PutStr("http.route", workloadRoutes[rng.IntN(len(workloadRoutes))])
			a.PutInt("http.response.status_code", int64([]int{200, 404, 500}[rng.IntN(3)]))
			a.PutStr("http.request.method", workloadMethods[rng.IntN(len(workloadMethods))])
			made++
		}
	}
	return md
}
