package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a filter the parser or compiler rejected. Its text starts with the line and column (1-based,
// counted in characters) of the offending part of the filter: `1:17: expected a value after '>=', found end
// of input`.
type Error struct {
	Line, Column int
	Offset       int    // byte offset in the filter
	Msg          string // what was expected and what was found
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// errorAt builds an Error for byte offset off of src.
func errorAt(src string, off int, msg string) *Error {
	off = min(max(off, 0), len(src))
	before := src[:off]
	line := strings.Count(before, "\n") + 1
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return &Error{Line: line, Column: utf8.RuneCountInString(before[lineStart:]) + 1, Offset: off, Msg: msg}
}
