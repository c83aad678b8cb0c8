package loki

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// MaxQueryLength is the longest query ParseLogQL accepts, in bytes.
const MaxQueryLength = 64 << 10

// maxDepth bounds the nesting of parentheses and operators, so that a hostile query cannot exhaust the stack.
const maxDepth = 200

// ParseLogQL parses the subset of LogQL that otlpd evaluates (docs/loki.md). Anything outside it is a
// *ParseError naming the construct and its position.
func ParseLogQL(src string) (Expr, error) {
	if len(src) > MaxQueryLength {
		return nil, &ParseError{Line: 1, Col: 1, Msg: "query is " + strconv.Itoa(len(src)) + " bytes, more than the limit of " + strconv.Itoa(MaxQueryLength)}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "unexpected %s", t)
	}
	return e, nil
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) *ParseError {
	return errorAt(p.src, t.pos, format, args...)
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.errorf(t, "unexpected %s, expected %s", t, what)
	}
	return t, nil
}

func (p *parser) unsupported(t token, what string) *ParseError {
	return p.errorf(t, "%s is not supported by otlpd's LogQL", what)
}

// Binary operator precedence, loosest first.
func precedence(k tokKind) int {
	switch k {
	case tEqEq, tNeq, tGtr, tGte, tLss, tLte:
		return 1
	case tAdd, tSub:
		return 2
	case tMul, tDiv, tMod:
		return 3
	case tPow:
		return 4
	}
	return 0
}

// expr parses binary operations whose operators bind tighter than minPrec.
func (p *parser) expr(minPrec int) (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.peek(), "query nests deeper than the limit of %d", maxDepth)
	}
	lhs, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		opTok := p.peek()
		if opTok.kind == tIdent {
			switch opTok.text {
			case "and", "or", "unless":
				return nil, p.unsupported(opTok, "the set operator "+opTok.text)
			}
		}
		prec := precedence(opTok.kind)
		if prec == 0 || prec <= minPrec && !(opTok.kind == tPow && prec == minPrec) {
			return lhs, nil
		}
		p.next()
		b := &Binary{Op: opTok.kind}
		if t := p.peek(); t.kind == tIdent {
			switch t.text {
			case "bool":
				if prec != 1 {
					return nil, p.errorf(t, "bool is only allowed after a comparison operator")
				}
				b.Bool = true
				p.next()
			case "on", "ignoring", "group_left", "group_right":
				return nil, p.unsupported(t, "vector matching with "+t.text)
			}
		}
		nextMin := prec
		if opTok.kind == tPow {
			nextMin = prec - 1 // right associative
		}
		rhs, err := p.expr(nextMin)
		if err != nil {
			return nil, err
		}
		for _, side := range []Expr{lhs, rhs} {
			if _, ok := side.(*LogExpr); ok {
				return nil, p.errorf(opTok, "a log query cannot be an operand of %s; use a metric query such as count_over_time", opTok)
			}
		}
		_, lnum := lhs.(*Literal)
		_, rnum := rhs.(*Literal)
		if lnum && rnum && prec == 1 && !b.Bool {
			return nil, p.errorf(opTok, "a comparison between two numbers needs bool (1 > bool 0)")
		}
		b.L, b.R = lhs, rhs
		lhs = b
	}
}

func (p *parser) unary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tSub, tAdd:
		p.next()
		if n := p.peek(); n.kind == tNumber {
			lit, err := p.number()
			if err != nil {
				return nil, err
			}
			if t.kind == tSub {
				lit.V = -lit.V
			}
			return lit, nil
		}
		return nil, p.errorf(t, "unary %s is only supported before a number", t)
	case tNumber:
		return p.number()
	case tLParen:
		p.next()
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return e, nil
	case tLBrace:
		return p.logExpr()
	case tIdent:
		return p.call()
	}
	return nil, p.errorf(t, "unexpected %s, expected a stream selector, a metric query or a number", t)
}

