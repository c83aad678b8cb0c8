package loki

import (
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// Format prints a parsed query in a canonical form that parses back to the same tree; tests compare it.
func Format(e Expr) string {
	var b strings.Builder
	formatExpr(&b, e)
	return b.String()
}

var opText = map[tokKind]string{tAdd: "+", tSub: "-", tMul: "*", tDiv: "/", tMod: "%", tPow: "^", tEqEq: "==",
	tNeq: "!=", tGtr: ">", tGte: ">=", tLss: "<", tLte: "<=", tEq: "="}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func formatExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *LogExpr:
		b.WriteByte('{')
		for i, m := range e.Matchers {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m.String())
		}
		b.WriteByte('}')
		for _, s := range e.Stages {
			formatStage(b, s)
		}
	case *RangeAgg:
		b.WriteString(e.Op + "(")
		formatExpr(b, e.Log)
		b.WriteString(" [" + model.Duration(e.Range).String() + "])")
	case *VectorAgg:
		b.WriteString(e.Op)
		if e.Grouping != nil {
			if e.Without {
				b.WriteString(" without (")
			} else {
				b.WriteString(" by (")
			}
			b.WriteString(strings.Join(e.Grouping, ", ") + ")")
		}
		b.WriteString(" (")
		if e.Param > 0 {
			b.WriteString(strconv.Itoa(e.Param) + ", ")
		}
		formatExpr(b, e.Inner)
		b.WriteByte(')')
	case *Binary:
		b.WriteByte('(')
		formatExpr(b, e.L)
		b.WriteString(" " + opText[e.Op])
		if e.Bool {
			b.WriteString(" bool")
		}
		b.WriteByte(' ')
		formatExpr(b, e.R)
		b.WriteByte(')')
	case *Literal:
		b.WriteString(num(e.V))
	case *VectorLit:
		b.WriteString("vector(" + num(e.V) + ")")
	}
}

func formatStage(b *strings.Builder, s Stage) {
	switch s := s.(type) {
	case *LineFilter:
		op := [...]string{"|=", "!=", "|~", "!~"}[s.Op]
		b.WriteString(" " + op + " " + strconv.Quote(s.Value))
	case *ParserStage:
		b.WriteString(" | " + s.Kind)
	case *LabelFilter:
		b.WriteString(" | ")
		formatCond(b, s.Cond)
	case *DropStage:
		b.WriteString(" | drop ")
		var parts []string
		parts = append(parts, s.Names...)
		for _, m := range s.Matchers {
			parts = append(parts, m.String())
		}
		b.WriteString(strings.Join(parts, ", "))
	case *KeepStage:
		b.WriteString(" | keep " + strings.Join(s.Names, ", "))
	}
}

func formatCond(b *strings.Builder, c Cond) {
	switch c := c.(type) {
	case *MatchCond:
		b.WriteString(c.M.String())
	case *NumCond:
		b.WriteString(c.Name + " " + opText[c.Op] + " " + num(c.Value))
	case *AndCond:
		b.WriteByte('(')
		formatCond(b, c.L)
		b.WriteString(" and ")
		formatCond(b, c.R)
		b.WriteByte(')')
	case *OrCond:
		b.WriteByte('(')
		formatCond(b, c.L)
		b.WriteString(" or ")
		formatCond(b, c.R)
		b.WriteByte(')')
	}
}
