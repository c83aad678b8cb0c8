package workload

import (
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var severities = [...]struct {
	num  plog.SeverityNumber
	text string
}{
	{plog.SeverityNumberInfo, "INFO"},
	{plog.SeverityNumberDebug, "DEBUG"},
	{plog.SeverityNumberWarn, "WARN"},
	{plog.SeverityNumberError, "ERROR"},
	{plog.SeverityNumberFatal, "FATAL"},
}

var severityWeights = [...]float64{0.60, 0.20, 0.12, 0.07, 0.01}

const (
	kvBodyRate   = 0.10
	traceLogRate = 0.50
)

type logStream struct {
	voc *vocabulary
	rng *rand.Rand
	// shadow replays the structure of the trace stream of the same seed, so that the IDs logs carry are IDs
	// of spans that NextTraces produces. It runs at half the log rate, because half the logs take a span.
	shadow   *traceStream
	clock    float64
	nsPerLog float64
	buf      []byte
	resIndex [numResources]int
	slices   []plog.LogRecordSlice
}

func newLogStream(voc *vocabulary, seed int64, start time.Time, rate float64) *logStream {
	return &logStream{
		voc:      voc,
		rng:      newRand(seed, 0x6c6f6773),
		shadow:   newTraceStream(voc, seed, start, rate*traceLogRate),
		clock:    float64(start.UnixNano()),
		nsPerLog: 1e9 / rate,
	}
}

// NextLogs returns the next n log records of the log stream, grouped by resource.
func (g *Generator) NextLogs(n int) plog.Logs {
	ls := g.logs
	ld := plog.NewLogs()
	ls.resIndex = [numResources]int{}
	ls.slices = ls.slices[:0]
	rls := ld.ResourceLogs()
	for range n {
		rng := ls.rng
		res := rng.IntN(numResources)
		ts := int64(ls.clock)
		var sp *span
		if rng.Float64() < traceLogRate {
			sp = ls.shadow.nextSpan()
			res = sp.res
			ts = sp.start + int64(rng.Float64()*float64(sp.end-sp.start))
		}
		ls.clock += ls.nsPerLog
		pos := ls.resIndex[res]
		if pos == 0 {
			rl := rls.AppendEmpty()
			g.voc.resources[res].attrs.CopyTo(rl.Resource().Attributes())
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(scopeName)
			sl.Scope().SetVersion(scopeVersion)
			ls.slices = append(ls.slices, sl.LogRecords())
			pos = len(ls.slices)
			ls.resIndex[res] = pos
		}
		ls.emit(ls.slices[pos-1].AppendEmpty(), res, ts, sp)
	}
	return ld
}

func (ls *logStream) emit(lr plog.LogRecord, res int, ts int64, sp *span) {
	rng := ls.rng
	voc := ls.voc
	lr.SetTimestamp(pcommon.Timestamp(ts))
	lr.SetObservedTimestamp(pcommon.Timestamp(ts + int64(rng.IntN(5e6))))
	sev := severities[pick(rng, severityWeights[:])]
	lr.SetSeverityNumber(sev.num)
	lr.SetSeverityText(sev.text)
	if sp != nil {
		lr.SetTraceID(sp.traceID)
		lr.SetSpanID(sp.id)
		lr.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
	}
	tmpl := rng.IntN(numLogTemplates)
	user := voc.users[rng.IntN(numUsers)]
	if rng.Float64() < kvBodyRate {
		m := lr.Body().SetEmptyMap()
		m.EnsureCapacity(5)
		m.PutStr("event", "template-"+strconv.Itoa(tmpl))
		m.PutStr("user.id", user)
		m.PutInt("duration_ms", int64(rng.IntN(2000)))
		m.PutStr("outcome", [...]string{"ok", "retry", "failed"}[rng.IntN(3)])
		m.PutStr("message", ls.render(tmpl, user)[:40])
	} else {
		lr.Body().SetStr(ls.render(tmpl, user))
	}
	svc := serviceNames[voc.resources[res].service]
	fn := logFuncs[tmpl%len(logFuncs)]
	a := lr.Attributes()
	a.EnsureCapacity(8)
	a.PutStr("code.function.name", "github.com/shop/"+svc+"/internal/handler."+fn)
	a.PutStr("code.file.path", "/src/"+svc+"/handler.go")
	a.PutInt("code.line.number", int64(20+tmpl*3))
	a.PutInt("thread.id", int64(1+rng.IntN(64)))
	a.PutStr("user.id", user)
	a.PutStr("http.route", voc.routes[rng.IntN(numRoutes)])
	a.PutStr("http.request.method", httpMethods[pick(rng, methodWeights[:])])
	a.PutStr("logger.name", svc+".handler")
}

// render fills template t with random numbers and the user.
func (ls *logStream) render(t int, user string) string {
	b := ls.buf[:0]
	for _, p := range ls.voc.logTemplates[t] {
		switch p.kind {
		case 'd':
			b = strconv.AppendInt(b, int64(ls.rng.IntN(100000000)), 10)
		case 's':
			b = append(b, user...)
		default:
			b = append(b, p.lit...)
		}
	}
	ls.buf = b
	return string(b)
}