func (p *parser) number() (*Literal, error) {
	t := p.next()
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return nil, p.errorf(t, "invalid number %q", t.text)
	}
	return &Literal{V: f}, nil
}

var rangeAggs = map[string]bool{"count_over_time": true, "rate": true, "bytes_over_time": true, "bytes_rate": true}

var unsupportedRangeAggs = map[string]bool{"sum_over_time": true, "avg_over_time": true, "max_over_time": true,
	"min_over_time": true, "first_over_time": true, "last_over_time": true, "stdvar_over_time": true,
	"stddev_over_time": true, "quantile_over_time": true, "absent_over_time": true, "rate_counter": true}

var vectorAggs = map[string]bool{"sum": true, "count": true, "avg": true, "min": true, "max": true, "topk": true, "bottomk": true}

var unsupportedFuncs = map[string]bool{"stddev": true, "stdvar": true, "sort": true, "sort_desc": true,
	"label_replace": true, "approx_topk": true}

// call parses what starts with an identifier: a range or vector aggregation, or vector(n).
func (p *parser) call() (Expr, error) {
	t := p.next()
	switch {
	case rangeAggs[t.text]:
		return p.rangeAgg(t)
	case vectorAggs[t.text]:
		return p.vectorAgg(t)
	case t.text == "vector":
		if _, err := p.expect(tLParen, `"(" after vector`); err != nil {
			return nil, err
		}
		neg := false
		if p.peek().kind == tSub {
			p.next()
			neg = true
		}
		if n := p.peek(); n.kind != tNumber {
			return nil, p.errorf(n, "unexpected %s, expected a number in vector()", n)
		}
		lit, err := p.number()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		if neg {
			lit.V = -lit.V
		}
		return &VectorLit{V: lit.V}, nil
	case unsupportedRangeAggs[t.text]:
		return nil, p.unsupported(t, "the range aggregation "+t.text)
	case unsupportedFuncs[t.text]:
		return nil, p.unsupported(t, "the function "+t.text)
	}
	return nil, p.errorf(t, "unexpected %s, expected a stream selector, a metric query or a number", t)
}

// rangeAgg parses op(selector pipeline [range]) or op(selector [range] pipeline).
func (p *parser) rangeAgg(op token) (Expr, error) {
	if _, err := p.expect(tLParen, `"(" after `+op.text); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tLBrace {
		return nil, p.errorf(t, "unexpected %s, expected a stream selector in %s", t, op.text)
	}
	le, err := p.logExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tLBracket, `"[" and a range such as [5m] in `+op.text); err != nil {
		return nil, err
	}
	d, err := p.duration()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRBracket, `"]"`); err != nil {
		return nil, err
	}
	if len(le.Stages) == 0 {
		// The older form puts the pipeline after the range: count_over_time({a="b"}[5m] |= "x").
		stages, err := p.stages()
		if err != nil {
			return nil, err
		}
		le.Stages = stages
	}
	if t := p.peek(); t.kind == tIdent && t.text == "offset" {
		return nil, p.unsupported(t, "offset")
	}
	if _, err := p.expect(tRParen, `")" closing `+op.text); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tIdent && (t.text == "by" || t.text == "without") {
		return nil, p.errorf(t, "%s cannot be grouped with %s; wrap it in sum %s (...)", op.text, t.text, t.text)
	}
	return &RangeAgg{Op: op.text, Log: le, Range: d}, nil
}

func (p *parser) duration() (time.Duration, error) {
	t := p.next()
	if t.kind != tDuration {
		return 0, p.errorf(t, "unexpected %s, expected a duration such as 5m", t)
	}
	d, err := model.ParseDuration(t.text)
	if err != nil || d <= 0 {
		return 0, p.errorf(t, "invalid duration %q: use a positive duration such as 30s, 5m or 1h30m", t.text)
	}
	return time.Duration(d), nil
}

