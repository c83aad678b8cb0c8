package loki

import "testing"

func TestParseLogQL(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		e, err := ParseLogQL(in)
		if err != nil {
			t.Errorf("ParseLogQL(%q): %v", in, err)
			return
		}
		if got := Format(e); got != want {
			t.Errorf("ParseLogQL(%q)\n got %s\nwant %s", in, got, want)
		}
	}
	// Stream selectors.
	f(`{service_name="shop"}`, `{service_name="shop"}`)
	f(` { a = "b" , c != "d", e=~"x|y", f!~"z.*", } `, `{a="b", c!="d", e=~"x|y", f!~"z.*"}`)
	f("{a=`raw\\d`}", `{a="raw\\d"}`)
	f(`{a="tab\there"}`, `{a="tab\there"}`)
	f("{a=\"b\"} # a comment", `{a="b"}`)
	f(`({a="b"})`, `{a="b"}`)
	// Line filters, chained.
	f(`{a="b"} |= "x" != "y" |~ "z+" !~ "(?i)w"`, `{a="b"} |= "x" != "y" |~ "z+" !~ "(?i)w"`)
	// Parsers, drop, keep and label filters.
	f(`{a="b"} | json | logfmt`, `{a="b"} | json | logfmt`)
	f(`{a="b"} | drop __error__, __error_details__`, `{a="b"} | drop __error__, __error_details__`)
	f(`{a="b"} | drop level="debug" | keep service_name, level`, `{a="b"} | drop level="debug" | keep service_name, level`)
	f(`{a="b"} | level="error"`, `{a="b"} | level="error"`)
	f(`{a="b"} | detected_level=~"warn|error" | status>=500`, `{a="b"} | detected_level=~"warn|error" | status >= 500`)
	f(`{a="b"} | x == 1.5 and y != -2`, `{a="b"} | (x == 1.5 and y != -2)`)
	f(`{a="b"} | x="1", y="2" z<3`, `{a="b"} | ((x="1" and y="2") and z < 3)`)
	f(`{a="b"} | x="1" or y="2" and z="3"`, `{a="b"} | (x="1" or (y="2" and z="3"))`)
	f(`{a="b"} | (x="1" or y="2") and z="3"`, `{a="b"} | ((x="1" or y="2") and z="3")`)
	f(`{a="b"} | json="x"`, `{a="b"} | json="x"`) // a label named json
	f(`{a="b"} | x == "s"`, `{a="b"} | x="s"`)
	// Metric queries.
	f(`count_over_time({a="b"}[5m])`, `count_over_time({a="b"} [5m])`)
	f(`rate({a="b"} |= "x" [1h30m])`, `rate({a="b"} |= "x" [1h30m])`)
	f(`bytes_rate({a="b"}[30s] |= "x")`, `bytes_rate({a="b"} |= "x" [30s])`)
	f(`bytes_over_time({a="b"} | json | drop __error__ [60000ms])`, `bytes_over_time({a="b"} | json | drop __error__ [1m])`)
	f(`sum by (level) (count_over_time({a="b"}[1m]))`, `sum by (level) (count_over_time({a="b"} [1m]))`)
	f(`sum(count_over_time({a="b"}[1m])) by (level, detected_level)`, `sum by (level, detected_level) (count_over_time({a="b"} [1m]))`)
	f(`avg without (host_name) (rate({a="b"}[1m]))`, `avg without (host_name) (rate({a="b"} [1m]))`)
	f(`topk(3, sum by (service_name) (rate({a="b"}[1m])))`, `topk (3, sum by (service_name) (rate({a="b"} [1m])))`)
	f(`count(min(max(rate({a="b"}[1m]))))`, `count (min (max (rate({a="b"} [1m]))))`)
	f(`vector(1)+vector(1)`, `(vector(1) + vector(1))`)
	f(`1 + 2 * 3 ^ 2 ^ 0.5`, `(1 + (2 * (3 ^ (2 ^ 0.5))))`)
	f(`1 - -2 - 3`, `((1 - -2) - 3)`)
	f(`sum(rate({a="b"}[1m])) / sum(rate({c="d"}[1m])) > bool 0.5`, `((sum (rate({a="b"} [1m])) / sum (rate({c="d"} [1m]))) > bool 0.5)`)
	f(`rate({a="b"}[1m]) > 0`, `(rate({a="b"} [1m]) > 0)`)
	f(`vector(-1)`, `vector(-1)`)
	f(`2.5e3`, `2500`)
	f(`1 >= bool 2`, `(1 >= bool 2)`)
}

