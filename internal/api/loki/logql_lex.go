package loki

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a LogQL token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDuration
	tLBrace
	tRBrace
	tLParen
	tRParen
	tLBracket
	tRBracket
	tComma
	tEq     // =
	tNeq    // !=
	tRe     // =~
	tNre    // !~
	tPipeEq // |=
	tPipeRe // |~
	tPipe   // |
	tAdd    // +
	tSub    // -
	tMul    // *
	tDiv    // /
	tMod    // %
	tPow    // ^
	tEqEq   // ==
	tGtr    // >
	tGte    // >=
	tLss    // <
	tLte    // <=
)

var tokNames = [...]string{
	tEOF: "end of query", tIdent: "identifier", tString: "string", tNumber: "number", tDuration: "duration",
	tLBrace: "{", tRBrace: "}", tLParen: "(", tRParen: ")", tLBracket: "[", tRBracket: "]", tComma: ",",
	tEq: "=", tNeq: "!=", tRe: "=~", tNre: "!~", tPipeEq: "|=", tPipeRe: "|~", tPipe: "|", tAdd: "+",
	tSub: "-", tMul: "*", tDiv: "/", tMod: "%", tPow: "^", tEqEq: "==", tGtr: ">", tGte: ">=", tLss: "<",
	tLte: "<=",
}

// token is one lexeme; text is the unquoted value of a string and the source text of everything else.
type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the query
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tIdent, tNumber, tDuration:
		return tokNames[t.kind] + " " + strconv.Quote(t.text)
	case tString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(tokNames[t.kind])
}

// ParseError is a LogQL syntax error or an unsupported construct, with the position (1-based line and
// column, counted in characters) where it was found.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// errorAt builds a ParseError at byte offset pos of src.
func errorAt(src string, pos int, format string, args ...any) *ParseError {
	pos = min(max(pos, 0), len(src))
	line, col := 1, 1
	for _, r := range src[:pos] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &ParseError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// lex splits a query into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '#': // a comment runs to the end of the line
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '"' || c == '`':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, text: s, pos: i})
			i += n
			continue
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			start := i
			kind := tNumber
			for i < len(src) && (isDigit(src[i]) || src[i] == '.' || src[i] == '_') {
				i++
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') && i+1 < len(src) &&
				(isDigit(src[i+1]) || ((src[i+1] == '+' || src[i+1] == '-') && i+2 < len(src) && isDigit(src[i+2]))) {
				i += 2
				for i < len(src) && isDigit(src[i]) {
					i++
				}
			} else if i < len(src) && isLetter(src[i]) {
				// 5m, 1h30m, 250ms, 10KB: a duration or a byte size.
				kind = tDuration
				for i < len(src) && (isLetter(src[i]) || isDigit(src[i])) {
					i++
				}
			}
			toks = append(toks, token{kind: kind, text: src[start:i], pos: start})
			continue
		case isLetter(c) || c == '_':
			start := i
			for i < len(src) && (isLetter(src[i]) || isDigit(src[i]) || src[i] == '_') {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start})
			continue
		}
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		kind, n := tEOF, 2
		switch two {
		case "!=":
			kind = tNeq
		case "=~":
			kind = tRe
		case "!~":
			kind = tNre
		case "|=":
			kind = tPipeEq
		case "|~":
			kind = tPipeRe
		case "==":
			kind = tEqEq
		case ">=":
			kind = tGte
		case "<=":
			kind = tLte
		}
		if kind == tEOF {
			n = 1
			switch c {
			case '{':
				kind = tLBrace
			case '}':
				kind = tRBrace
			case '(':
				kind = tLParen
			case ')':
				kind = tRParen
			case '[':
				kind = tLBracket
			case ']':
				kind = tRBracket
			case ',':
				kind = tComma
			case '=':
				kind = tEq
			case '|':
				kind = tPipe
			case '+':
				kind = tAdd
			case '-':
				kind = tSub
			case '*':
				kind = tMul
			case '/':
				kind = tDiv
			case '%':
				kind = tMod
			case '^':
				kind = tPow
			case '>':
				kind = tGtr
			case '<':
				kind = tLss
			default:
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errorAt(src, i, "unexpected character %q", r)
			}
		}
		toks = append(toks, token{kind: kind, text: src[i : i+n], pos: i})
		i += n
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// lexString reads a double-quoted string (Go escapes) or a backquoted raw string at src[i]; it returns the
// value and the length of the source text.
func lexString(src string, i int) (string, int, error) {
	q := src[i]
	j := i + 1
	for j < len(src) && src[j] != q {
		if q == '"' && src[j] == '\\' {
			j++
		}
		if q == '"' && j < len(src) && src[j] == '\n' {
			break
		}
		j++
	}
	if j >= len(src) || src[j] != q {
		return "", 0, errorAt(src, i, "unterminated string")
	}
	raw := src[i : j+1]
	if q == '`' {
		if !utf8.ValidString(raw) {
			return "", 0, errorAt(src, i, "string is not valid UTF-8")
		}
		return raw[1 : len(raw)-1], len(raw), nil
	}
	s, err := strconv.Unquote(raw)
	if err != nil {
		return "", 0, errorAt(src, i, "invalid string %s: bad escape sequence", truncate(raw, 40))
	}
	return s, len(raw), nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
