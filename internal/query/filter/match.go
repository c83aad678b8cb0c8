package filter

import (
	"bytes"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// item is what a condition looks at: a span or a log record, with its resource and scope.
type item struct {
	res   pcommon.Resource
	scope pcommon.InstrumentationScope
	attrs pcommon.Map
	span  ptrace.Span
	rec   plog.LogRecord
	isLog bool
}

// pred is a compiled condition.
type pred func(it *item) bool

// signal is what an expression is compiled for.
type signal uint8

const (
	spans signal = iota
	logs
)

// SpanFilter is a filter compiled for spans. It is safe for concurrent use.
type SpanFilter struct {
	expr *Expr
	p    pred
}

var _ storage.SpanMatcher = (*SpanFilter)(nil)

// LogFilter is a filter compiled for log records. It is safe for concurrent use.
type LogFilter struct {
	expr *Expr
	p    pred
}

var _ storage.LogMatcher = (*LogFilter)(nil)

// Spans compiles the expression for spans. It fails when the filter names a field spans do not have
// (severity, body).
func (e *Expr) Spans() (*SpanFilter, error) {
	p, err := e.compile(spans)
	if err != nil {
		return nil, err
	}
	return &SpanFilter{expr: e, p: p}, nil
}

// Logs compiles the expression for log records. It fails when the filter names a field log records do not
// have (span name, kind, status, duration).
func (e *Expr) Logs() (*LogFilter, error) {
	p, err := e.compile(logs)
	if err != nil {
		return nil, err
	}
	return &LogFilter{expr: e, p: p}, nil
}

// ParseSpans parses and compiles a filter for spans.
func ParseSpans(src string) (*SpanFilter, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return e.Spans()
}

// ParseLogs parses and compiles a filter for log records.
func ParseLogs(src string) (*LogFilter, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return e.Logs()
}

// MatchSpan reports whether the span satisfies the filter.
func (f *SpanFilter) MatchSpan(res pcommon.Resource, scope pcommon.InstrumentationScope, span ptrace.Span) bool {
	if f == nil || f.p == nil {
		return true
	}
	it := item{res: res, scope: scope, attrs: span.Attributes(), span: span}
	return f.p(&it)
}

// MatchLog reports whether the log record satisfies the filter.
func (f *LogFilter) MatchLog(res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) bool {
	if f == nil || f.p == nil {
		return true
	}
	it := item{res: res, scope: scope, attrs: rec.Attributes(), rec: rec, isLog: true}
	return f.p(&it)
}

// String returns the filter in canonical form.
func (f *SpanFilter) String() string { return f.expr.String() }

// String returns the filter in canonical form.
func (f *LogFilter) String() string { return f.expr.String() }

func (e *Expr) compile(sig signal) (pred, error) {
	if e == nil || e.Root == nil {
		return nil, nil
	}
	return compileNode(e.src, e.Root, sig)
}

// flatten collects the operands of a chain of the same boolean operator, so `a and b and c` evaluates as
// one loop, not as nested calls.
func flatten(n Node, op BoolOp, dst []Node) []Node {
	if b, ok := n.(*Binary); ok && b.Op == op {
		dst = flatten(b.L, op, dst)
		return flatten(b.R, op, dst)
	}
	return append(dst, n)
}

func compileNode(src string, n Node, sig signal) (pred, error) {
	switch n := n.(type) {
	case *Binary:
		parts := flatten(n, n.Op, nil)
		ps := make([]pred, len(parts))
		for i, part := range parts {
			p, err := compileNode(src, part, sig)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		if n.Op == And {
			return func(it *item) bool {
				for _, p := range ps {
					if !p(it) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(it *item) bool {
			for _, p := range ps {
				if p(it) {
					return true
				}
			}
			return false
		}, nil
	case *Not:
		x, err := compileNode(src, n.X, sig)
		if err != nil {
			return nil, err
		}
		return func(it *item) bool { return !x(it) }, nil
	case *Cond:
		return compileCond(src, n, sig)
	}
	panic(fmt.Sprintf("BUG: filter node %T", n))
}

func compileCond(src string, c *Cond, sig signal) (pred, error) {
	in := c.Field.Intrinsic
	switch {
	case sig == spans && (in == Severity || in == SeverityText || in == Body):
		return nil, errorAt(src, c.pos, fmt.Sprintf("'%s' is a field of log records, not of spans", c.Field.Text))
	case sig == logs && (in == SpanName || in == Kind || in == Status || in == StatusMsg || in == Duration):
		return nil, errorAt(src, c.pos, fmt.Sprintf("'%s' is a field of spans, not of log records", c.Field.Text))
	}
	v := c.Value
	switch in {
	case ServiceName:
		return stringPred(c, func(it *item) (string, bool) {
			sv, ok := it.res.Attributes().Get("service.name")
			if !ok {
				return "", false
			}
			return sv.AsString(), true
		}), nil
	case SpanName:
		return stringPred(c, func(it *item) (string, bool) { return it.span.Name(), true }), nil
	case StatusMsg:
		return stringPred(c, func(it *item) (string, bool) { return it.span.Status().Message(), true }), nil
	case SeverityText:
		return stringPred(c, func(it *item) (string, bool) { return it.rec.SeverityText(), true }), nil
	case Body:
		return stringPred(c, func(it *item) (string, bool) { return it.rec.Body().AsString(), true }), nil
	case ScopeName:
		return stringPred(c, func(it *item) (string, bool) { return it.scope.Name(), true }), nil
	case Kind:
		want := ptrace.SpanKind(indexFold(kindNames, v.Str))
		eq := c.Op == OpEq
		return func(it *item) bool { return (it.span.Kind() == want) == eq }, nil
	case Status:
		want := ptrace.StatusCode(indexFold(statusNames, v.Str))
		eq := c.Op == OpEq
		return func(it *item) bool { return (it.span.Status().Code() == want) == eq }, nil
	case Duration:
		want := v.Int
		return func(it *item) bool {
			d := int64(it.span.EndTimestamp()) - int64(it.span.StartTimestamp())
			return cmpOrdered(c.Op, d, want)
		}, nil
	case Severity:
		lo, hi := severityBounds(v)
		op := c.Op
		return func(it *item) bool {
			n := int(it.rec.SeverityNumber())
			switch op {
			case OpEq:
				return n >= lo && n <= hi
			case OpNe:
				return n < lo || n > hi
			case OpLt:
				return n < lo
			case OpLe:
				return n <= hi
			case OpGt:
				return n > hi
			default:
				return n >= lo
			}
		}, nil
	case TraceIDField, SpanIDField:
		size := 16
		if in == SpanIDField {
			size = 8
		}
		want, _ := parseHexID(v.Str, size)
		eq := c.Op == OpEq
		return func(it *item) bool {
			var got []byte
			switch {
			case in == TraceIDField && it.isLog:
				id := it.rec.TraceID()
				got = id[:]
			case in == TraceIDField:
				id := it.span.TraceID()
				got = id[:]
			case it.isLog:
				id := it.rec.SpanID()
				got = id[:]
			default:
				id := it.span.SpanID()
				got = id[:]
			}
			return bytes.Equal(got, want) == eq
		}, nil
	}
	return attrPred(c), nil
}

func indexFold(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	panic("BUG: value was not checked at parse time")
}

func severityBounds(v Value) (lo, hi int) {
	if v.Kind == Number {
		return int(v.Int), int(v.Int)
	}
	r := severityRange(v.Str)
	return r[0], r[1]
}

type ordered interface{ ~int64 | ~float64 | ~string }

func cmpOrdered[T ordered](op CmpOp, got, want T) bool {
	switch op {
	case OpEq:
		return got == want
	case OpNe:
		return got != want
	case OpLt:
		return got < want
	case OpLe:
		return got <= want
	case OpGt:
		return got > want
	case OpGe:
		return got >= want
	}
	return false
}

// stringPred compiles a condition on a string field. A missing field satisfies only the negative operators
// (!=, !~).
func stringPred(c *Cond, get func(*item) (string, bool)) pred {
	op, want, re := c.Op, c.Value.Str, c.re
	return func(it *item) bool {
		s, ok := get(it)
		if !ok {
			return op == OpNe || op == OpNotMatch
		}
		switch op {
		case OpContains:
			return strings.Contains(s, want)
		case OpMatch:
			return re.MatchString(s)
		case OpNotMatch:
			return !re.MatchString(s)
		}
		return cmpOrdered(op, s, want)
	}
}

// lookup finds an attribute in the scope the field names. For AttrAny the item's own attributes come first,
// then the instrumentation scope's, then the resource's (the order storage.AttrAny defines).
func lookup(it *item, scope storage.AttrScope, key string) (pcommon.Value, bool) {
	switch scope {
	case storage.AttrSpan:
		return it.attrs.Get(key)
	case storage.AttrResource:
		return it.res.Attributes().Get(key)
	case storage.AttrScopeSet:
		return it.scope.Attributes().Get(key)
	}
	if v, ok := it.attrs.Get(key); ok {
		return v, true
	}
	if v, ok := it.scope.Attributes().Get(key); ok {
		return v, true
	}
	return it.res.Attributes().Get(key)
}

// attrPred compiles a condition on an attribute. Typing rules (docs/filter.md):
//   - a string literal with = and != compares with the value's string form (so "500" matches the int 500);
//     with <, <=, >, >= it compares strings only; contains, =~ and !~ look at the string form;
//   - a number or size compares numerically with int and double values only;
//   - a boolean compares with bool values only;
//   - != is exactly `not =`: a missing attribute satisfies it, as it satisfies !~.
func attrPred(c *Cond) pred {
	scope, key, op, v := c.Field.Scope, c.Field.Key, c.Op, c.Value
	neg := op == OpNe || op == OpNotMatch
	var test func(pcommon.Value) bool
	switch {
	case op == OpExists:
		return func(it *item) bool { _, ok := lookup(it, scope, key); return ok }
	case op == OpContains:
		test = func(a pcommon.Value) bool { return strings.Contains(a.AsString(), v.Str) }
	case op == OpMatch || op == OpNotMatch:
		re := c.re
		test = func(a pcommon.Value) bool { return re.MatchString(a.AsString()) }
	case v.Kind == String && (op == OpEq || op == OpNe):
		test = func(a pcommon.Value) bool { return asStringEqual(a, v.Str) }
	case v.Kind == String:
		test = func(a pcommon.Value) bool {
			return a.Type() == pcommon.ValueTypeStr && cmpOrdered(op, a.Str(), v.Str)
		}
	case v.Kind == Bool:
		test = func(a pcommon.Value) bool { return a.Type() == pcommon.ValueTypeBool && a.Bool() == v.Bool }
	default: // Number, Size
		cmp := op
		if op == OpNe {
			cmp = OpEq
		}
		test = func(a pcommon.Value) bool {
			switch a.Type() {
			case pcommon.ValueTypeInt:
				if v.IsInt || v.Kind == Size {
					return cmpOrdered(cmp, a.Int(), v.Int)
				}
				return cmpOrdered(cmp, float64(a.Int()), v.Num)
			case pcommon.ValueTypeDouble:
				return cmpOrdered(cmp, a.Double(), v.Num)
			}
			return false
		}
	}
	return func(it *item) bool {
		a, ok := lookup(it, scope, key)
		if !ok {
			return neg
		}
		return test(a) != neg
	}
}

// asStringEqual compares a value's string form with s without building the string for the common types.
func asStringEqual(a pcommon.Value, s string) bool {
	if a.Type() == pcommon.ValueTypeStr {
		return a.Str() == s
	}
	return a.AsString() == s
}
