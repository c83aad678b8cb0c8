package loki

import (
	"regexp"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// extractFrom runs one parser stage on a line and returns the extracted labels, sorted.
func extractFrom(kind, line string) labelSet {
	var e entry
	e.reset(0, line, labelSet{{"service_name", "shop"}}, plog.NewLogRecord())
	run([]Stage{&ParserStage{Kind: kind}}, &e)
	return e.parsed()
}

func TestParseLogfmt(t *testing.T) {
	f := func(line string, want ...string) {
		t.Helper()
		got := extractFrom("logfmt", line)
		var flat []string
		for _, l := range got {
			flat = append(flat, l.Name, l.Value)
		}
		if !slices.Equal(flat, want) {
			t.Errorf("logfmt %q: got %q, want %q", line, flat, want)
		}
	}
	f(`a=1 b=two`, "a", "1", "b", "two")
	f(`  msg="hello \"world\"" ok  `, "msg", `hello "world"`, "ok", "")
	f(`k= x=`, "k", "", "x", "")
	f(`http.status=200 service_name=cart`, "http_status", "200", "service_name_extracted", "cart")
	f(`a=1 a=2`, "a", "2")
	f(`a="unterminated`, "__error__", "LogfmtParserErr")
	f(`=1`, "__error__", "LogfmtParserErr")
	f(`a=1 b=x"y`, "__error__", "LogfmtParserErr", "a", "1")
	f(``)
}

func TestParseJSON(t *testing.T) {
	f := func(line string, want ...string) {
		t.Helper()
		got := extractFrom("json", line)
		var flat []string
		for _, l := range got {
			flat = append(flat, l.Name, l.Value)
		}
		if !slices.Equal(flat, want) {
			t.Errorf("json %q: got %q, want %q", line, flat, want)
		}
	}
	f(`{"a":"x","n":1.50,"b":true,"z":null,"arr":[1,2]}`, "a", "x", "b", "true", "n", "1.50", "z", "")
	f(`{"req":{"method":"GET","url.path":"/x"}}`, "req_method", "GET", "req_url_path", "/x")
	f(`{"service_name":"other"}`, "service_name_extracted", "other")
	f(`not json`, "__error__", "JSONParserErr")
	f(`[1,2]`, "__error__", "JSONParserErr")
	f(`null`, "__error__", "JSONParserErr")
}

func TestPipelineStages(t *testing.T) {
	f := func(query string, line string, keep bool, wantLabels ...string) {
		t.Helper()
		e0, err := ParseLogQL(query)
		if err != nil {
			t.Fatal(err)
		}
		le := e0.(*LogExpr)
		rec := plog.NewLogRecord()
		rec.SetSeverityNumber(plog.SeverityNumberWarn)
		rec.Attributes().PutStr("http.route", "/cart")
		var e entry
		e.reset(0, line, labelSet{{"level", "warn"}, {"service_name", "shop"}}, rec)
		if got := run(le.Stages, &e); got != keep {
			t.Fatalf("%s on %q: kept %v, want %v", query, line, got, keep)
		}
		if !keep {
			return
		}
		var flat []string
		for _, l := range e.appendSeriesLabels(nil, true) {
			flat = append(flat, l.Name+"="+l.Value)
		}
		if !slices.Equal(flat, wantLabels) {
			t.Errorf("%s on %q: labels %q, want %q", query, line, flat, wantLabels)
		}
	}
	f(`{a="b"} |= "GET" != "POST" |~ "5\\d\\d"`, "GET /x 503", true, "detected_level=warn", "level=warn", "service_name=shop")
	f(`{a="b"} |= "GET" != "POST"`, "POST GET", false)
	f(`{a="b"} | logfmt | status >= 500 and ms < 10`, "status=503 ms=9", true, "detected_level=warn", "level=warn", "ms=9", "service_name=shop", "status=503")
	f(`{a="b"} | logfmt | status >= 500`, "status=abc", false)
	f(`{a="b"} | logfmt | status >= 500`, "nothing=1", false)
	f(`{a="b"} | http_route="/cart"`, "x", true, "detected_level=warn", "level=warn", "service_name=shop") // metadata filters, does not label
	f(`{a="b"} | detected_level="warn" | level=~"w.*"`, "x", true, "detected_level=warn", "level=warn", "service_name=shop")
	f(`{a="b"} | json | drop __error__, level`, "x", true, "detected_level=warn", "service_name=shop")
	f(`{a="b"} | json | __error__=""`, "x", false)
	f(`{a="b"} | logfmt | drop a="1" | keep a, b, service_name`, "a=1 b=2 c=3", true, "b=2", "service_name=shop")
	f(`{a="b"} | logfmt | x="1" or y="2"`, "y=2", true, "detected_level=warn", "level=warn", "service_name=shop", "y=2")
	f(`{a="b"} | missing != "x"`, "l", true, "detected_level=warn", "level=warn", "service_name=shop")
	f(`{a="b"} | missing > 0`, "l", false)
}

// validName is what every extracted label name must look like.
var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// FuzzLineParsers checks that the json and logfmt stages never panic, extract only valid label names, and
// mark a line they reject with their own __error__ value.
func FuzzLineParsers(f *testing.F) {
	for _, s := range []string{`a=1 b="two words" c`, `{"a":{"b":[1,{"c":2}]},"d":"e"}`, `x="\"q\"" =`, `{"":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, kind := range []string{"json", "logfmt"} {
			for _, l := range extractFrom(kind, line) {
				if !validName.MatchString(l.Name) {
					t.Fatalf("%s %q: invalid label name %q", kind, line, l.Name)
				}
				if l.Name == labelError && l.Value != map[string]string{"json": errJSONParser, "logfmt": errLogfmtParser}[kind] {
					t.Fatalf("%s %q: __error__=%q", kind, line, l.Value)
				}
			}
		}
	})
}
