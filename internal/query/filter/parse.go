package filter

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/otlpd/otlpd/internal/storage"
)

// Limits of the language, so that a hostile filter costs bounded time and memory.
const (
	MaxLength       = 16 << 10 // bytes of filter text
	MaxDepth        = 64       // nested parentheses and 'not'
	MaxRegexpLength = 1 << 10  // bytes of one regular expression
)

// Expr is a parsed filter. The zero Expr (from an empty or blank filter) matches everything.
type Expr struct {
	Root Node // nil: match everything
	src  string
}

// String prints the filter in canonical form; parsing it gives the same tree.
func (e *Expr) String() string {
	if e == nil || e.Root == nil {
		return ""
	}
	return e.Root.String()
}

// Parse parses a filter. A filter of only blanks matches everything. The error, if any, is an *Error.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLength {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("filter is %d bytes, longer than the limit of %d", len(src), MaxLength)}
	}
	p := &parser{lex: lexer{src: src}, src: src}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return &Expr{src: src}, nil
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokRParen {
			return nil, p.errorf(p.tok.pos, "unexpected ')' without a matching '('")
		}
		return nil, p.errorf(p.tok.pos, "expected 'and', 'or' or end of input, found %s", p.tok.describe())
	}
	return &Expr{Root: root, src: src}, nil
}

