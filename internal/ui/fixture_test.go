package ui

// A small deterministic telemetry set and the read API shapes the interface consumes, served from memory.
// It lets the browser tests run the interface end to end while no storage-backed API is wired in.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
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

func tracesJSON(spans []*fxSpan) []byte {
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(tracesPdata(spans))
	if err != nil {
		panic("BUG: marshal fixture traces: " + err.Error())
	}
	return b
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

func logsJSON(logs []fxLog) []byte {
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(logsPdata(logs))
	if err != nil {
		panic("BUG: marshal fixture logs: " + err.Error())
	}
	return b
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

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// msParam reads a time parameter in Unix milliseconds, as the native API takes it.
func msParam(r *http.Request, k string, def time.Time) time.Time {
	v, err := strconv.ParseInt(r.URL.Query().Get(k), 10, 64)
	if err != nil {
		return def
	}
	return time.UnixMilli(v)
}

func pct(ds []float64, q float64) float64 {
	if len(ds) == 0 {
		return math.NaN()
	}
	slices.Sort(ds)
	return ds[int(math.Min(float64(len(ds)-1), math.Floor(q*float64(len(ds)))))]
}

func (f *fixture) rootOf(id string) *fxSpan {
	for _, s := range f.traces[id] {
		if s.parentID == ([16]byte{}) {
			return s
		}
	}
	return f.traces[id][0]
}

func (f *fixture) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/otlpd/services", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"services": fxServices})
	})
	mux.HandleFunc("GET /api/otlpd/operations", func(w http.ResponseWriter, r *http.Request) {
		ops := []map[string]string{}
		for _, name := range fxOps[r.URL.Query().Get("service")] {
			ops = append(ops, map[string]string{"service": r.URL.Query().Get("service"), "name": name, "kind": "SPAN_KIND_SERVER"})
		}
		writeJSON(w, map[string]any{"operations": ops})
	})
	mux.HandleFunc("GET /api/otlpd/traces/{id}/spans", func(w http.ResponseWriter, r *http.Request) {
		spans, ok := f.traces[r.PathValue("id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			writeJSON(w, map[string]string{"error": "trace not found"})
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if page <= 0 {
			page = 1000
		}
		from, _ := strconv.Atoi(r.URL.Query().Get("after"))
		to := min(len(spans), from+page)
		next := ""
		if to < len(spans) {
			next = strconv.Itoa(to)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"total":%d,"count":%d,"next":%q,"spans":%s}`, len(spans), to-from, next, tracesJSON(spans[from:to]))
	})
	mux.HandleFunc("GET /api/otlpd/traces", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, end := msParam(r, "start", time.Time{}), msParam(r, "end", f.now.Add(time.Hour))
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 {
			limit = 20
		}
		out := []map[string]any{}
		for _, id := range f.order {
			root := f.rootOf(id)
			spans := f.traces[id]
			if root.start.Before(start) || root.start.After(end) {
				continue
			}
			match := q.Get("service") == ""
			svcCount := map[string]int{}
			errs := 0
			for _, s := range spans {
				svcCount[s.service]++
				if s.err {
					errs++
				}
				if s.service == q.Get("service") && (q.Get("operation") == "" || s.name == q.Get("operation")) {
					match = true
				}
			}
			if !match || (strings.Contains(q.Get("filter"), "error") && errs == 0) {
				continue
			}
			svcs := []map[string]any{}
			for _, name := range fxServices {
				if c := svcCount[name]; c > 0 {
					svcs = append(svcs, map[string]any{"service": name, "spanCount": c})
				}
			}
			out = append(out, map[string]any{"traceId": id, "rootService": root.service, "rootName": root.name,
				"start": root.start.UTC().Format(time.RFC3339Nano), "durationNanos": int64(root.end.Sub(root.start)),
				"spanCount": len(spans), "errorCount": errs, "services": svcs})
			if len(out) >= limit {
				break
			}
		}
		writeJSON(w, map[string]any{"traces": out})
	})
	mux.HandleFunc("GET /api/otlpd/traces/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		var sel []fxLog
		for _, l := range f.logs {
			if l.hasTrace && hex16(l.traceID) == r.PathValue("id") {
				sel = append(sel, l)
			}
		}
		slices.Reverse(sel)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"count":%d,"logs":%s}`, len(sel), logsJSON(sel))
	})
	mux.HandleFunc("GET /api/otlpd/logs/search", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, end := msParam(r, "start", time.Time{}), msParam(r, "end", f.now.Add(time.Hour))
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 {
			limit = 100
		}
		// the fixture understands only the severity facets of the filter: severity = name, joined by or
		sevs := map[string]bool{}
		for _, m := range regexp.MustCompile(`severity = (\w+)`).FindAllStringSubmatch(q.Get("filter"), -1) {
			sevs[m[1]] = true
		}
		var sel []fxLog
		for _, l := range f.logs {
			if len(sevs) > 0 && !sevs[strings.ToLower(l.sevText)] {
				continue
			}
			if l.at.Before(start) || l.at.After(end) {
				continue
			}
			if f := q.Get("filter"); strings.HasPrefix(f, `trace_id = "`) && (!l.hasTrace || !strings.Contains(f, hex16(l.traceID))) {
				continue
			}
			sel = append(sel, l)
		}
		if q.Get("order") == "oldest" {
			slices.Reverse(sel)
		}
		hist := ""
		if q.Get("histogram") == "true" {
			step, err := time.ParseDuration(q.Get("step"))
			if err != nil || step <= 0 {
				step = time.Minute
			}
			counts := make([]int, int(end.Sub(start)/step)+1)
			for _, l := range sel {
				counts[int(l.at.Sub(start)/step)]++
			}
			b, _ := json.Marshal(map[string]any{"start": start.UTC().Format(time.RFC3339Nano), "stepNanos": int64(step), "counts": counts, "total": len(sel)})
			hist = `"histogram":` + string(b) + ","
		}
		if len(sel) > limit {
			sel = sel[:limit]
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"count":%d,%s"logs":%s}`, len(sel), hist, logsJSON(sel))
	})
	mux.HandleFunc("GET /api/otlpd/dependencies", func(w http.ResponseWriter, r *http.Request) {
		type key struct{ p, c string }
		calls, errs := map[key]int{}, map[key]int{}
		for _, spans := range f.traces {
			by := map[[16]byte]*fxSpan{}
			for _, s := range spans {
				by[s.spanID] = s
			}
			for _, s := range spans {
				if p := by[s.parentID]; p != nil && p.service != s.service {
					calls[key{p.service, s.service}]++
					if s.err {
						errs[key{p.service, s.service}]++
					}
				}
			}
		}
		edges := []map[string]any{}
		for k, c := range calls {
			edges = append(edges, map[string]any{"parent": k.p, "child": k.c, "callCount": c, "errorCount": errs[k]})
		}
		writeJSON(w, map[string]any{"edges": edges, "services": fxServices})
	})
	mux.HandleFunc("GET /api/otlpd/red", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, end := msParam(r, "start", f.now.Add(-time.Hour)), msParam(r, "end", f.now)
		step, err := time.ParseDuration(q.Get("step"))
		if err != nil || step <= 0 {
			step = time.Minute
		}
		type bucket struct {
			durs []float64
			errs int
		}
		series := map[string]map[int64]*bucket{}
		add := func(k string, t int64, s *fxSpan) {
			if series[k] == nil {
				series[k] = map[int64]*bucket{}
			}
			b := series[k][t]
			if b == nil {
				b = &bucket{}
				series[k][t] = b
			}
			b.durs = append(b.durs, float64(s.end.Sub(s.start))/1e6)
			if s.err {
				b.errs++
			}
		}
		for _, spans := range f.traces {
			for _, s := range spans {
				if s.service != q.Get("service") || s.start.Before(start) || s.start.After(end) {
					continue
				}
				t := start.Add(s.start.Sub(start) / step * step).UnixNano()
				add("", t, s)
				add(s.name, t, s)
				add("\x00total", 0, s)
				add("\x00total"+s.name, 0, s)
			}
		}
		pointOf := func(t int64, b *bucket) map[string]any {
			p := map[string]any{"time": time.Unix(0, t).UTC().Format(time.RFC3339Nano), "count": 0, "errors": 0, "rate": 0, "errorRate": 0, "p50Nanos": 0, "p95Nanos": 0, "p99Nanos": 0}
			if b != nil {
				p["count"], p["errors"] = len(b.durs), b.errs
				p["rate"], p["errorRate"] = float64(len(b.durs))/step.Seconds(), float64(b.errs)/float64(len(b.durs))
				p["p50Nanos"], p["p95Nanos"], p["p99Nanos"] = int64(pct(b.durs, .5)*1e6), int64(pct(b.durs, .95)*1e6), int64(pct(b.durs, .99)*1e6)
			}
			return p
		}
		out := []map[string]any{}
		for k, m := range series {
			if strings.HasPrefix(k, "\x00") {
				continue
			}
			pts := []map[string]any{}
			for t := start.UnixNano(); t <= end.UnixNano(); t += int64(step) {
				pts = append(pts, pointOf(t, m[t]))
			}
			tot := pointOf(start.UnixNano(), series["\x00total"+k][0])
			tot["rate"] = float64(tot["count"].(int)) / end.Sub(start).Seconds()
			out = append(out, map[string]any{"service": q.Get("service"), "operation": k, "total": tot, "points": pts})
		}
		writeJSON(w, map[string]any{"series": out})
	})
	mux.HandleFunc("GET /api/otlpd/attributes", func(w http.ResponseWriter, r *http.Request) {
		names := []string{"http.request.method", "http.response.status_code", "http.route", "user.id", "db.system.name"}
		vals := map[string][]string{"http.request.method": {"GET", "POST"}, "http.response.status_code": {"200", "500"}, "db.system.name": {"postgresql"}}
		if k := r.URL.Query().Get("key"); k != "" {
			names = vals[k]
		}
		entries := []map[string]any{}
		for _, n := range names {
			entries = append(entries, map[string]any{"name": n, "count": 1})
		}
		writeJSON(w, map[string]any{"entries": entries, "sampled": 100, "complete": true})
	})
	f.promRoutes(mux)
}

// promRoutes answers the Prometheus API for two synthetic metrics: a request counter and a duration histogram.
func (f *fixture) promRoutes(mux *http.ServeMux) {
	routes := []string{"/", "/cart", "/checkout"}
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"}
	val := func(route string, le int, t float64) float64 {
		base := 40 + 10*math.Sin(t/300+float64(len(route)))
		if le < 0 {
			return base * (1 + float64(len(route))/5)
		}
		return base * (1 - math.Exp(-float64(le+1)/2.5))
	}
	series := func(q string) []map[string]string {
		var out []map[string]string
		switch {
		case strings.Contains(q, "_bucket"):
			for _, le := range les {
				out = append(out, map[string]string{"le": le})
			}
		case strings.Contains(q, "http_requests_total") || strings.Contains(q, "duration"):
			for _, rt := range routes {
				out = append(out, map[string]string{"__name__": "http_requests_total", "http_route": rt, "job": "frontend"})
			}
		}
		return out
	}
	mux.HandleFunc("GET /api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, _ := strconv.ParseFloat(q.Get("start"), 64)
		end, _ := strconv.ParseFloat(q.Get("end"), 64)
		step, _ := strconv.ParseFloat(q.Get("step"), 64)
		if step <= 0 || end < start || (end-start)/step > 11000 {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]string{"status": "error", "errorType": "bad_data", "error": "bad range"})
			return
		}
		res := []map[string]any{}
		for i, m := range series(q.Get("query")) {
			vals := [][]any{}
			for t := math.Ceil(start/step) * step; t <= end; t += step {
				v := val(m["http_route"], -1, t)
				if m["le"] != "" {
					v = val("", i, t)
				}
				vals = append(vals, []any{t, strconv.FormatFloat(v, 'f', 4, 64)})
			}
			res = append(res, map[string]any{"metric": m, "values": vals})
		}
		writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": res}})
	})
	mux.HandleFunc("GET /api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		t := float64(f.now.Unix())
		res := []map[string]any{}
		for _, m := range series(r.URL.Query().Get("query")) {
			res = append(res, map[string]any{"metric": m, "value": []any{t, strconv.FormatFloat(val(m["http_route"], -1, t), 'f', 4, 64)}})
		}
		writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": res}})
	})
	mux.HandleFunc("GET /api/v1/query_exemplars", func(w http.ResponseWriter, r *http.Request) {
		var ex []map[string]any
		for i, id := range f.order[:8] {
			root := f.rootOf(id)
			t := float64(root.start.UnixMilli()) / 1000
			ex = append(ex, map[string]any{"labels": map[string]string{"trace_id": id, "span_id": hex8(root.spanID)}, "value": strconv.FormatFloat(val(routes[i%3], -1, t), 'f', 3, 64), "timestamp": t})
		}
		writeJSON(w, map[string]any{"status": "success", "data": []any{map[string]any{"seriesLabels": map[string]string{"__name__": "http_requests_total"}, "exemplars": ex}}})
	})
	mux.HandleFunc("GET /api/v1/label/{name}/values", func(w http.ResponseWriter, r *http.Request) {
		vals := map[string][]string{"__name__": {"http_requests_total", "http_server_request_duration_seconds_bucket", "process_cpu_seconds_total"}, "http_route": routes}
		writeJSON(w, map[string]any{"status": "success", "data": vals[r.PathValue("name")]})
	})
	mux.HandleFunc("GET /api/v1/labels", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"status": "success", "data": []string{"__name__", "http_route", "job", "le"}})
	})
	mux.HandleFunc("GET /api/v1/metadata", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"status": "success", "data": map[string]any{
			"http_requests_total":                         []any{map[string]string{"type": "counter", "help": "Requests served."}},
			"http_server_request_duration_seconds_bucket": []any{map[string]string{"type": "histogram", "help": "Request duration."}}}})
	})
}
