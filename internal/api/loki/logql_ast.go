package loki

import (
	"regexp"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Expr is a parsed LogQL query: a *LogExpr (a log query) or a metric expression (*RangeAgg, *VectorAgg,
// *Binary, *Literal, *VectorLit).
type Expr interface{ isExpr() }

// LogExpr is a stream selector and its pipeline: {a="b"} |= "x" | json | level="error".
type LogExpr struct {
	Matchers []*labels.Matcher // the stream selector; Prometheus matcher semantics (regexes fully anchored)
	Stages   []Stage
}

// Stage is one step of a log pipeline: *LineFilter, *ParserStage, *LabelFilter, *DropStage or *KeepStage.
type Stage interface{ isStage() }

// LineFilterOp is a line filter's operator.
type LineFilterOp uint8

const (
	LineContains    LineFilterOp = iota // |= "x"
	LineNotContains                     // != "x"
	LineMatches                         // |~ "re"
	LineNotMatches                      // !~ "re"
)

// LineFilter keeps the lines that contain (or match) a string (or regular expression, not anchored).
type LineFilter struct {
	Op    LineFilterOp
	Value string
	re    *regexp.Regexp
}

// ParserStage extracts labels from the line: Kind is "json" or "logfmt".
type ParserStage struct{ Kind string }

// LabelFilter keeps the entries whose labels satisfy a condition.
type LabelFilter struct{ Cond Cond }

// DropStage removes labels: by name, or only where a matcher holds.
type DropStage struct {
	Names    []string
	Matchers []*labels.Matcher
}

// KeepStage removes every label but the named ones.
type KeepStage struct{ Names []string }

// Cond is a condition on an entry's labels: *MatchCond, *NumCond, *AndCond or *OrCond.
type Cond interface{ isCond() }

// MatchCond compares a label's value with a string (=, !=, =~, !~). An absent label has the value "".
type MatchCond struct{ M *labels.Matcher }

// NumCond compares a label's value, read as a number, with a number; it fails when the value is no number.
type NumCond struct {
	Name  string
	Op    tokKind // tEq/tEqEq, tNeq, tGtr, tGte, tLss, tLte
	Value float64
}

// AndCond and OrCond combine conditions.
type (
	AndCond struct{ L, R Cond }
	OrCond  struct{ L, R Cond }
)

// RangeAgg is a range aggregation over log entries: count_over_time, rate, bytes_over_time, bytes_rate.
type RangeAgg struct {
	Op    string
	Log   *LogExpr
	Range time.Duration
}

// VectorAgg aggregates the samples of its inner expression at each step: sum, count, avg, min, max, topk,
// bottomk, by or without the Grouping labels.
type VectorAgg struct {
	Op       string
	Param    int // k of topk and bottomk
	Without  bool
	Grouping []string
	Inner    Expr
}

// Binary is an arithmetic (+ - * / % ^) or comparison (== != > >= < <=) operation; a comparison filters
// unless Bool is set, when it yields 0 or 1.
type Binary struct {
	Op   tokKind
	Bool bool
	L, R Expr
}

// Literal is a number: a scalar.
type Literal struct{ V float64 }

// VectorLit is vector(n): one sample with no labels at every step.
type VectorLit struct{ V float64 }

func (*LogExpr) isExpr()   {}
func (*RangeAgg) isExpr()  {}
func (*VectorAgg) isExpr() {}
func (*Binary) isExpr()    {}
func (*Literal) isExpr()   {}
func (*VectorLit) isExpr() {}

func (*LineFilter) isStage()  {}
func (*ParserStage) isStage() {}
func (*LabelFilter) isStage() {}
func (*DropStage) isStage()   {}
func (*KeepStage) isStage()   {}

func (*MatchCond) isCond() {}
func (*NumCond) isCond()   {}
func (*AndCond) isCond()   {}
func (*OrCond) isCond()    {}
