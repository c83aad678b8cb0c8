package filter

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/otlpd/otlpd/internal/storage"
)

// Node is a node of a parsed filter: *Binary, *Not or *Cond.
type Node interface {
	// Pos is the byte offset in the filter where the node starts.
	Pos() int
	// String prints the node in the filter language, fully parenthesized where precedence needs it; parsing
	// the result gives the same tree.
	String() string
}

// BoolOp joins two conditions.
type BoolOp uint8

const (
	And BoolOp = iota
	Or
)

// Binary is `L and R` or `L or R`.
type Binary struct {
	Op   BoolOp
	L, R Node
}

// Not is `not X`.
type Not struct {
	X   Node
	pos int
}

// Intrinsic names a built-in field of a span or log record. Zero means the field is an attribute.
type Intrinsic uint8

const (
	Attribute    Intrinsic = iota
	ServiceName            // service.name: the resource attribute service.name
	SpanName               // name
	Kind                   // kind: server, client, producer, consumer, internal, unspecified
	Status                 // status: unset, ok, error
	StatusMsg              // status.message
	Duration               // duration: span end - start
	Severity               // severity: the log record's severity number; names are ranges (error = 17..20)
	SeverityText           // severity_text
	Body                   // body: the log record's body as a string
	TraceIDField           // trace_id
	SpanIDField            // span_id
	ScopeName              // scope.name: the instrumentation scope's name
)

var intrinsicNames = map[string]Intrinsic{
	"service.name":   ServiceName,
	"name":           SpanName,
	"kind":           Kind,
	"status":         Status,
	"status.message": StatusMsg,
	"duration":       Duration,
	"severity":       Severity,
	"severity_text":  SeverityText,
	"body":           Body,
	"trace_id":       TraceIDField,
	"span_id":        SpanIDField,
	"scope.name":     ScopeName,
}

// Field is the left side of a condition: an intrinsic, or an attribute key looked up in Scope.
type Field struct {
	Intrinsic Intrinsic
	Scope     storage.AttrScope // attributes only
	Key       string            // attributes only
	Text      string            // as written
}

// CmpOp is the comparison of a condition.
type CmpOp uint8

const (
	OpEq CmpOp = iota
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpContains
	OpMatch    // =~
	OpNotMatch // !~
	OpExists
)

var cmpOpText = [...]string{"=", "!=", "<", "<=", ">", ">=", "contains", "=~", "!~", "exists"}

func (o CmpOp) String() string { return cmpOpText[o] }

// ValueKind is the type of a literal.
type ValueKind uint8

const (
	NoValue ValueKind = iota // exists has no value
	String
	Number
	Bool
	DurationValue
	Size
	Word // a bare word such as server, error, warn
)

// Value is the literal right side of a condition.
type Value struct {
	Kind  ValueKind
	Str   string  // String, Word
	Num   float64 // Number, Size, DurationValue (nanoseconds)
	Int   int64   // Number when IsInt, Size, DurationValue
	IsInt bool
	Bool  bool
	Text  string // as written
	Pos   int
}

// Cond is one comparison: `Field Op Value`, or `Field exists`.
type Cond struct {
	Field Field
	Op    CmpOp
	Value Value
	pos   int
	re    *regexp.Regexp // OpMatch, OpNotMatch
}

func (b *Binary) Pos() int { return b.L.Pos() }
func (n *Not) Pos() int    { return n.pos }
func (c *Cond) Pos() int   { return c.pos }

func (b *Binary) String() string {
	op := " and "
	if b.Op == Or {
		op = " or "
	}
	return wrap(b.L, b.Op) + op + wrap(b.R, b.Op)
}

// wrap parenthesizes an operand of an `and` whose operator binds looser.
func wrap(n Node, parent BoolOp) string {
	if b, ok := n.(*Binary); ok && b.Op == Or && parent == And {
		return "(" + b.String() + ")"
	}
	return n.String()
}

func (n *Not) String() string {
	if _, ok := n.X.(*Binary); ok {
		return "not (" + n.X.String() + ")"
	}
	return "not " + n.X.String()
}

func (c *Cond) String() string {
	if c.Op == OpExists {
		return c.Field.Text + " exists"
	}
	return c.Field.Text + " " + c.Op.String() + " " + c.Value.String()
}

// String prints the literal so that it parses back to the same value.
func (v Value) String() string {
	switch v.Kind {
	case String:
		return strconv.Quote(v.Str)
	case Bool:
		return strconv.FormatBool(v.Bool)
	case DurationValue:
		return time.Duration(v.Int).String()
	case Size:
		return strconv.FormatInt(v.Int, 10) + "B"
	case Number:
		if v.IsInt {
			return strconv.FormatInt(v.Int, 10)
		}
		s := strconv.FormatFloat(v.Num, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return s
	default:
		return v.Str
	}
}