// vectorAgg parses op [by|without (labels)] ([k,] expr) [by|without (labels)].
func (p *parser) vectorAgg(op token) (Expr, error) {
	a := &VectorAgg{Op: op.text}
	grouped := false
	if err := p.grouping(a, &grouped); err != nil {
		return nil, err
	}
	if _, err := p.expect(tLParen, `"(" after `+op.text); err != nil {
		return nil, err
	}
	if op.text == "topk" || op.text == "bottomk" {
		t := p.next()
		k, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || k <= 0 {
			return nil, p.errorf(t, "%s needs a positive integer as its first parameter, not %s", op.text, t)
		}
		a.Param = k
		if _, err := p.expect(tComma, `"," after the parameter of `+op.text); err != nil {
			return nil, err
		}
	}
	inner, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	switch inner.(type) {
	case *LogExpr:
		return nil, p.errorf(op, "%s needs a metric query such as count_over_time(...), not a log query", op.text)
	case *Literal:
		return nil, p.errorf(op, "%s needs a vector, not a number", op.text)
	}
	a.Inner = inner
	if _, err := p.expect(tRParen, `")" closing `+op.text); err != nil {
		return nil, err
	}
	if err := p.grouping(a, &grouped); err != nil {
		return nil, err
	}
	return a, nil
}

func (p *parser) grouping(a *VectorAgg, grouped *bool) error {
	t := p.peek()
	if t.kind != tIdent || (t.text != "by" && t.text != "without") {
		return nil
	}
	if *grouped {
		return p.errorf(t, "%s: grouping given twice", a.Op)
	}
	*grouped = true
	p.next()
	a.Without = t.text == "without"
	if _, err := p.expect(tLParen, `"(" after `+t.text); err != nil {
		return err
	}
	a.Grouping = []string{}
	for p.peek().kind != tRParen {
		n, err := p.expect(tIdent, "a label name")
		if err != nil {
			return err
		}
		a.Grouping = append(a.Grouping, n.text)
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		if p.peek().kind != tRParen {
			return p.errorf(p.peek(), `unexpected %s, expected "," or ")"`, p.peek())
		}
	}
	p.next()
	return nil
}

// logExpr parses a stream selector and its pipeline.
func (p *parser) logExpr() (*LogExpr, error) {
	open := p.peek()
	ms, err := p.selector()
	if err != nil {
		return nil, err
	}
	nonEmpty := false
	for _, m := range ms {
		if !m.Matches("") {
			nonEmpty = true
		}
	}
	if !nonEmpty {
		return nil, p.errorf(open, `a stream selector needs at least one matcher that does not match the empty string, such as {service_name="shop"}`)
	}
	stages, err := p.stages()
	if err != nil {
		return nil, err
	}
	return &LogExpr{Matchers: ms, Stages: stages}, nil
}

func (p *parser) selector() ([]*labels.Matcher, error) {
	if _, err := p.expect(tLBrace, `"{"`); err != nil {
		return nil, err
	}
	var ms []*labels.Matcher
	for p.peek().kind != tRBrace {
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		switch t := p.peek(); t.kind {
		case tComma:
			p.next()
		case tRBrace:
		default:
			return nil, p.errorf(t, `unexpected %s in the stream selector, expected "," or "}"`, t)
		}
	}
	p.next()
	return ms, nil
}

// matcher parses name op "value".
func (p *parser) matcher() (*labels.Matcher, error) {
	n, err := p.expect(tIdent, "a label name")
	if err != nil {
		return nil, err
	}
	opTok := p.next()
	var mt labels.MatchType
	switch opTok.kind {
	case tEq:
		mt = labels.MatchEqual
	case tNeq:
		mt = labels.MatchNotEqual
	case tRe:
		mt = labels.MatchRegexp
	case tNre:
		mt = labels.MatchNotRegexp
	default:
		return nil, p.errorf(opTok, "unexpected %s after label %q, expected =, !=, =~ or !~", opTok, n.text)
	}
	v, err := p.expect(tString, "a quoted string")
	if err != nil {
		return nil, err
	}
	return p.newMatcher(mt, n.text, v)
}

