package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind classifies a token.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber // a number, optionally with a unit suffix (250ms, 10KiB)
	tokLParen
	tokRParen
	tokOp // = == != < <= > >= =~ !~
)

// token is one lexical element. pos is the byte offset of its first byte in the source.
type token struct {
	kind tokenKind
	pos  int
	text string // source text; for strings, the decoded value
}

// describe names the token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokIdent:
		if isKeyword(t.text) {
			return "'" + strings.ToLower(t.text) + "'"
		}
		return "identifier " + t.text
	case tokString:
		return "string " + strconv.Quote(t.text)
	case tokNumber:
		return "number " + t.text
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	default:
		return "'" + t.text + "'"
	}
}

func isKeyword(s string) bool {
	switch strings.ToLower(s) {
	case "and", "or", "not", "contains", "exists", "true", "false":
		return true
	}
	return false
}

// lexer splits the source into tokens on demand.
type lexer struct {
	src string
	off int
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '/'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token, or an error for text that is not a token.
func (l *lexer) next() (token, error) {
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			l.off++
			continue
		}
		break
	}
	start := l.off
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.off]
	switch {
	case c == '(':
		l.off++
		return token{kind: tokLParen, pos: start, text: "("}, nil
	case c == ')':
		l.off++
		return token{kind: tokRParen, pos: start, text: ")"}, nil
	case c == '=' || c == '!' || c == '<' || c == '>':
		l.off++
		if l.off < len(l.src) {
			d := l.src[l.off]
			if d == '=' || (d == '~' && (c == '=' || c == '!')) {
				l.off++
			}
		}
		text := l.src[start:l.off]
		if text == "!" {
			return token{}, errorAt(l.src, start, "unexpected '!', expected '!=' or '!~' (use 'not' to negate)")
		}
		return token{kind: tokOp, pos: start, text: text}, nil
	case c == '"':
		return l.lexString(start)
	case c == '`':
		end := strings.IndexByte(l.src[start+1:], '`')
		if end < 0 {
			return token{}, errorAt(l.src, start, "unterminated quoted name, expected '`' before end of input")
		}
		l.off = start + 1 + end + 1
		name := l.src[start+1 : start+1+end]
		if name == "" {
			return token{}, errorAt(l.src, start, "empty quoted name ``")
		}
		// A quoted name is an identifier that is never a keyword or an intrinsic; the parser sees the backquote.
		return token{kind: tokIdent, pos: start, text: l.src[start:l.off]}, nil
	case isDigit(c) || ((c == '-' || c == '.') && l.off+1 < len(l.src) && (isDigit(l.src[l.off+1]) || l.src[l.off+1] == '.')):
		l.off++
		for l.off < len(l.src) {
			d := l.src[l.off]
			if isDigit(d) || d == '.' || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || d == '_' ||
				((d == '+' || d == '-') && (l.src[l.off-1] == 'e' || l.src[l.off-1] == 'E')) {
				l.off++
				continue
			}
			if d >= utf8.RuneSelf { // µs
				r, n := utf8.DecodeRuneInString(l.src[l.off:])
				if r == 'µ' || r == 'μ' {
					l.off += n
					continue
				}
			}
			break
		}
		return token{kind: tokNumber, pos: start, text: l.src[start:l.off]}, nil
	case isIdentStart(c):
		l.off++
		for l.off < len(l.src) && isIdentPart(l.src[l.off]) {
			l.off++
		}
		return token{kind: tokIdent, pos: start, text: l.src[start:l.off]}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, errorAt(l.src, start, fmt.Sprintf("unexpected character %q", r))
}

// lexString reads a double-quoted string with Go-style escapes (\" \\ \n \t \r \uXXXX ...).
func (l *lexer) lexString(start int) (token, error) {
	var b strings.Builder
	i := start + 1
	for {
		if i >= len(l.src) {
			return token{}, errorAt(l.src, start, "unterminated string, expected '\"' before end of input")
		}
		c := l.src[i]
		switch {
		case c == '"':
			l.off = i + 1
			return token{kind: tokString, pos: start, text: b.String()}, nil
		case c == '\\':
			if i+1 >= len(l.src) {
				return token{}, errorAt(l.src, start, "unterminated string, expected '\"' before end of input")
			}
			r, multibyte, tail, err := strconv.UnquoteChar(l.src[i:], '"')
			if err != nil {
				return token{}, errorAt(l.src, i, fmt.Sprintf("invalid escape sequence in string, expected one of \\\" \\\\ \\n \\t \\r \\uXXXX"))
			}
			if r < utf8.RuneSelf || !multibyte {
				b.WriteByte(byte(r)) // \xNN and octal escapes are bytes
			} else {
				b.WriteRune(r)
			}
			i = len(l.src) - len(tail)
		case c == '\n':
			return token{}, errorAt(l.src, start, "unterminated string, expected '\"' before end of line")
		default:
			b.WriteByte(c)
			i++
		}
	}
}