type parser struct {
	lex   lexer
	src   string
	tok   token
	depth int
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(pos int, format string, args ...any) *Error {
	return errorAt(p.src, pos, fmt.Sprintf(format, args...))
}

// isWord reports whether the current token is the keyword kw (case-insensitive).
func (p *parser) isWord(kw string) bool {
	return p.tok.kind == tokIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) parseOr() (Node, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: Or, L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseAnd() (Node, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: And, L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseUnary() (Node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, p.errorf(p.tok.pos, "filter nests deeper than the limit of %d levels", MaxDepth)
	}
	switch {
	case p.isWord("not"):
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, pos: pos}, nil
	case p.tok.kind == tokLParen:
		open := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokRParen {
			return nil, p.errorf(p.tok.pos, "expected a condition inside '()', found ')'")
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			op := errorAt(p.src, open, "")
			return nil, p.errorf(p.tok.pos, "expected ')' to close '(' at %d:%d, found %s", op.Line, op.Column, p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.parseCond()
}

func (p *parser) parseCond() (Node, error) {
	if p.tok.kind != tokIdent || isKeyword(p.tok.text) {
		return nil, p.errorf(p.tok.pos, "expected a field name such as service.name, duration or http.route, found %s", p.tok.describe())
	}
	field := parseField(p.tok.text)
	c := &Cond{Field: field, pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	opTok := p.tok
	switch {
	case p.tok.kind == tokOp:
		c.Op = map[string]CmpOp{"=": OpEq, "==": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe,
			"=~": OpMatch, "!~": OpNotMatch}[p.tok.text]
	case p.isWord("contains"):
		c.Op = OpContains
	case p.isWord("exists"):
		c.Op = OpExists
	default:
		return nil, p.errorf(p.tok.pos, "expected an operator after '%s' (=, !=, <, <=, >, >=, contains, =~, !~ or exists), found %s",
			field.Text, p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if c.Op == OpExists {
		if field.Intrinsic != Attribute {
			return nil, p.errorf(opTok.pos, "'exists' applies to attributes; '%s' is a built-in field", field.Text)
		}
		return c, nil
	}
	v, err := p.parseValue(opTok)
	if err != nil {
		return nil, err
	}
	c.Value = v
	if err := p.check(c, opTok); err != nil {
		return nil, err
	}
	return c, nil
}

// parseField resolves a field name: an intrinsic, a scoped attribute (span., log., resource., scope.) or an
// attribute looked up in every scope. A backquoted name is always an attribute of any scope.
func parseField(text string) Field {
	if strings.HasPrefix(text, "`") {
		return Field{Scope: storage.AttrAny, Key: text[1 : len(text)-1], Text: text}
	}
	if in, ok := intrinsicNames[text]; ok {
		return Field{Intrinsic: in, Text: text}
	}
	for _, pre := range []struct {
		prefix string
		scope  storage.AttrScope
	}{{"span.", storage.AttrSpan}, {"log.", storage.AttrSpan}, {"resource.", storage.AttrResource}, {"scope.", storage.AttrScopeSet}} {
		if k, ok := strings.CutPrefix(text, pre.prefix); ok && k != "" {
			return Field{Scope: pre.scope, Key: k, Text: text}
		}
	}
	return Field{Scope: storage.AttrAny, Key: text, Text: text}
}

func (p *parser) parseValue(op token) (Value, error) {
	t := p.tok
	v := Value{Pos: t.pos, Text: t.text}
	switch t.kind {
	case tokString:
		v.Kind, v.Str = String, t.text
	case tokNumber:
		if err := parseNumber(&v, t.text); err != nil {
			return v, p.errorf(t.pos, "%s", err)
		}
	case tokIdent:
		switch {
		case strings.EqualFold(t.text, "true"), strings.EqualFold(t.text, "false"):
			v.Kind, v.Bool = Bool, strings.EqualFold(t.text, "true")
		case isKeyword(t.text) || strings.HasPrefix(t.text, "`"):
			return v, p.errorf(t.pos, "expected a value after '%s', found %s", op.text, t.describe())
		default:
			v.Kind, v.Str = Word, t.text
		}
	default:
		return v, p.errorf(t.pos, "expected a value after '%s', found %s", op.text, t.describe())
	}
	return v, p.advance()
}

// parseNumber reads a number, a duration (250ms, 1.5s, 1m30s) or a size (10KiB, 1.5MB, 512B).
func parseNumber(v *Value, text string) error {
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		v.Kind, v.Int, v.Num, v.IsInt = Number, i, float64(i), true
		return nil
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("number %s is out of range", text)
		}
		v.Kind, v.Num = Number, f
		return nil
	} else if !strings.ContainsFunc(text, func(r rune) bool {
		return r != 'e' && r != 'E' && (r < '0' || r > '9') && r != '.' && r != '-' && r != '+'
	}) {
		if strings.Contains(err.Error(), "range") {
			return fmt.Errorf("number %s is out of range", text)
		}
		return fmt.Errorf("malformed number %s", text)
	}
	if d, err := time.ParseDuration(text); err == nil {
		v.Kind, v.Int, v.Num = DurationValue, int64(d), float64(d)
		return nil
	}
	numEnd := strings.IndexFunc(text, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' })
	num, unit := text[:numEnd], text[numEnd:]
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		if _, isDurUnit := durationUnits[unit]; isDurUnit {
			return fmt.Errorf("malformed duration %s", text)
		}
		return fmt.Errorf("unknown unit %q in %s; durations use ns, us, ms, s, m, h and sizes use B, KB, MB, GB, KiB, MiB, GiB", unit, text)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return fmt.Errorf("malformed size %s", text)
	}
	bytes := f * float64(mult)
	if math.IsInf(bytes, 0) || math.Abs(bytes) > 1<<62 {
		return fmt.Errorf("size %s is out of range", text)
	}
	v.Kind, v.Int, v.Num = Size, int64(bytes), float64(int64(bytes))
	return nil
}

var durationUnits = map[string]struct{}{"ns": {}, "us": {}, "µs": {}, "μs": {}, "ms": {}, "s": {}, "m": {}, "h": {}}

var sizeUnits = map[string]int64{
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

var kindNames = []string{"unspecified", "internal", "server", "client", "producer", "consumer"}
var statusNames = []string{"unset", "ok", "error"}

// severityBase maps a severity name to the first number of its range of four (OTLP SeverityNumber).
var severityBase = map[string]int{"trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17, "fatal": 21}

// check verifies that the value suits the field and the operator, and prepares what evaluation needs.
func (p *parser) check(c *Cond, op token) error {
	v := c.Value
	name := c.Field.Text
	describe := func() string {
		switch v.Kind {
		case String:
			return "string " + strconv.Quote(v.Str)
		case Word:
			return "identifier " + v.Str
		case Bool:
			return "boolean " + v.Text
		case DurationValue:
			return "duration " + v.Text
		case Size:
			return "size " + v.Text
		}
		return "number " + v.Text
	}
	opAllowed := func(ops ...CmpOp) error {
		for _, o := range ops {
			if c.Op == o {
				return nil
			}
		}
		list := make([]string, len(ops))
		for i, o := range ops {
			list[i] = "'" + o.String() + "'"
		}
		return p.errorf(op.pos, "'%s' compares with %s only, found '%s'", name, strings.Join(list, ", "), c.Op)
	}
	if c.Op == OpMatch || c.Op == OpNotMatch {
		if v.Kind != String {
			return p.errorf(v.Pos, "expected a quoted regular expression after '%s', found %s", op.text, describe())
		}
		if len(v.Str) > MaxRegexpLength {
			return p.errorf(v.Pos, "regular expression is %d bytes, longer than the limit of %d", len(v.Str), MaxRegexpLength)
		}
		re, err := regexp.Compile(v.Str)
		if err != nil {
			msg := err.Error()
			var se *syntax.Error
			if errors.As(err, &se) {
				msg = string(se.Code) + " in " + strconv.Quote(se.Expr)
			}
			return p.errorf(v.Pos, "invalid regular expression: %s", msg)
		}
		c.re = re
	}
	if c.Op == OpContains && v.Kind != String {
		return p.errorf(v.Pos, "expected a quoted string after 'contains', found %s", describe())
	}
	switch c.Field.Intrinsic {
	case ServiceName, SpanName, StatusMsg, SeverityText, Body, ScopeName:
		if v.Kind != String {
			hint := ""
			if v.Kind == Word {
				hint = fmt.Sprintf(" (write %q)", v.Str)
			}
			return p.errorf(v.Pos, "expected a quoted string after '%s', found %s%s", op.text, describe(), hint)
		}
	case Kind, Status:
		names := kindNames
		if c.Field.Intrinsic == Status {
			names = statusNames
		}
		if err := opAllowed(OpEq, OpNe); err != nil {
			return err
		}
		if (v.Kind != Word && v.Kind != String) || !containsFold(names, v.Str) {
			return p.errorf(v.Pos, "expected one of %s after '%s', found %s", strings.Join(names, ", "), op.text, describe())
		}
	case Duration:
		if err := opAllowed(OpEq, OpNe, OpLt, OpLe, OpGt, OpGe); err != nil {
			return err
		}
		if v.Kind == Number && v.IsInt && v.Int == 0 {
			c.Value.Kind = DurationValue
			return nil
		}
		if v.Kind != DurationValue {
			return p.errorf(v.Pos, "expected a duration such as 250ms or 1.5s after '%s', found %s", op.text, describe())
		}
	case Severity:
		if err := opAllowed(OpEq, OpNe, OpLt, OpLe, OpGt, OpGe); err != nil {
			return err
		}
		switch {
		case v.Kind == Number && v.IsInt && v.Int >= 0 && v.Int <= 24:
		case (v.Kind == Word || v.Kind == String) && severityRange(v.Str) != [2]int{}:
		default:
			return p.errorf(v.Pos, "expected a severity (trace, debug, info, warn, error, fatal, or a number 0-24) after '%s', found %s", op.text, describe())
		}
	case TraceIDField, SpanIDField:
		if err := opAllowed(OpEq, OpNe); err != nil {
			return err
		}
		size := 16
		if c.Field.Intrinsic == SpanIDField {
			size = 8
		}
		if v.Kind != String {
			return p.errorf(v.Pos, "expected a quoted hex ID after '%s', found %s", op.text, describe())
		}
		if _, ok := parseHexID(v.Str, size); !ok {
			return p.errorf(v.Pos, "expected %d hex digits after '%s', found %s", size*2, op.text, describe())
		}
	case Attribute:
		switch v.Kind {
		case Word:
			return p.errorf(v.Pos, "expected a value after '%s', found identifier %s (quote strings: %q)", op.text, v.Str, v.Str)
		case DurationValue:
			return p.errorf(v.Pos, "a duration literal compares only with 'duration'; compare attribute '%s' with a number", name)
		case Bool:
			return opAllowed(OpEq, OpNe)
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// severityRange returns the inclusive range of severity numbers a name stands for: error is 17..20, error3 is
// 19..19. The zero range means the name is unknown.
func severityRange(name string) [2]int {
	n := strings.ToLower(name)
	suffix := 0
	if l := len(n); l > 0 && n[l-1] >= '2' && n[l-1] <= '4' {
		suffix, n = int(n[l-1]-'1'), n[:l-1]
	}
	base, ok := severityBase[n]
	if !ok {
		return [2]int{}
	}
	if suffix > 0 {
		return [2]int{base + suffix, base + suffix}
	}
	return [2]int{base, base + 3}
}

// parseHexID decodes 1 to size*2 hex digits, left-padded with zeros.
func parseHexID(s string, size int) ([]byte, bool) {
	if len(s) == 0 || len(s) > size*2 {
		return nil, false
	}
	s = strings.Repeat("0", size*2-len(s)) + s
	b, err := hex.DecodeString(s)
	return b, err == nil
}
