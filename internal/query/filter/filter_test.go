package filter

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testSpan builds a span with known fields:
// service checkout, span GET /cart, server, error, 300ms, http.response.status_code=503 (int),
// http.route="/cart", retry=true, ratio=0.25 (double), code_str="500"; scope io.otlpd.test with scope attr
// lib.flag="x"; resource k8s.pod.name="pod-1", shadow="res" and span attr shadow="span".
func testSpan() (pcommon.Resource, pcommon.InstrumentationScope, ptrace.Span) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	rs.Resource().Attributes().PutStr("k8s.pod.name", "pod-1")
	rs.Resource().Attributes().PutStr("shadow", "res")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("io.otlpd.test")
	ss.Scope().Attributes().PutStr("lib.flag", "x")
	sp := ss.Spans().AppendEmpty()
	sp.SetName("GET /cart")
	sp.SetKind(ptrace.SpanKindServer)
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.Status().SetMessage("upstream timeout")
	sp.SetTraceID(pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36})
	sp.SetSpanID(pcommon.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7})
	start := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(300 * time.Millisecond)))
	sp.Attributes().PutInt("http.response.status_code", 503)
	sp.Attributes().PutStr("http.route", "/cart")
	sp.Attributes().PutBool("retry", true)
	sp.Attributes().PutDouble("ratio", 0.25)
	sp.Attributes().PutStr("code_str", "500")
	sp.Attributes().PutInt("body.bytes", 20000)
	sp.Attributes().PutStr("shadow", "span")
	return rs.Resource(), ss.Scope(), sp
}

// testLog builds a log record: service checkout, severity ERROR2 (18) text "ERROR", body "payment timeout
// after 3 retries", attr user.id=42, trace ID as testSpan.
func testLog() (pcommon.Resource, pcommon.InstrumentationScope, plog.LogRecord) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("io.otlpd.test")
	r := sl.LogRecords().AppendEmpty()
	r.SetSeverityNumber(plog.SeverityNumberError2)
	r.SetSeverityText("ERROR")
	r.Body().SetStr("payment timeout after 3 retries")
	r.Attributes().PutInt("user.id", 42)
	_, _, sp := testSpan()
	r.SetTraceID(sp.TraceID())
	r.SetSpanID(sp.SpanID())
	return rl.Resource(), sl.Scope(), r
}