// newMatcher builds a matcher, reporting a bad regular expression at the position of its string.
func (p *parser) newMatcher(mt labels.MatchType, name string, v token) (*labels.Matcher, error) {
	if mt == labels.MatchRegexp || mt == labels.MatchNotRegexp {
		if _, err := regexp.Compile(v.text); err != nil {
			return nil, p.errorf(v, "invalid regular expression %s: %v", strconv.Quote(truncate(v.text, 60)), reErr(err))
		}
	}
	m, err := labels.NewMatcher(mt, name, v.text)
	if err != nil {
		return nil, p.errorf(v, "invalid regular expression %s", strconv.Quote(truncate(v.text, 60)))
	}
	return m, nil
}

// reErr shortens a regexp compile error to its reason.
func reErr(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return err.Error()
}

var unsupportedStages = map[string]string{"line_format": "line_format", "label_format": "label_format",
	"unwrap": "unwrap", "pattern": "the pattern parser", "regexp": "the regexp parser", "unpack": "unpack",
	"decolorize": "decolorize", "distinct": "distinct"}

// stages parses pipeline stages until something that is not one.
func (p *parser) stages() ([]Stage, error) {
	var out []Stage
	for {
		t := p.peek()
		switch t.kind {
		case tPipeEq, tPipeRe, tNeq, tNre:
			p.next()
			f, err := p.lineFilter(t)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		case tPipe:
			p.next()
			s, err := p.pipeStage()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		default:
			return out, nil
		}
	}
}

func (p *parser) lineFilter(op token) (Stage, error) {
	v := p.next()
	if v.kind == tIdent && v.text == "ip" {
		return nil, p.unsupported(v, "the ip() line filter")
	}
	if v.kind != tString {
		return nil, p.errorf(v, "unexpected %s after %s, expected a quoted string", v, op)
	}
	f := &LineFilter{Value: v.text}
	switch op.kind {
	case tPipeEq:
		f.Op = LineContains
	case tNeq:
		f.Op = LineNotContains
	case tPipeRe:
		f.Op = LineMatches
	case tNre:
		f.Op = LineNotMatches
	}
	if f.Op == LineMatches || f.Op == LineNotMatches {
		re, err := regexp.Compile(v.text)
		if err != nil {
			return nil, p.errorf(v, "invalid regular expression %s: %v", strconv.Quote(truncate(v.text, 60)), reErr(err))
		}
		f.re = re
	}
	if t := p.peek(); t.kind == tIdent && t.text == "or" {
		return nil, p.unsupported(t, "or between line filters")
	}
	return f, nil
}

func (p *parser) pipeStage() (Stage, error) {
	t := p.peek()
	if t.kind != tIdent && t.kind != tLParen {
		return nil, p.errorf(t, `unexpected %s after "|", expected json, logfmt, drop, keep or a label filter`, t)
	}
	if t.kind == tIdent && !isComparison(p.peekAt(1).kind) { // else a label filter on a label so named
		if what, ok := unsupportedStages[t.text]; ok {
			return nil, p.unsupported(t, what)
		}
		switch t.text {
		case "json", "logfmt":
			p.next()
			if n := p.peek(); n.kind == tIdent || n.kind == tString || n.kind == tSub {
				return nil, p.unsupported(n, t.text+" with parameters or flags")
			}
			return &ParserStage{Kind: t.text}, nil
		case "drop", "keep":
			if n := p.peekAt(1); n.kind == tIdent {
				p.next()
				return p.dropKeep(t)
			}
		}
	}
	c, err := p.cond(0)
	if err != nil {
		return nil, err
	}
	return &LabelFilter{Cond: c}, nil
}

