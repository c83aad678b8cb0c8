package loki

import (
	"errors"
	"testing"
)

// FuzzParseLogQL checks that the parser never panics, that every failure is a *ParseError with a position
// inside the query, and that whatever parses prints (Format) to a query that parses back to the same form.
func FuzzParseLogQL(f *testing.F) {
	for _, s := range []string{
		`{service_name="shop"} |= "error" | json | level="error"`,
		`sum by (level, detected_level) (count_over_time({service_name=~".+"} | drop __error__ [1m]))`,
		`topk(3, sum by (service_name) (rate({a="b"}[5m]))) > bool 0.5`,
		`vector(1)+vector(1)`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseLogQL(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLogQL(%q): error %v is no *ParseError", s, err)
			}
			if pe.Line < 1 || pe.Col < 1 || pe.Line > len(s)+1 || pe.Col > len(s)+1 {
				t.Fatalf("ParseLogQL(%q): position %d:%d outside the query", s, pe.Line, pe.Col)
			}
			return
		}
		out := Format(e)
		e2, err := ParseLogQL(out)
		if err != nil {
			t.Fatalf("ParseLogQL(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if out2 := Format(e2); out2 != out {
			t.Fatalf("ParseLogQL(%q) printed %q, which prints as %q", s, out, out2)
		}
	})
}