func TestMatchSpan(t *testing.T) {
	res, scope, span := testSpan()
	f := func(src string, want bool) {
		t.Helper()
		m, err := ParseSpans(src)
		if err != nil {
			t.Fatalf("ParseSpans(%q): %v", src, err)
		}
		if got := m.MatchSpan(res, scope, span); got != want {
			t.Errorf("%q matched %v, want %v", src, got, want)
		}
		// The canonical form means the same.
		again, err := ParseSpans(m.String())
		if err != nil {
			t.Fatalf("reparse %q of %q: %v", m.String(), src, err)
		}
		if got := again.MatchSpan(res, scope, span); got != want {
			t.Errorf("canonical %q matched %v, want %v", m.String(), got, want)
		}
	}
	f(``, true)
	f(`   `, true)
	f(`service.name = "checkout"`, true)
	f(`service.name = "cart"`, false)
	f(`service.name != "cart"`, true)
	f(`service.name =~ "^check"`, true)
	f(`service.name =~ "^out"`, false)
	f(`service.name !~ "^out"`, true)
	f(`name = "GET /cart"`, true)
	f(`name contains "cart"`, true)
	f(`name contains "CART"`, false)
	f(`name =~ "(?i)CART"`, true)
	f(`name > "GET"`, true)
	f(`name < "GET"`, false)
	f(`kind = server`, true)
	f(`kind = "SERVER"`, true)
	f(`kind = client`, false)
	f(`kind != client`, true)
	f(`status = error`, true)
	f(`status = ok`, false)
	f(`status != ok`, true)
	f(`status.message contains "timeout"`, true)
	f(`duration > 250ms`, true)
	f(`duration > 300ms`, false)
	f(`duration >= 300ms`, true)
	f(`duration = 0.3s`, true)
	f(`duration < 1s and duration > 0`, true)
	f(`duration <= 299.999ms`, false)
	f(`trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"`, true)
	f(`trace_id = "4BF92F3577B34DA6A3CE929D0E0E4736"`, true)
	f(`trace_id != "4bf92f3577b34da6a3ce929d0e0e4736"`, false)
	f(`span_id = "f067aa0ba902b7"`, true) // left-padded
	f(`span_id = "00f067aa0ba902b8"`, false)
	f(`scope.name = "io.otlpd.test"`, true)
	// Attributes: typed comparisons.
	f(`http.response.status_code >= 500`, true)
	f(`http.response.status_code >= 504`, false)
	f(`http.response.status_code = 503`, true)
	f(`http.response.status_code = 503.0`, true)
	f(`http.response.status_code = "503"`, true) // string literal: string form
	f(`http.response.status_code != 503`, false)
	f(`http.response.status_code < 503.5`, true)
	f(`code_str = "500"`, true)
	f(`code_str = 500`, false) // a number compares with numbers only
	f(`code_str != 500`, true)
	f(`code_str > "4"`, true)
	f(`http.response.status_code > "4"`, false) // string order applies to strings only
	f(`retry = true`, true)
	f(`retry = false`, false)
	f(`retry != false`, true)
	f(`retry = "true"`, true)
	f(`ratio < 0.5`, true)
	f(`ratio = 0.25`, true)
	f(`ratio > -1`, true)
	f(`body.bytes > 10KiB`, true)
	f(`body.bytes > 20KB`, false)
	f(`body.bytes >= 20KB`, true)
	f(`body.bytes < 1.5MiB`, true)
	f(`http.route exists`, true)
	f(`missing exists`, false)
	f(`not missing exists`, true)
	f(`missing = "x"`, false)
	f(`missing != "x"`, true)
	f(`missing !~ "x"`, true)
	f(`missing =~ ""`, false)
	f(`missing > 0`, false)
	// Scopes.
	f(`span.http.route = "/cart"`, true)
	f(`resource.http.route exists`, false)
	f(`resource.k8s.pod.name = "pod-1"`, true)
	f(`span.k8s.pod.name exists`, false)
	f(`k8s.pod.name = "pod-1"`, true)
	f(`scope.lib.flag = "x"`, true)
	f(`lib.flag = "x"`, true)
	f(`shadow = "span"`, true) // the span's own attribute wins over the resource's
	f(`shadow = "res"`, false)
	f(`resource.shadow = "res"`, true)
	f("`name` exists", false) // a backquoted name is an attribute, not the span name
	f("`http.route` = \"/cart\"", true)
	// Boolean structure and precedence: and binds tighter than or.
	f(`kind = client or kind = server and status = error`, true)
	f(`(kind = client or kind = server) and status = ok`, false)
	f(`kind = client or kind = server and status = ok`, false)
	f(`not kind = client`, true)
	f(`not not kind = client`, false)
	f(`not (kind = client or status = ok)`, true)
	f(`KIND = "server" AND Not status = ok`, false) // field names are case-sensitive: KIND is an attribute
	f(`kind = server AND Not status = ok`, true)
	f("service.name = \"checkout\"\n  and duration > 250ms\n  and http.response.status_code >= 500", true)
	f(`name == "GET /cart"`, true)
	f(`name = "GET \u002Fcart"`, true)
}

func TestMatchLog(t *testing.T) {
	res, scope, rec := testLog()
	f := func(src string, want bool) {
		t.Helper()
		m, err := ParseLogs(src)
		if err != nil {
			t.Fatalf("ParseLogs(%q): %v", src, err)
		}
		if got := m.MatchLog(res, scope, rec); got != want {
			t.Errorf("%q matched %v, want %v", src, got, want)
		}
	}
	f(`severity = error`, true)
	f(`severity = ERROR`, true)
	f(`severity = "error"`, true)
	f(`severity = error2`, true)
	f(`severity = error3`, false)
	f(`severity = 18`, true)
	f(`severity >= warn`, true)
	f(`severity > warn`, true)
	f(`severity > error`, false)
	f(`severity >= fatal`, false)
	f(`severity <= error`, true)
	f(`severity < error`, false)
	f(`severity != error`, false)
	f(`severity != info`, true)
	f(`severity_text = "ERROR"`, true)
	f(`body contains "timeout"`, true)
	f(`body =~ "after [0-9]+ retries"`, true)
	f(`body = "payment"`, false)
	f(`user.id = 42`, true)
	f(`log.user.id > 41`, true)
	f(`trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"`, true)
	f(`span_id = "00f067aa0ba902b7"`, true)
	f(`service.name = "checkout" and severity >= error and body contains "payment"`, true)
}

