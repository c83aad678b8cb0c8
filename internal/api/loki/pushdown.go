package loki

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
)

// severityRanges are the OTLP severity numbers of each level (indexed like levels); 0 as the maximum
// means no maximum.
var severityRanges = [len(levels)][2]plog.SeverityNumber{{0, 0}, {1, 4}, {5, 8}, {9, 12}, {13, 16}, {17, 20}, {21, 0}}

// storageQuery turns the parts of a log query that the storage can evaluate into a storage.LogQuery over
// [start, end]: service_name equality (Service), level matchers (a severity range), the longest
// case-sensitive line filter (BodyContains) and the whole selector and line filters (Match). The pipeline
// still runs on every record returned, so what is pushed down only needs to be a superset.
// It reports false when no record can match (a level no severity has).
func storageQuery(le *LogExpr, start, end time.Time, order storage.Order) (storage.LogQuery, bool) {
	q := storage.LogQuery{Start: start, End: end, Order: order}
	allowed := [len(levels)]bool{}
	for i := range allowed {
		allowed[i] = true
	}
	restrictLevels := func(m *labels.Matcher) {
		for i, l := range levels {
			if !m.Matches(l) {
				allowed[i] = false
			}
		}
	}
	for _, m := range le.Matchers {
		switch {
		case m.Name == LabelService && m.Type == labels.MatchEqual:
			q.Service = m.Value
		case m.Name == LabelLevel:
			restrictLevels(m)
		}
	}
	// Label filters on the level before any stage that may change labels.
	var filters []*LineFilter
	parsed := false
	for _, s := range le.Stages {
		switch s := s.(type) {
		case *LineFilter:
			filters = append(filters, s)
			if s.Op == LineContains && len(s.Value) > len(q.BodyContains) {
				q.BodyContains = s.Value
			}
		case *ParserStage, *DropStage, *KeepStage:
			parsed = true
		case *LabelFilter:
			if !parsed {
				for _, m := range andMatchers(s.Cond) {
					if m.Name == LabelLevel || m.Name == LabelDetectedLevel {
						restrictLevels(m)
					}
				}
			}
		}
	}
	lo, hi := -1, -1
	for i, ok := range allowed {
		if ok {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	if lo < 0 {
		return q, false
	}
	contiguous := true
	for i := lo; i <= hi; i++ {
		contiguous = contiguous && allowed[i]
	}
	if contiguous && lo > 0 {
		q.MinSeverity = severityRanges[lo][0]
		q.MaxSeverity = severityRanges[hi][1]
	}
	q.Match = &recordMatcher{matchers: le.Matchers, filters: filters}
	return q, true
}

// andMatchers returns the string matchers of a condition that must all hold (nil for an or).
func andMatchers(c Cond) []*labels.Matcher {
	switch c := c.(type) {
	case *MatchCond:
		return []*labels.Matcher{c.M}
	case *AndCond:
		return append(andMatchers(c.L), andMatchers(c.R)...)
	}
	return nil
}

// recordMatcher evaluates a stream selector and line filters inside the storage scan, reading the resource
// attributes directly so that no label set is built for records that do not match.
type recordMatcher struct {
	matchers []*labels.Matcher
	filters  []*LineFilter
}

var _ storage.LogMatcher = (*recordMatcher)(nil)

func (m *recordMatcher) MatchLog(res pcommon.Resource, _ pcommon.InstrumentationScope, rec plog.LogRecord) bool {
	for _, lm := range m.matchers {
		var v string
		if lm.Name == LabelLevel {
			v = levelOf(rec.SeverityNumber())
		} else {
			v = resourceLabel(res, lm.Name)
		}
		if !lm.Matches(v) {
			return false
		}
	}
	if len(m.filters) > 0 {
		line := lineOf(rec)
		for _, f := range m.filters {
			if !f.match(line) {
				return false
			}
		}
	}
	return true
}

// resourceLabel is the value of a stream label of res other than level (as streamLabels gives it), or "".
func resourceLabel(res pcommon.Resource, name string) string {
	for k, v := range res.Attributes().All() {
		if !labelNameIs(k, name) {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeStr, pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
			// The first of the keys that map to the same name wins, as in streamLabels.
			if s := v.AsString(); s != "" {
				return s
			}
		}
	}
	return ""
}

// storageEvaluatesAll reports whether the storage query of le selects exactly the entries the pipeline
// keeps: the pipeline holds line filters only, which the storage evaluates in Match.
func storageEvaluatesAll(le *LogExpr) bool {
	for _, s := range le.Stages {
		if _, ok := s.(*LineFilter); !ok {
			return false
		}
	}
	return true
}
