package ui

// A small deterministic telemetry set for the browser tests: traces across six services with errors,
// exceptions, events and links, logs (half of them tied to spans, some with structured bodies), markup in
// attribute values, span names and log bodies, and optionally one very large trace. The tests send it to a
// real otlpd over OTLP.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// xssPayload is stored as an attribute value, a log body and a span name; the page must show it as text.
const xssPayload = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>`

type fxSpan struct {
	traceID, spanID, parentID [16]byte
	service, name             string
	kind                      ptrace.SpanKind
	start, end                time.Time
	err                       bool
	attrs                     map[string]any
	events                    []fxEvent
	links                     [][2][16]byte
}

type fxEvent struct {
	name  string
	at    time.Time
	attrs map[string]any
}

type fxLog struct {
	at       time.Time
	sev      plog.SeverityNumber
	sevText  string
	service  string
	body     any
	attrs    map[string]any
	traceID  [16]byte
	spanID   [16]byte
	hasTrace bool
}

type fixture struct {
	now      time.Time
	traces   map[string][]*fxSpan // hex trace ID -> spans
	order    []string             // trace IDs, newest first
	logs     []fxLog              // newest first
	bigTrace string
	xssTrace string
}

var fxServices = []string{"frontend", "checkout", "cart", "payment", "inventory", "postgres"}

var fxCalls = map[string][]string{
	"frontend":  {"checkout", "cart", "inventory"},
	"checkout":  {"payment", "cart", "postgres"},
	"cart":      {"postgres"},
	"payment":   {"postgres"},
	"inventory": {"postgres"},
}

var fxOps = map[string][]string{
	"frontend":  {"GET /", "GET /product/{id}", "POST /cart", "POST /checkout"},
	"checkout":  {"PlaceOrder", "ValidateOrder"},
	"cart":      {"GetCart", "AddItem"},
	"payment":   {"Charge"},
	"inventory": {"Reserve", "Lookup"},
	"postgres":  {"SELECT orders", "INSERT orders", "SELECT items"},
}

func fxID(r *rand.Rand) (id [16]byte) {
	binary.BigEndian.PutUint64(id[:8], r.Uint64())
	binary.BigEndian.PutUint64(id[8:], r.Uint64()|1)
	return id
}

func hex16(id [16]byte) string { return fmt.Sprintf("%x", id[:]) }
func hex8(id [16]byte) string  { return fmt.Sprintf("%x", id[:8]) }

func newFixture(seed uint64, now time.Time, bigSpans int) *fixture {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	f := &fixture{now: now, traces: map[string][]*fxSpan{}}
	const n = 80
	for i := 0; i < n; i++ {
		start := now.Add(-time.Duration(n-i) * 40 * time.Second).Add(time.Duration(r.IntN(20000)) * time.Millisecond)
		tid := fxID(r)
		var spans []*fxSpan
		var grow func(parent *fxSpan, service string, depth int, s, e time.Time)
		grow = func(parent *fxSpan, service string, depth int, s, e time.Time) {
			ops := fxOps[service]
			sp := &fxSpan{traceID: tid, spanID: fxID(r), service: service, name: ops[r.IntN(len(ops))], start: s, end: e,
				kind: ptrace.SpanKindServer, attrs: map[string]any{"http.request.method": "GET", "user.id": "u-" + strconv.Itoa(r.IntN(500))}}
			if parent != nil {
				sp.parentID = parent.spanID
			}
			if service == "postgres" {
				sp.kind = ptrace.SpanKindClient
				sp.attrs = map[string]any{"db.system.name": "postgresql", "db.query.text": "SELECT * FROM orders WHERE id = $1", "net.peer.port": int64(5432)}
			} else {
				sp.attrs["http.response.status_code"] = int64(200)
				sp.attrs["http.route"] = sp.name
			}
			if r.IntN(25) == 0 || (service == "payment" && r.IntN(4) == 0) {
				sp.err = true
				sp.attrs["http.response.status_code"] = int64(500)
				sp.events = append(sp.events, fxEvent{name: "exception", at: e.Add(-time.Millisecond), attrs: map[string]any{
					"exception.type": "PaymentDeclinedError", "exception.message": "card declined by issuer",
					"exception.stacktrace": "PaymentDeclinedError: card declined by issuer\n    at charge (payment/charge.go:88)\n    at handle (payment/server.go:41)\n    at serve (net/http/server.go:2220)"}})
			}
			if r.IntN(6) == 0 {
				sp.events = append(sp.events, fxEvent{name: "cache.miss", at: s.Add(e.Sub(s) / 3), attrs: map[string]any{"cache.key": "cart:" + strconv.Itoa(r.IntN(99))}})
			}
			spans = append(spans, sp)
			kids := fxCalls[service]
			if depth > 3 || len(kids) == 0 {
				return
			}
			cur := s.Add(e.Sub(s) / 20)
			for k := 0; k < 1+r.IntN(3); k++ {
				child := kids[r.IntN(len(kids))]
				d := time.Duration(float64(e.Sub(cur)) * (0.2 + 0.5*r.Float64()))
				if d <= 0 || cur.Add(d).After(e) {
					break
				}
				grow(sp, child, depth+1, cur, cur.Add(d))
				cur = cur.Add(d + time.Duration(r.IntN(3))*time.Millisecond)
			}
		}
		dur := time.Duration(math.Exp(3.5+r.NormFloat64()*0.7)) * time.Millisecond
		grow(nil, "frontend", 0, start, start.Add(dur))
		if i%9 == 4 { // a link to the previous trace
			prev := f.order[0]
			spans[0].links = append(spans[0].links, [2][16]byte{f.traces[prev][0].traceID, f.traces[prev][0].spanID})
		}
		id := hex16(tid)
		f.traces[id] = spans
		f.order = append([]string{id}, f.order...)
	}
	// the trace whose attribute carries markup
	x := f.traces[f.order[3]]
	x[0].attrs["user.agent"] = xssPayload
	x[len(x)-1].name = xssPayload
	f.xssTrace = f.order[3]
	// logs: half carry the trace and span of a stored span
	sevs := []struct {
		n    plog.SeverityNumber
		text string
		w    int
	}{{plog.SeverityNumberDebug, "DEBUG", 20}, {plog.SeverityNumberInfo, "INFO", 60}, {plog.SeverityNumberWarn, "WARN", 12}, {plog.SeverityNumberError, "ERROR", 7}, {plog.SeverityNumberFatal, "FATAL", 1}}
	msgs := []string{"request served in %dms", "cache miss for key cart:%d", "retrying upstream call, attempt %d", "order %d placed", "slow query took %dms"}
	for i := 0; i < 600; i++ {
		w := r.IntN(100)
		sv := sevs[0]
		for _, s := range sevs {
			if w < s.w {
				sv = s
				break
			}
			w -= s.w
		}
		l := fxLog{at: now.Add(-time.Duration(r.IntN(55*60*1000)) * time.Millisecond), sev: sv.n, sevText: sv.text,
			service: fxServices[r.IntN(len(fxServices))], attrs: map[string]any{"code.function": "handle", "thread.id": int64(r.IntN(16))}}
		l.body = fmt.Sprintf(msgs[r.IntN(len(msgs))], r.IntN(900))
		if i%10 == 0 {
			l.body = map[string]any{"event": "order.placed", "order": map[string]any{"id": int64(r.IntN(99999)), "items": []any{"sku-1", "sku-2"}, "total": 42.5}}
		}
		if i%2 == 0 {
			t := f.traces[f.order[r.IntN(len(f.order))]]
			sp := t[r.IntN(len(t))]
			l.traceID, l.spanID, l.hasTrace, l.service, l.at = sp.traceID, sp.spanID, true, sp.service, sp.start.Add(sp.end.Sub(sp.start)/2)
		}
		f.logs = append(f.logs, l)
	}
	// logs of the xss trace, one of them with markup in its body
	xs := f.traces[f.xssTrace][0]
	f.logs = append(f.logs, fxLog{at: xs.start.Add(time.Millisecond), sev: plog.SeverityNumberError, sevText: "ERROR", service: xs.service, body: xssPayload,
		attrs: map[string]any{"note": xssPayload}, traceID: xs.traceID, spanID: xs.spanID, hasTrace: true})
	sort.Slice(f.logs, func(i, j int) bool { return f.logs[i].at.After(f.logs[j].at) })
	if bigSpans > 0 {
		f.bigTrace = f.addBigTrace(r, bigSpans)
	}
	return f
}

// addBigTrace adds one trace of n spans: a root with fan-out 50, each child with fan-out 20, and so on.
func (f *fixture) addBigTrace(r *rand.Rand, n int) string {
	tid := fxID(r)
	start := f.now.Add(-90 * time.Second)
	total := 30 * time.Second
	spans := make([]*fxSpan, 0, n)
	root := &fxSpan{traceID: tid, spanID: fxID(r), service: "frontend", name: "POST /batch", kind: ptrace.SpanKindServer, start: start, end: start.Add(total), attrs: map[string]any{"batch.size": int64(n)}}
	spans = append(spans, root)
	for i := 1; len(spans) < n; i++ {
		parent := spans[(i-1)/20]
		if i <= 50 {
			parent = root
		} else {
			parent = spans[1+(i-51)/20%max(1, len(spans)-1)]
		}
		pd := parent.end.Sub(parent.start)
		s := parent.start.Add(time.Duration(r.Float64() * float64(pd) * 0.7))
		e := s.Add(time.Duration(r.Float64() * float64(parent.end.Sub(s))))
		svc := fxServices[1+r.IntN(len(fxServices)-1)]
		ops := fxOps[svc]
		spans = append(spans, &fxSpan{traceID: tid, spanID: fxID(r), parentID: parent.spanID, service: svc, name: ops[r.IntN(len(ops))], kind: ptrace.SpanKindInternal,
			start: s, end: e, err: r.IntN(200) == 0, attrs: map[string]any{"item": int64(i)}})
	}
	id := hex16(tid)
	f.traces[id] = spans
	return id
}

func putAttrs(m pcommon.Map, attrs map[string]any) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		_ = m.PutEmpty(k).FromRaw(attrs[k])
	}
}

func resourceFor(res pcommon.Resource, service string) {
	a := res.Attributes()
	a.PutStr("service.name", service)
	a.PutStr("service.version", "1.4.2")
	a.PutStr("host.name", service+"-7f9c")
	a.PutStr("deployment.environment.name", "staging")
}

func tracesPdata(spans []*fxSpan) ptrace.Traces {
	td := ptrace.NewTraces()
	by := map[string]ptrace.SpanSlice{}
	for _, s := range spans {
		ss, ok := by[s.service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			resourceFor(rs.Resource(), s.service)
			sc := rs.ScopeSpans().AppendEmpty()
			sc.Scope().SetName("otlpd.fixture/" + s.service)
			sc.Scope().SetVersion("0.1.0")
			ss = sc.Spans()
			by[s.service] = ss
		}
		sp := ss.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(s.traceID))
		sp.SetSpanID(pcommon.SpanID(s.spanID[:8]))
		if s.parentID != ([16]byte{}) {
			sp.SetParentSpanID(pcommon.SpanID(s.parentID[:8]))
		}
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.end))
		putAttrs(sp.Attributes(), s.attrs)
		if s.err {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage("upstream failed")
		}
		for _, e := range s.events {
			ev := sp.Events().AppendEmpty()
			ev.SetName(e.name)
			ev.SetTimestamp(pcommon.NewTimestampFromTime(e.at))
			putAttrs(ev.Attributes(), e.attrs)
		}
		for _, l := range s.links {
			ln := sp.Links().AppendEmpty()
			ln.SetTraceID(pcommon.TraceID(l[0]))
			ln.SetSpanID(pcommon.SpanID(l[1][:8]))
		}
	}
	return td
}

func logsPdata(logs []fxLog) plog.Logs {
	ld := plog.NewLogs()
	for _, l := range logs {
		rl := ld.ResourceLogs().AppendEmpty()
		resourceFor(rl.Resource(), l.service)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("otlpd.fixture/logs")
		rec := sl.LogRecords().AppendEmpty()
		rec.SetTimestamp(pcommon.NewTimestampFromTime(l.at))
		rec.SetObservedTimestamp(pcommon.NewTimestampFromTime(l.at.Add(time.Millisecond)))
		rec.SetSeverityNumber(l.sev)
		rec.SetSeverityText(l.sevText)
		_ = rec.Body().FromRaw(l.body)
		putAttrs(rec.Attributes(), l.attrs)
		if l.hasTrace {
			rec.SetTraceID(pcommon.TraceID(l.traceID))
			rec.SetSpanID(pcommon.SpanID(l.spanID[:8]))
		}
	}
	return ld
}

func (f *fixture) rootOf(id string) *fxSpan {
	for _, s := range f.traces[id] {
		if s.parentID == ([16]byte{}) {
			return s
		}
	}
	return f.traces[id][0]
}
