package workload

import (
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Span roles decide a span's kind, name and attributes.
const (
	roleServerHTTP uint8 = iota
	roleServerRPC
	roleClientHTTP
	roleClientRPC
	roleDB
	roleInternal
)

const (
	errorRate = 0.02
	eventRate = 0.05
	linkRate  = 0.01
	linkRing  = 1024
)

var statusCodes = [...]int64{200, 201, 204, 400, 401, 404, 429}
var statusWeights = [...]float64{0.90, 0.03, 0.02, 0.02, 0.01, 0.015, 0.005}

// span is a generated span before its attributes are drawn.
type span struct {
	traceID    pcommon.TraceID
	id, parent pcommon.SpanID
	res        int
	role       uint8
	peer       int // service index of the callee for client spans
	route      int
	method     int
	rpc        int
	user       int
	query      int
	start, end int64
}

type spanRef struct {
	traceID    pcommon.TraceID
	id         pcommon.SpanID
	res        int
	start, end int64
}

// traceStream makes spans. Structure (IDs, tree, times) and attributes come from separate random streams
// so that the log stream can replay the structure alone to learn span IDs.
type traceStream struct {
	voc        *vocabulary
	structRNG  *rand.Rand
	attrRNG    *rand.Rand
	clock      float64 // next root start, Unix ns
	nsPerSpan  float64
	pending    []span
	next       int // index into pending of the next span to emit
	recent     [linkRing]spanRef
	nRecent    int
	hosts      []int
	unvisited  []int
	services   []int
	instances  []int
	buf        []byte
	resIndex   [numResources]int // per batch: position+1 of the resource's ScopeSpans, 0 when absent
	scopeSlice []ptrace.SpanSlice
}

func newTraceStream(voc *vocabulary, seed int64, start time.Time, rate float64) *traceStream {
	return &traceStream{
		voc:       voc,
		structRNG: newRand(seed, 0x7472616365),
		attrRNG:   newRand(seed, 0x61747472),
		clock:     float64(start.UnixNano()),
		nsPerSpan: 1e9 / rate,
	}
}

// nextSpan returns the next span of the stream in structure only.
func (ts *traceStream) nextSpan() *span {
	if ts.next == len(ts.pending) {
		ts.genTrace()
	}
	s := &ts.pending[ts.next]
	ts.next++
	return s
}

// genTrace builds the next trace's spans into ts.pending.
func (ts *traceStream) genTrace() {
	rng := ts.structRNG
	ts.pending = ts.pending[:0]
	ts.next = 0
	n := int(logNormal(rng, 8.6, 0.6) + 0.5)
	n = max(2, min(40, n))
	k := 1
	if n >= 3 {
		k = min(2+rng.IntN(4), 1+(n-1)/2)
	}
	// Distinct services; the first hosts the root.
	ts.services = ts.services[:0]
	ts.instances = ts.instances[:0]
	for len(ts.services) < k {
		s := rng.IntN(numServices)
		dup := false
		for _, x := range ts.services {
			dup = dup || x == s
		}
		if !dup {
			ts.services = append(ts.services, s)
			ts.instances = append(ts.instances, rng.IntN(instancesPerSvc))
		}
	}
	ts.unvisited = append(ts.unvisited[:0], ts.services[1:]...)
	var tid pcommon.TraceID
	putUint64(tid[:8], rng.Uint64())
	putUint64(tid[8:], rng.Uint64())
	user := rng.IntN(numUsers)
	resOf := func(svc int) int {
		for i, s := range ts.services {
			if s == svc {
				return resourceOf(s, ts.instances[i])
			}
		}
		panic("BUG: service not in trace")
	}
	add := func(parent int, role uint8, svc int) int {
		sp := span{traceID: tid, res: resOf(svc), role: role, user: user, parent: pcommon.SpanID{}}
		putUint64(sp.id[:], rng.Uint64()|1)
		if parent >= 0 {
			sp.parent = ts.pending[parent].id
		}
		sp.route = rng.IntN(numRoutes)
		sp.method = pick(rng, methodWeights[:])
		sp.rpc = rng.IntN(len(rpcMethods))
		sp.query = rng.IntN(numQueryTmpls)
		ts.pending = append(ts.pending, sp)
		return len(ts.pending) - 1
	}
	ts.hosts = append(ts.hosts[:0], add(-1, roleServerHTTP, ts.services[0]))
	call := func(p, target int) {
		client, server := roleClientHTTP, roleServerHTTP
		if rng.IntN(2) == 0 {
			client, server = roleClientRPC, roleServerRPC
		}
		c := add(p, client, ts.pending[p].res/instancesPerSvc)
		ts.pending[c].peer = target
		ts.hosts = append(ts.hosts, add(c, server, target))
		// The server span describes the same call as its client span.
		ts.pending[len(ts.pending)-1].route = ts.pending[c].route
		ts.pending[len(ts.pending)-1].method = ts.pending[c].method
		ts.pending[len(ts.pending)-1].rpc = ts.pending[c].rpc
	}
	for len(ts.pending) < n {
		remaining := n - len(ts.pending)
		p := ts.hosts[rng.IntN(len(ts.hosts))]
		psvc := ts.pending[p].res / instancesPerSvc
		if len(ts.unvisited) > 0 && remaining >= 2 {
			call(p, ts.unvisited[0])
			ts.unvisited = ts.unvisited[1:]
			continue
		}
		switch u := rng.Float64(); {
		case u < 0.35:
			add(p, roleDB, psvc)
		case u < 0.65 || remaining < 2 || k == 1:
			ts.hosts = append(ts.hosts, add(p, roleInternal, psvc))
		default:
			target := ts.services[rng.IntN(k)]
			for target == psvc {
				target = ts.services[rng.IntN(k)]
			}
			call(p, target)
		}
	}
	// Times, parents before children: children lie inside their parent.
	parentIdx := make(map[pcommon.SpanID]int, len(ts.pending))
	for i := range ts.pending {
		sp := &ts.pending[i]
		parentIdx[sp.id] = i
		if i == 0 {
			sp.start = int64(ts.clock)
			sp.end = sp.start + max(int64(logNormal(rng, 40e6, 0.8)), 1000)
			continue
		}
		par := &ts.pending[parentIdx[sp.parent]]
		pd := par.end - par.start
		if par.role == roleClientHTTP || par.role == roleClientRPC {
			gap := pd / 20
			sp.start, sp.end = par.start+gap, par.end-gap
			continue
		}
		var median float64
		switch sp.role {
		case roleDB:
			median = 3e6
		case roleInternal:
			median = 1e6
		default:
			median = 12e6
		}
		d := int64(logNormal(rng, median, 0.8))
		if limit := pd * 9 / 10; d > limit {
			d = limit/2 + int64(rng.Float64()*float64(limit/2))
		}
		sp.start = par.start + int64(rng.Float64()*float64(pd-d))
		sp.end = sp.start + d
	}
	ts.clock += float64(n) * ts.nsPerSpan
}

// NextTraces returns the next n spans of the trace stream, grouped by resource. A trace may continue in the
// next batch.
func (g *Generator) NextTraces(n int) ptrace.Traces {
	ts := g.traces
	td := ptrace.NewTraces()
	ts.resIndex = [numResources]int{}
	ts.scopeSlice = ts.scopeSlice[:0]
	rss := td.ResourceSpans()
	for range n {
		sp := ts.nextSpan()
		pos := ts.resIndex[sp.res]
		if pos == 0 {
			rs := rss.AppendEmpty()
			g.voc.resources[sp.res].attrs.CopyTo(rs.Resource().Attributes())
			rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(scopeName)
			ss.Scope().SetVersion(scopeVersion)
			ts.scopeSlice = append(ts.scopeSlice, ss.Spans())
			pos = len(ts.scopeSlice)
			ts.resIndex[sp.res] = pos
		}
		ts.emit(sp, ts.scopeSlice[pos-1].AppendEmpty())
	}
	return td
}

// emit fills out from sp, drawing attributes, status, events and links.
func (ts *traceStream) emit(sp *span, out ptrace.Span) {
	rng := ts.attrRNG
	voc := ts.voc
	out.SetTraceID(sp.traceID)
	out.SetSpanID(sp.id)
	if !sp.parent.IsEmpty() {
		out.SetParentSpanID(sp.parent)
	}
	out.SetStartTimestamp(pcommon.Timestamp(sp.start))
	out.SetEndTimestamp(pcommon.Timestamp(sp.end))
	isErr := rng.Float64() < errorRate
	status := statusCodes[pick(rng, statusWeights[:])]
	if isErr {
		status = 500 + int64(rng.IntN(2))*3
	}
	user := voc.users[sp.user]
	route := voc.routes[sp.route]
	method := httpMethods[sp.method]
	peerPort := int64(32768 + rng.IntN(28000))
	own := serviceNames[voc.resources[sp.res].service]
	a := out.Attributes()
	a.EnsureCapacity(10)
	switch sp.role {
	case roleServerHTTP:
		out.SetKind(ptrace.SpanKindServer)
		ts.buf = append(append(append(ts.buf[:0], method...), ' '), route...)
		out.SetName(string(ts.buf))
		a.PutStr("http.request.method", method)
		a.PutStr("http.route", route)
		a.PutStr("url.path", ts.urlPath(sp.route))
		a.PutStr("url.scheme", "http")
		a.PutInt("http.response.status_code", status)
		a.PutStr("server.address", own)
		a.PutInt("server.port", int64(voc.resources[sp.res].port))
		a.PutStr("user.id", user)
		a.PutStr("network.protocol.version", "1.1")
		a.PutStr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) shop-client/2.3")
	case roleServerRPC:
		out.SetKind(ptrace.SpanKindServer)
		out.SetName("shop." + own + "/" + rpcMethods[sp.rpc])
		a.PutStr("rpc.system", "grpc")
		a.PutStr("rpc.service", "shop."+own)
		a.PutStr("rpc.method", rpcMethods[sp.rpc])
		a.PutInt("rpc.grpc.status_code", grpcCode(isErr))
		a.PutStr("server.address", own)
		a.PutInt("server.port", int64(voc.resources[sp.res].port))
		a.PutInt("net.peer.port", peerPort)
		a.PutStr("user.id", user)
		a.PutStr("network.transport", "tcp")
		a.PutStr("network.type", "ipv4")
	case roleClientHTTP:
		out.SetKind(ptrace.SpanKindClient)
		out.SetName(method)
		peer := serviceNames[sp.peer]
		a.PutStr("http.request.method", method)
		a.PutStr("url.full", "http://"+peer+":"+strconv.Itoa(8080+sp.peer)+ts.urlPath(sp.route))
		a.PutStr("server.address", peer)
		a.PutInt("server.port", int64(8080+sp.peer))
		a.PutInt("net.peer.port", int64(8080+sp.peer))
		a.PutInt("http.response.status_code", status)
		a.PutStr("user.id", user)
		a.PutStr("network.protocol.version", "1.1")
		a.PutStr("peer.service", peer)
		a.PutInt("http.request.resend_count", 0)
	case roleClientRPC:
		out.SetKind(ptrace.SpanKindClient)
		peer := serviceNames[sp.peer]
		out.SetName("shop." + peer + "/" + rpcMethods[sp.rpc])
		a.PutStr("rpc.system", "grpc")
		a.PutStr("rpc.service", "shop."+peer)
		a.PutStr("rpc.method", rpcMethods[sp.rpc])
		a.PutStr("server.address", peer)
		a.PutInt("server.port", int64(8080+sp.peer))
		a.PutInt("net.peer.port", int64(8080+sp.peer))
		a.PutInt("rpc.grpc.status_code", grpcCode(isErr))
		a.PutStr("user.id", user)
		a.PutStr("peer.service", peer)
		a.PutStr("network.transport", "tcp")
	case roleDB:
		out.SetKind(ptrace.SpanKindClient)
		table := dbTables[sp.query/5]
		op := dbOps[sp.query%5]
		out.SetName(op + " " + table)
		sys := dbSystems[(sp.query/5)%len(dbSystems)]
		a.PutStr("db.system.name", sys)
		a.PutStr("db.query.text", ts.queryText(sp.query))
		a.PutStr("db.operation.name", op)
		a.PutStr("db.collection.name", table)
		a.PutStr("db.namespace", "shop")
		a.PutStr("server.address", sys+".db.internal")
		a.PutInt("server.port", 5432)
		a.PutInt("net.peer.port", 5432)
		a.PutStr("user.id", user)
		a.PutInt("db.response.returned_rows", int64(rng.IntN(50)))
	case roleInternal:
		out.SetKind(ptrace.SpanKindInternal)
		fn := internalFuncs[sp.rpc%len(internalFuncs)]
		out.SetName(fn)
		a.PutStr("code.function.name", "github.com/shop/"+own+"/internal/handler."+fn)
		a.PutStr("code.file.path", "/src/"+own+"/handler.go")
		a.PutInt("code.line.number", int64(20+sp.rpc*7))
		a.PutInt("thread.id", int64(1+rng.IntN(64)))
		a.PutStr("user.id", user)
		a.PutStr("http.route", route)
		a.PutInt("app.cart.items", int64(rng.IntN(12)))
		a.PutBool("app.cache.hit", rng.IntN(3) > 0)
		a.PutStr("app.tenant", "tenant-"+strconv.Itoa(sp.user%20))
		a.PutStr("deployment.region", "eu-west-1")
	}
	dur := sp.end - sp.start
	if isErr {
		out.Status().SetCode(ptrace.StatusCodeError)
		msg := exceptionMessages[rng.IntN(len(exceptionMessages))]
		out.Status().SetMessage(msg)
		ev := out.Events().AppendEmpty()
		ev.SetName("exception")
		ev.SetTimestamp(pcommon.Timestamp(sp.start + int64(rng.Float64()*float64(dur))))
		ea := ev.Attributes()
		ea.PutStr("exception.type", exceptionTypes[rng.IntN(len(exceptionTypes))])
		ea.PutStr("exception.message", msg)
		ea.PutStr("exception.stacktrace", voc.stacks[rng.IntN(len(voc.stacks))])
	}
	if rng.Float64() < eventRate {
		ev := out.Events().AppendEmpty()
		ev.SetName(eventNames[rng.IntN(len(eventNames))])
		ev.SetTimestamp(pcommon.Timestamp(sp.start + int64(rng.Float64()*float64(dur))))
		ev.Attributes().PutInt("attempt", int64(1+rng.IntN(3)))
		ev.Attributes().PutStr("component", own)
	}
	if rng.Float64() < linkRate && ts.nRecent > 0 {
		ref := ts.recent[rng.IntN(min(ts.nRecent, linkRing))]
		l := out.Links().AppendEmpty()
		l.SetTraceID(ref.traceID)
		l.SetSpanID(ref.id)
		l.Attributes().PutStr("link.reason", "follows_from")
	}
	ts.recent[ts.nRecent%linkRing] = spanRef{traceID: sp.traceID, id: sp.id, res: sp.res, start: sp.start, end: sp.end}
	ts.nRecent++
}

func grpcCode(isErr bool) int64 {
	if isErr {
		return 14 // UNAVAILABLE
	}
	return 0
}

// urlPath renders route r with a random ID in place of {id}.
func (ts *traceStream) urlPath(r int) string {
	route := ts.voc.routes[r]
	if !ts.voc.routeHasID[r] {
		return route
	}
	b := ts.buf[:0]
	for i := 0; i < len(route); i++ {
		if route[i] == '{' {
			b = strconv.AppendInt(b, int64(ts.attrRNG.IntN(1000000)), 10)
			i += len("{id}") - 1
			continue
		}
		b = append(b, route[i])
	}
	ts.buf = b
	return string(b)
}

// queryText renders query template q with a random literal.
func (ts *traceStream) queryText(q int) string {
	t := ts.voc.queries[q]
	b := ts.buf[:0]
	for i := 0; i < len(t); i++ {
		if t[i] == '%' && i+1 < len(t) && t[i+1] == 'd' {
			b = strconv.AppendInt(b, int64(ts.attrRNG.IntN(10000000)), 10)
			i++
			continue
		}
		b = append(b, t[i])
	}
	ts.buf = b
	return string(b)
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
