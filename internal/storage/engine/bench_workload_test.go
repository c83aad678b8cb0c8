package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// benchTraces approximates the reference workload (20 services x 5 instances, ~10 attributes per span,
// traces of ~10 spans) for the engine's own benchmarks.
func benchTraces(seed int64, batches, per int) []ptrace.Traces {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() + seed*int64(time.Second)
	return benchTracesAt(seed, batches, per, t0, 100_000)
}

// benchTracesAt is benchTraces with the first start time t0 and step nanoseconds between spans.
func benchTracesAt(seed int64, batches, per int, t0, step int64) []ptrace.Traces {
	r := rand.New(rand.NewPCG(uint64(seed), 9))
	var out []ptrace.Traces
	for range batches {
		td := ptrace.NewTraces()
		for n := 0; n < per; {
			svc := r.IntN(20)
			inst := r.IntN(5)
			rs := td.ResourceSpans().AppendEmpty()
			benchResource(rs.Resource().Attributes(), svc, inst)
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
			ss.Scope().SetVersion("0.60.0")
			var tid [16]byte
			for i := range tid {
				tid[i] = byte(r.Uint32())
			}
			k := min(per-n, 2+r.IntN(17))
			var parent [8]byte
			start := t0 + int64(n)*step
			for j := range k {
				sp := ss.Spans().AppendEmpty()
				sp.SetTraceID(tid)
				var sid [8]byte
				for i := range sid {
					sid[i] = byte(r.Uint32())
				}
				sp.SetSpanID(sid)
				if j > 0 {
					sp.SetParentSpanID(parent)
				}
				parent = sid
				route := r.IntN(40)
				sp.SetName(fmt.Sprintf("GET /api/v1/route%d/{id}", route))
				sp.SetKind(ptrace.SpanKind(1 + r.IntN(3)))
				st := start + int64(j)*50_000
				sp.SetStartTimestamp(pcommon.Timestamp(st))
				sp.SetEndTimestamp(pcommon.Timestamp(st + int64(r.ExpFloat64()*5e6)))
				a := sp.Attributes()
				a.PutStr("http.request.method", []string{"GET", "POST", "PUT", "DELETE", "PATCH"}[r.IntN(5)])
				a.PutStr("http.route", fmt.Sprintf("/api/v1/route%d/{id}", route))
				a.PutStr("url.path", fmt.Sprintf("/api/v1/route%d/%d", route, r.IntN(100000)))
				code := 200
				if r.IntN(20) == 0 {
					code = 500
				}
				a.PutInt("http.response.status_code", int64(code))
				a.PutStr("server.address", fmt.Sprintf("svc%d.internal", svc))
				a.PutStr("user.id", fmt.Sprintf("user-%d", r.IntN(10000)))
				a.PutInt("net.peer.port", int64(30000+r.IntN(1000)))
				if r.IntN(3) == 0 {
					a.PutStr("db.system.name", "postgresql")
					a.PutStr("db.query.text", fmt.Sprintf("SELECT * FROM t%d WHERE id = %d", r.IntN(60), r.IntN(1e6)))
				}
				a.PutStr("rpc.method", fmt.Sprintf("Method%d", r.IntN(30)))
				if code == 500 {
					sp.Status().SetCode(ptrace.StatusCodeError)
					ev := sp.Events().AppendEmpty()
					ev.SetName("exception")
					ev.SetTimestamp(pcommon.Timestamp(st + 1000))
					ev.Attributes().PutStr("exception.type", "io.TimeoutError")
					ev.Attributes().PutStr("exception.stacktrace", strings.Repeat("at some.function(file.go:123)\n", 20))
				}
			}
			n += k
		}
		out = append(out, td)
		t0 += int64(per) * step
	}
	return out
}

func benchResource(m pcommon.Map, svc, inst int) {
	m.PutStr("service.name", fmt.Sprintf("service-%d", svc))
	m.PutStr("service.namespace", "shop")
	m.PutStr("service.version", "1.4.2")
	m.PutStr("service.instance.id", fmt.Sprintf("svc%d-inst%d", svc, inst))
	m.PutStr("host.name", fmt.Sprintf("node-%d", (svc*5+inst)%17))
	m.PutStr("host.arch", "amd64")
	m.PutStr("os.type", "linux")
	m.PutInt("process.pid", int64(1000+svc*10+inst))
	m.PutStr("telemetry.sdk.name", "opentelemetry")
	m.PutStr("deployment.environment.name", "production")
}

func benchLogs(seed int64, batches, per int) []plog.Logs {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() + seed*int64(time.Second)
	return benchLogsAt(seed, batches, per, t0, 100_000)
}

func benchLogsAt(seed int64, batches, per int, t0, step int64) []plog.Logs {
	r := rand.New(rand.NewPCG(uint64(seed), 10))
	var out []plog.Logs
	for range batches {
		ld := plog.NewLogs()
		for n := 0; n < per; {
			rl := ld.ResourceLogs().AppendEmpty()
			svc := r.IntN(20)
			benchResource(rl.Resource().Attributes(), svc, r.IntN(5))
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("app")
			k := min(per-n, 1+r.IntN(32))
			for range k {
				rec := sl.LogRecords().AppendEmpty()
				ts := t0 + int64(n)*step
				rec.SetTimestamp(pcommon.Timestamp(ts))
				rec.SetObservedTimestamp(pcommon.Timestamp(ts + int64(r.IntN(1000000))))
				sev := []plog.SeverityNumber{9, 9, 9, 5, 13, 17}[r.IntN(6)]
				rec.SetSeverityNumber(sev)
				rec.SetSeverityText(sev.String())
				if r.IntN(10) == 0 {
					m := rec.Body().SetEmptyMap()
					m.PutStr("event", "order.paid")
					m.PutInt("amount", int64(r.IntN(10000)))
				} else {
					rec.Body().SetStr(fmt.Sprintf("request %d for /api/v1/route%d/%d completed in %d ms by user-%d (template %d)",
						r.IntN(1e6), r.IntN(40), r.IntN(1e5), r.IntN(900), r.IntN(10000), r.IntN(50)))
				}
				a := rec.Attributes()
				a.PutStr("code.function", fmt.Sprintf("handler%d", r.IntN(50)))
				a.PutStr("code.filepath", fmt.Sprintf("/src/app/h%d.go", r.IntN(50)))
				a.PutInt("thread.id", int64(r.IntN(64)))
				a.PutStr("user.id", fmt.Sprintf("user-%d", r.IntN(10000)))
				a.PutStr("http.route", fmt.Sprintf("/api/v1/route%d/{id}", r.IntN(40)))
				if r.IntN(2) == 0 {
					var tid [16]byte
					for i := range tid {
						tid[i] = byte(r.Uint32())
					}
					rec.SetTraceID(tid)
					rec.SetSpanID([8]byte{byte(r.Uint32()), 2, 3, 4, 5, 6, 7, 8})
				}
				n++
			}
		}
		out = append(out, ld)
		t0 += int64(per) * step
	}
	return out
}