func TestSignalFields(t *testing.T) {
	for _, src := range []string{`severity >= warn`, `body contains "x"`, `x = 1 and severity_text = "x"`} {
		if _, err := ParseSpans(src); err == nil || !strings.Contains(err.Error(), "of log records, not of spans") {
			t.Errorf("ParseSpans(%q) = %v, want a log-only field error", src, err)
		}
		if _, err := ParseLogs(src); err != nil {
			t.Errorf("ParseLogs(%q): %v", src, err)
		}
	}
	for _, src := range []string{`duration > 1s`, `name = "x"`, `kind = server`, `not status = ok`} {
		if _, err := ParseLogs(src); err == nil || !strings.Contains(err.Error(), "of spans, not of log records") {
			t.Errorf("ParseLogs(%q) = %v, want a span-only field error", src, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	f := func(src, want string) {
		t.Helper()
		e, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", src, got, want)
		}
	}
	f(`a=1`, `a = 1`)
	f(`(a = 1 or b = 2) and c = 3`, `(a = 1 or b = 2) and c = 3`)
	f(`a = 1 or (b = 2 and c = 3)`, `a = 1 or b = 2 and c = 3`)
	f(`not (a = 1 and b = 2)`, `not (a = 1 and b = 2)`)
	f(`duration > 1500ms`, `duration > 1.5s`)
	f(`x < 10KiB`, `x < 10240B`)
	f(`x = 1.50`, `x = 1.5`)
	f(`x = 1e3`, `x = 1000.0`)
	f(`name = "a\"b"`, `name = "a\"b"`)
	f(`x exists AND y contains "z"`, `x exists and y contains "z"`)
}

// TestErrors pins the error message of each bad filter in testdata/errors.golden. Run with -update to
// rewrite it after a deliberate change.
func TestErrors(t *testing.T) {
	bad := []string{
		``[0:0] + `duration >=`,
		`service.name = "checkout" and duration >= `,
		`duration > 250`,
		`duration > "250ms"`,
		`duration contains "x"`,
		`name = checkout`,
		`http.method = GET`,
		`kind = sever`,
		`kind > server`,
		`status = failed`,
		`severity >= loud`,
		`severity = 99`,
		`trace_id = "xyz"`,
		`trace_id = 12`,
		`x = 10xs`,
		`x = 1..2`,
		`x = 1e999`,
		`x > 1.5.3ms`,
		`x = 5ms`,
		`x = true and y > false`,
		`x =~ "(unclosed"`,
		`x =~ 5`,
		`x contains 5`,
		`(a = 1`,
		`(a = 1 or (b = 2)`,
		`a = 1)`,
		`()`,
		`a = 1 b = 2`,
		`a = 1 and`,
		`a = 1 or or b = 2`,
		`and a = 1`,
		`a`,
		`a ! b`,
		`a = "unterminated`,
		`a = "bad \q escape"`,
		"a = \"line\nbreak\"",
		"`` = 1",
		"`open = 1",
		`a = 1 # comment`,
		`name exists`,
		`a = not`,
		"service.name = \"checkout\"\n  and duration >\n  and x = 1",
		`a = 1 and` + strings.Repeat(" (", MaxDepth) + `a = 1` + strings.Repeat(")", MaxDepth),
		`x = ` + strings.Repeat("9", MaxLength),
		`naïve = 1 and ü`,
	}
	var b strings.Builder
	for _, src := range bad {
		_, err := ParseSpans(src)
		if err == nil {
			t.Errorf("ParseSpans(%q) succeeded, want an error", src)
			continue
		}
		var fe *Error
		if !asError(err, &fe) {
			t.Errorf("ParseSpans(%q) error %T is not *filter.Error", src, err)
		}
		shown := src
		if len(shown) > 80 {
			shown = shown[:40] + "..." + shown[len(shown)-20:]
		}
		b.WriteString(strings.ReplaceAll(shown, "\n", `\n`) + "\n\t" + err.Error() + "\n")
	}
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("error messages differ from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), b.String()))
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("-" + wl + "\n+" + gl + "\n")
		}
	}
	return b.String()
}

func TestErrorPosition(t *testing.T) {
	_, err := Parse(`service.name = "checkout" and duration >= `)
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	if e.Line != 1 || e.Column != 43 || e.Offset != 42 {
		t.Errorf("position %d:%d offset %d, want 1:43 offset 42", e.Line, e.Column, e.Offset)
	}
	if want := "1:43: expected a value after '>=', found end of input"; e.Error() != want {
		t.Errorf("error %q, want %q", e.Error(), want)
	}
}

func TestPushdownSpans(t *testing.T) {
	m, err := ParseSpans(`service.name = "checkout" and name = "GET /cart" and kind = server and status = error and ` +
		`duration > 250ms and duration < 2s and http.route = "/cart" and http.response.status_code >= 500 and ` +
		`resource.k8s.pod.name exists and retry = true and code = 7 and msg contains "x" and (a = 1 or b = 2) and ` +
		`not c = 3 and d != "x" and e =~ "y" and big > 1e300`)
	if err != nil {
		t.Fatal(err)
	}
	q := storage.SpanQuery{Limit: 20}
	m.Apply(&q)
	if q.Match != m {
		t.Error("Match not set")
	}
	q.Match = nil
	want := storage.SpanQuery{
		Service: "checkout", SpanName: "GET /cart", Kind: ptrace.SpanKindServer,
		Status: ptrace.StatusCodeError, StatusSet: true,
		MinDuration: 250 * time.Millisecond, MaxDuration: 2 * time.Second, Limit: 20,
		Attributes: []storage.AttrPredicate{
			{Key: "http.route", Op: storage.OpEqual, Value: "/cart"},
			{Key: "http.response.status_code", Op: storage.OpGreaterEqual, Number: 500},
			{Scope: storage.AttrResource, Key: "k8s.pod.name", Op: storage.OpExists},
			{Key: "retry", Op: storage.OpEqual, Value: "true"},
			{Key: "code", Op: storage.OpGreaterEqual, Number: 7},
			{Key: "code", Op: storage.OpLessEqual, Number: 7},
			{Key: "msg", Op: storage.OpContains, Value: "x"},
		},
	}
	if !equalSpanQuery(q, want) {
		t.Errorf("pushed down\n%+v\nwant\n%+v", q, want)
	}

	// Fields the caller set are kept; an or at the top pushes nothing.
	q = storage.SpanQuery{Service: "api", MinDuration: time.Second}
	m, _ = ParseSpans(`service.name = "web" and duration > 10ms`)
	m.Apply(&q)
	if q.Service != "api" || q.MinDuration != time.Second {
		t.Errorf("caller's fields overwritten: %+v", q)
	}
	q = storage.SpanQuery{}
	m, _ = ParseSpans(`service.name = "web" or duration > 10ms`)
	m.Apply(&q)
	q.Match = nil
	if !equalSpanQuery(q, storage.SpanQuery{}) {
		t.Errorf("or pushed down %+v", q)
	}
}

func TestPushdownLogs(t *testing.T) {
	f := func(src string, want storage.LogQuery) {
		t.Helper()
		m, err := ParseLogs(src)
		if err != nil {
			t.Fatal(err)
		}
		var q storage.LogQuery
		m.Apply(&q)
		q.Match = nil
		if q.MinSeverity != want.MinSeverity || q.MaxSeverity != want.MaxSeverity || q.Service != want.Service ||
			q.BodyContains != want.BodyContains || q.TraceID != want.TraceID || len(q.Attributes) != len(want.Attributes) {
			t.Errorf("%q pushed down %+v, want %+v", src, q, want)
		}
	}
	f(`severity >= warn`, storage.LogQuery{MinSeverity: 13})
	f(`severity > warn`, storage.LogQuery{MinSeverity: 17})
	f(`severity = error`, storage.LogQuery{MinSeverity: 17, MaxSeverity: 20})
	f(`severity < error`, storage.LogQuery{MaxSeverity: 16})
	f(`severity <= info and severity >= debug`, storage.LogQuery{MinSeverity: 5, MaxSeverity: 12})
	f(`severity < 1`, storage.LogQuery{})
	f(`severity != error`, storage.LogQuery{})
	f(`body contains "timeout" and service.name = "a"`, storage.LogQuery{BodyContains: "timeout", Service: "a"})
	f(`trace_id = "0102"`, storage.LogQuery{TraceID: pcommon.TraceID{14: 1, 15: 2}})
	f(`user.id = 42`, storage.LogQuery{Attributes: make([]storage.AttrPredicate, 2)})
}

func equalSpanQuery(a, b storage.SpanQuery) bool {
	if len(a.Attributes) != len(b.Attributes) {
		return false
	}
	for i := range a.Attributes {
		if a.Attributes[i] != b.Attributes[i] {
			return false
		}
	}
	a.Attributes, b.Attributes = nil, nil
	return a.Start == b.Start && a.End == b.End && a.Service == b.Service && a.SpanName == b.SpanName &&
		a.Kind == b.Kind && a.Status == b.Status && a.StatusSet == b.StatusSet && a.MinDuration == b.MinDuration &&
		a.MaxDuration == b.MaxDuration && a.Limit == b.Limit && a.Match == b.Match
}