// dropKeep parses the label list of drop (names or name="value" matchers) or keep (names).
func (p *parser) dropKeep(kw token) (Stage, error) {
	var names []string
	var ms []*labels.Matcher
	for {
		n := p.peek()
		if n.kind != tIdent {
			return nil, p.errorf(n, "unexpected %s, expected a label name after %s", n, kw.text)
		}
		switch p.peekAt(1).kind {
		case tEq, tNeq, tRe, tNre:
			if kw.text == "keep" {
				return nil, p.unsupported(n, "keep with a matcher")
			}
			m, err := p.matcher()
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		default:
			p.next()
			names = append(names, n.text)
		}
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if kw.text == "keep" {
		return &KeepStage{Names: names}, nil
	}
	return &DropStage{Names: names, Matchers: ms}, nil
}

// cond parses a label filter expression: or binds looser than and (written "and", "," or a space).
func (p *parser) cond(level int) (Cond, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.peek(), "query nests deeper than the limit of %d", maxDepth)
	}
	if level == 0 {
		l, err := p.cond(1)
		if err != nil {
			return nil, err
		}
		for t := p.peek(); t.kind == tIdent && t.text == "or"; t = p.peek() {
			p.next()
			r, err := p.cond(1)
			if err != nil {
				return nil, err
			}
			l = &OrCond{L: l, R: r}
		}
		return l, nil
	}
	l, err := p.condPrimary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tIdent && t.text == "and", t.kind == tComma:
			p.next()
		case t.kind == tIdent && t.text != "or" && isComparison(p.peekAt(1).kind):
			// a space between two label filters means and
		default:
			return l, nil
		}
		r, err := p.condPrimary()
		if err != nil {
			return nil, err
		}
		l = &AndCond{L: l, R: r}
	}
}

func isComparison(k tokKind) bool {
	switch k {
	case tEq, tEqEq, tNeq, tRe, tNre, tGtr, tGte, tLss, tLte:
		return true
	}
	return false
}

func (p *parser) condPrimary() (Cond, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.next()
		c, err := p.cond(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return c, nil
	}
	n, err := p.expect(tIdent, "a label name")
	if err != nil {
		return nil, err
	}
	opTok := p.next()
	if !isComparison(opTok.kind) {
		return nil, p.errorf(opTok, "unexpected %s after label %q, expected a comparison such as = or >", opTok, n.text)
	}
	v := p.next()
	switch v.kind {
	case tString:
		var mt labels.MatchType
		switch opTok.kind {
		case tEq, tEqEq:
			mt = labels.MatchEqual
		case tNeq:
			mt = labels.MatchNotEqual
		case tRe:
			mt = labels.MatchRegexp
		case tNre:
			mt = labels.MatchNotRegexp
		default:
			return nil, p.errorf(opTok, "%s compares numbers, not the string %q", opTok, truncate(v.text, 40))
		}
		m, err := p.newMatcher(mt, n.text, v)
		if err != nil {
			return nil, err
		}
		return &MatchCond{M: m}, nil
	case tNumber, tSub:
		neg := false
		if v.kind == tSub {
			neg = true
			v = p.next()
			if v.kind != tNumber {
				return nil, p.errorf(v, "unexpected %s, expected a number", v)
			}
		}
		if opTok.kind == tRe || opTok.kind == tNre {
			return nil, p.errorf(opTok, "%s needs a quoted regular expression, not a number", opTok)
		}
		f, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return nil, p.errorf(v, "invalid number %q", v.text)
		}
		if neg {
			f = -f
		}
		return &NumCond{Name: n.text, Op: opTok.kind, Value: f}, nil
	case tDuration:
		return nil, p.unsupported(v, "comparing a label with a duration or byte size ("+v.text+")")
	case tIdent:
		if v.text == "ip" {
			return nil, p.unsupported(v, "the ip() label filter")
		}
	}
	return nil, p.errorf(v, "unexpected %s after %s, expected a quoted string or a number", v, opTok)
}
