package otlptest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// AssertAttributes fails the test unless span has every attribute in want. Numbers compare by value, so an
// int in want matches an int64 or float64 attribute.
func AssertAttributes(tb testing.TB, span Span, want map[string]any) {
	tb.Helper()
	if diff := attrsMatch(span.Attributes, want); diff != "" {
		tb.Errorf("otlptest: span %q (%s): %s\n  has: %s", span.Name, span.SpanID, diff, formatAttrs(span.Attributes))
	}
}

// AssertResource fails the test unless the resource map has every attribute in want.
func AssertResource(tb testing.TB, resource map[string]any, want map[string]any) {
	tb.Helper()
	if diff := attrsMatch(resource, want); diff != "" {
		tb.Errorf("otlptest: resource: %s\n  has: %s", diff, formatAttrs(resource))
	}
}

// AssertChildOf fails the test unless child's parent is parent (same trace, parent span ID).
func AssertChildOf(tb testing.TB, child, parent Span) {
	tb.Helper()
	if child.TraceID != parent.TraceID || child.ParentSpanID != parent.SpanID {
		tb.Errorf("otlptest: span %q is not a child of %q:\n  child  trace=%s span=%s parent=%s\n  parent trace=%s span=%s",
			child.Name, parent.Name, child.TraceID, child.SpanID, child.ParentSpanID, parent.TraceID, parent.SpanID)
	}
}

// attrsMatch returns "" when have contains want, else a description of the differences.
func attrsMatch(have, want map[string]any) string {
	var diffs []string
	for k, w := range want {
		h, ok := have[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s missing (want %v)", k, w))
		case !equalValue(h, w):
			diffs = append(diffs, fmt.Sprintf("%s = %#v, want %#v", k, h, w))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

func equalValue(have, want any) bool {
	if hf, ok := number(have); ok {
		if wf, ok := number(want); ok {
			return hf == wf
		}
	}
	return reflect.DeepEqual(have, want)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
