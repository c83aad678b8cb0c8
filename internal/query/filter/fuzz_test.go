package filter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// FuzzParse checks that no filter crashes the parser or the matchers, that every rejection is an *Error
// pointing inside the filter, that the canonical form parses back to itself, and that the conditions pushed
// down to storage hold for every span and record the filter matches (pushdown may only narrow candidates).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`service.name = "checkout" and duration > 250ms and http.response.status_code >= 500`,
		`severity >= warn and body contains "timeout" and not resource.k8s.namespace.name = "test"`,
		`(kind = server or kind = client) and status != ok`,
		`name =~ "^GET /(cart|checkout)$" and retry = true and body.bytes > 10KiB`,
		`trace_id = "4bf92f3577b34da6a3ce929d0e0e4736" and span_id != "1"`,
		"`odd key` exists and scope.lib.flag = \"x\"",
		`a = 1 or (b = 2 and not c =~ "(")`,
		`x = 1e3 and y < -2.5 and z >= 1.5MB`,
		`duration >`,
		`"`,
	} {
		f.Add(s)
	}
	res, scope, span := testSpan()
	lres, lscope, rec := testLog()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			checkError(t, src, err)
			return
		}
		canon := e.String()
		e2, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, src, err)
		}
		if e2.String() != canon {
			t.Fatalf("canonical form unstable: %q -> %q", canon, e2.String())
		}
		if sf, err := e.Spans(); err != nil {
			checkError(t, src, err)
		} else {
			var q storage.SpanQuery
			sf.Apply(&q)
			if sf.MatchSpan(res, scope, span) && !refMatchSpan(q, res, scope, span) {
				t.Fatalf("%q matches the span but its pushdown %+v excludes it", src, q)
			}
		}
		if lf, err := e.Logs(); err != nil {
			checkError(t, src, err)
		} else {
			var q storage.LogQuery
			lf.Apply(&q)
			if lf.MatchLog(lres, lscope, rec) && !refMatchLog(q, lres, lscope, rec) {
				t.Fatalf("%q matches the record but its pushdown %+v excludes it", src, q)
			}
		}
	})
}

func checkError(t *testing.T, src string, err error) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v for %q is %T, want *Error", err, src, err)
	}
	if fe.Offset < 0 || fe.Offset > len(src) || fe.Line < 1 || fe.Column < 1 || fe.Msg == "" {
		t.Fatalf("bad error position %+v for %q", fe, src)
	}
}

func refMatchSpan(q storage.SpanQuery, res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool {
	svc, _ := res.Attributes().Get("service.name")
	d := time.Duration(span.EndTimestamp() - span.StartTimestamp())
	switch {
	case q.Service != "" && svc.AsString() != q.Service,
		q.SpanName != "" && span.Name() != q.SpanName,
		q.Kind != 0 && span.Kind() != q.Kind,
		q.StatusSet && span.Status().Code() != q.Status,
		d < q.MinDuration,
		q.MaxDuration != 0 && d > q.MaxDuration:
		return false
	}
	for _, p := range q.Attributes {
		if !p.Match(span.Attributes(), scope.Attributes(), res.Attributes()) { // the backends' semantics
			return false
		}
	}
	return true
}

func refMatchLog(q storage.LogQuery, res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) bool {
	svc, _ := res.Attributes().Get("service.name")
	switch {
	case q.Service != "" && svc.AsString() != q.Service,
		q.MinSeverity != 0 && rec.SeverityNumber() < q.MinSeverity,
		q.MaxSeverity != 0 && rec.SeverityNumber() > q.MaxSeverity,
		!strings.Contains(rec.Body().AsString(), q.BodyContains),
		!q.TraceID.IsEmpty() && rec.TraceID() != q.TraceID:
		return false
	}
	for _, p := range q.Attributes {
		if !p.Match(rec.Attributes(), scope.Attributes(), res.Attributes()) {
			return false
		}
	}
	return true
}
