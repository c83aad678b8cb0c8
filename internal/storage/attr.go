package storage

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Match reports whether p holds for an item (span or log record) with the given attribute sets. Every backend
// evaluates predicates with this function (or an index that gives the same answers), so the semantics are
// one:
//
//   - p.Scope picks the attribute set; AttrAny looks in item, then scope, then resource, and uses the first
//     set that has p.Key. An unknown scope sees no attribute.
//   - OpEqual, OpContains compare the value's string form (pcommon.Value.AsString); an absent attribute fails.
//   - OpNotEqual holds when the attribute is absent or its string form differs.
//   - OpExists holds when the attribute is present, whatever its value (an empty value counts).
//   - The numeric ops hold only for int and double values; strings are not parsed, and NaN compares false.
//   - An unknown op fails.
func (p AttrPredicate) Match(item, scope, resource pcommon.Map) bool {
	v, ok := p.lookup(item, scope, resource)
	switch p.Op {
	case OpEqual:
		return ok && v.AsString() == p.Value
	case OpNotEqual:
		return !ok || v.AsString() != p.Value
	case OpContains:
		return ok && strings.Contains(v.AsString(), p.Value)
	case OpExists:
		return ok
	case OpGreater, OpGreaterEqual, OpLess, OpLessEqual:
		if !ok {
			return false
		}
		var x float64
		switch v.Type() {
		case pcommon.ValueTypeInt:
			x = float64(v.Int())
		case pcommon.ValueTypeDouble:
			x = v.Double()
		default:
			return false
		}
		switch p.Op {
		case OpGreater:
			return x > p.Number
		case OpGreaterEqual:
			return x >= p.Number
		case OpLess:
			return x < p.Number
		default:
			return x <= p.Number
		}
	}
	return false
}

func (p AttrPredicate) lookup(item, scope, resource pcommon.Map) (pcommon.Value, bool) {
	switch p.Scope {
	case AttrAny:
		if v, ok := item.Get(p.Key); ok {
			return v, true
		}
		if v, ok := scope.Get(p.Key); ok {
			return v, true
		}
		return resource.Get(p.Key)
	case AttrSpan:
		return item.Get(p.Key)
	case AttrScopeSet:
		return scope.Get(p.Key)
	case AttrResource:
		return resource.Get(p.Key)
	}
	return pcommon.Value{}, false
}

// MatchAll reports whether every predicate of ps holds (true for none).
func MatchAll(ps []AttrPredicate, item, scope, resource pcommon.Map) bool {
	for _, p := range ps {
		if !p.Match(item, scope, resource) {
			return false
		}
	}
	return true
}