func TestParseLogQLErrors(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := ParseLogQL(in)
		if err == nil {
			t.Errorf("ParseLogQL(%q) = nil error, want %q", in, want)
			return
		}
		if err.Error() != want {
			t.Errorf("ParseLogQL(%q)\n got %s\nwant %s", in, err, want)
		}
	}
	f(``, `parse error at line 1, col 1: unexpected end of query, expected a stream selector, a metric query or a number`)
	f(`{}`, `parse error at line 1, col 1: a stream selector needs at least one matcher that does not match the empty string, such as {service_name="shop"}`)
	f(`{a=~".*"}`, `parse error at line 1, col 1: a stream selector needs at least one matcher that does not match the empty string, such as {service_name="shop"}`)
	f(`{a="b"`, `parse error at line 1, col 7: unexpected end of query in the stream selector, expected "," or "}"`)
	f(`{a="b",`, `parse error at line 1, col 8: unexpected end of query, expected a label name`)
	f(`{a="b" c="d"}`, `parse error at line 1, col 8: unexpected identifier "c" in the stream selector, expected "," or "}"`)
	f(`{a>"b"}`, `parse error at line 1, col 3: unexpected ">" after label "a", expected =, !=, =~ or !~`)
	f(`{a=b}`, `parse error at line 1, col 4: unexpected identifier "b", expected a quoted string`)
	f(`{a="b}`, `parse error at line 1, col 4: unterminated string`)
	f(`{a="\q"}`, `parse error at line 1, col 4: invalid string "\q": bad escape sequence`)
	f(`{a=~"("}`, `parse error at line 1, col 5: invalid regular expression "(": missing closing )`)
	f(`{a="b"} |~ "[z-a]"`, `parse error at line 1, col 12: invalid regular expression "[z-a]": invalid character class range`)
	f("{a=\"b\"}\n  | line_format \"{{.x}}\"", `parse error at line 2, col 5: line_format is not supported by otlpd's LogQL`)
	f(`{a="b"} | label_format x=y`, `parse error at line 1, col 11: label_format is not supported by otlpd's LogQL`)
	f(`{a="b"} | pattern "<_> <x>"`, `parse error at line 1, col 11: the pattern parser is not supported by otlpd's LogQL`)
	f(`{a="b"} | json x="y"`, `parse error at line 1, col 16: json with parameters or flags is not supported by otlpd's LogQL`)
	f(`{a="b"} |= "x" or "y"`, `parse error at line 1, col 16: or between line filters is not supported by otlpd's LogQL`)
	f(`{a="b"} |= ip("1.2.3.4")`, `parse error at line 1, col 12: the ip() line filter is not supported by otlpd's LogQL`)
	f(`{a="b"} | d > 10s`, `parse error at line 1, col 15: comparing a label with a duration or byte size (10s) is not supported by otlpd's LogQL`)
	f(`{a="b"} | x > "s"`, `parse error at line 1, col 13: ">" compares numbers, not the string "s"`)
	f(`{a="b"} |`, `parse error at line 1, col 10: unexpected end of query after "|", expected json, logfmt, drop, keep or a label filter`)
	f(`{a="b"} | x`, `parse error at line 1, col 12: unexpected end of query after label "x", expected a comparison such as = or >`)
	f(`count_over_time({a="b"})`, `parse error at line 1, col 24: unexpected ")", expected "[" and a range such as [5m] in count_over_time`)
	f(`count_over_time({a="b"}[0s])`, `parse error at line 1, col 25: invalid duration "0s": use a positive duration such as 30s, 5m or 1h30m`)
	f(`count_over_time({a="b"}[5])`, `parse error at line 1, col 25: unexpected number "5", expected a duration such as 5m`)
	f(`count_over_time({a="b"}[5m] offset 1h)`, `parse error at line 1, col 29: offset is not supported by otlpd's LogQL`)
	f(`count_over_time({a="b"}[5m]) by (x)`, `parse error at line 1, col 30: count_over_time cannot be grouped with by; wrap it in sum by (...)`)
	f(`sum_over_time({a="b"} | unwrap x [5m])`, `parse error at line 1, col 1: the range aggregation sum_over_time is not supported by otlpd's LogQL`)
	f(`quantile_over_time(0.9, {a="b"}[5m])`, `parse error at line 1, col 1: the range aggregation quantile_over_time is not supported by otlpd's LogQL`)
	f(`stddev(rate({a="b"}[1m]))`, `parse error at line 1, col 1: the function stddev is not supported by otlpd's LogQL`)
	f(`sum({a="b"})`, `parse error at line 1, col 1: sum needs a metric query such as count_over_time(...), not a log query`)
	f(`topk(rate({a="b"}[1m]))`, `parse error at line 1, col 6: topk needs a positive integer as its first parameter, not identifier "rate"`)
	f(`sum by (a) (rate({a="b"}[1m])) by (b)`, `parse error at line 1, col 32: sum: grouping given twice`)
	f(`rate({a="b"}[1m]) and rate({a="b"}[1m])`, `parse error at line 1, col 19: the set operator and is not supported by otlpd's LogQL`)
	f(`rate({a="b"}[1m]) / on(a) rate({a="b"}[1m])`, `parse error at line 1, col 21: vector matching with on is not supported by otlpd's LogQL`)
	f(`{a="b"} + 1`, `parse error at line 1, col 9: a log query cannot be an operand of "+"; use a metric query such as count_over_time`)
	f(`1 > 2`, `parse error at line 1, col 3: a comparison between two numbers needs bool (1 > bool 0)`)
	f(`1 + bool 2`, `parse error at line 1, col 5: bool is only allowed after a comparison operator`)
	f(`foo(1)`, `parse error at line 1, col 1: unexpected identifier "foo", expected a stream selector, a metric query or a number`)
	f(`{a="b"} $`, `parse error at line 1, col 9: unexpected character '$'`)
	f(`{a="é"} @`, `parse error at line 1, col 9: unexpected character '@'`) // columns count characters
	f(`{a="b"}}`, `parse error at line 1, col 8: unexpected "}"`)
	f(`vector(x)`, `parse error at line 1, col 8: unexpected identifier "x", expected a number in vector()`)
}

func TestLabelName(t *testing.T) {
	for _, c := range []struct{ key, want string }{
		{"service.name", "service_name"}, {"host_name", "host_name"}, {"k8s.pod.name", "k8s_pod_name"},
		{"1st", "_1st"}, {"", "_"}, {"a-b/c é", "a_b_c___"}, {"_x9", "_x9"},
	} {
		if got := labelName(c.key); got != c.want {
			t.Errorf("labelName(%q) = %q, want %q", c.key, got, c.want)
		}
		if !labelNameIs(c.key, c.want) {
			t.Errorf("labelNameIs(%q, %q) = false", c.key, c.want)
		}
		if labelNameIs(c.key, c.want+"x") || labelNameIs(c.key, "x"+c.want) {
			t.Errorf("labelNameIs(%q) accepts a longer name", c.key)
		}
	}
}
