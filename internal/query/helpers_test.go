package query

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

// base is the time tests place their data at; the querier's clock is base+1h.
var base = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// sp describes a span for a test: times are milliseconds after base.
type sp struct {
	trace   int
	id      int
	parent  int // 0: root
	service string
	name    string
	kind    ptrace.SpanKind
	start   float64
	end     float64
	err     bool
	attrs   map[string]any
}

func tid(n int) pcommon.TraceID {
	var id pcommon.TraceID
	id[0] = 0xab
	binary.BigEndian.PutUint32(id[12:], uint32(n))
	return id
}

func sid(n int) pcommon.SpanID {
	var id pcommon.SpanID
	id[0] = 0xcd
	binary.BigEndian.PutUint32(id[4:], uint32(n))
	return id
}

func ms(f float64) time.Time { return base.Add(time.Duration(f * float64(time.Millisecond))) }

// build turns span descriptions into OTLP, one resource per service.
func build(spans []sp) ptrace.Traces {
	td := ptrace.NewTraces()
	scopes := map[string]ptrace.ScopeSpans{}
	for _, s := range spans {
		ss, ok := scopes[s.service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", s.service)
			ss = rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("test")
			scopes[s.service] = ss
		}
		x := ss.Spans().AppendEmpty()
		x.SetTraceID(tid(s.trace))
		x.SetSpanID(sid(s.id))
		if s.parent != 0 {
			x.SetParentSpanID(sid(s.parent))
		}
		x.SetName(s.name)
		x.SetKind(s.kind)
		x.SetStartTimestamp(pcommon.NewTimestampFromTime(ms(s.start)))
		x.SetEndTimestamp(pcommon.NewTimestampFromTime(ms(s.end)))
		if s.err {
			x.Status().SetCode(ptrace.StatusCodeError)
		}
		for k, v := range s.attrs {
			_ = x.Attributes().PutEmpty(k).FromRaw(v)
		}
	}
	return td
}

// newQuerier stores the spans in a memory backend and returns a querier on it whose clock is base+1h.
func newQuerier(t testing.TB, spans ...ptrace.Traces) (*Querier, *memory.Store) {
	t.Helper()
	st := memory.New(memory.Options{MaxSpans: 5_000_000})
	t.Cleanup(func() { st.Close() })
	for _, td := range spans {
		if err := st.WriteSpans(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	return New(st, st, Options{Now: func() time.Time { return base.Add(time.Hour) }}), st
}

func writeLogs(t testing.TB, st storage.LogWriter, ld plog.Logs) {
	t.Helper()
	if err := st.WriteLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
}
