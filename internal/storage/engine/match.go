package engine

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otlpd/otlpd/internal/storage"
)

// matchAttr evaluates one attribute predicate with the semantics documented on storage.AttrPredicate: AttrAny
// looks in the item, then the scope, then the resource and uses the first set holding the key; string
// comparisons use pcommon.Value.AsString; numeric ones hold only for int and double values.
func matchAttr(p storage.AttrPredicate, item, scope, res pcommon.Map) bool {
	var v pcommon.Value
	var ok bool
	switch p.Scope {
	case storage.AttrAny:
		if v, ok = item.Get(p.Key); !ok {
			if v, ok = scope.Get(p.Key); !ok {
				v, ok = res.Get(p.Key)
			}
		}
	case storage.AttrSpan:
		v, ok = item.Get(p.Key)
	case storage.AttrScopeSet:
		v, ok = scope.Get(p.Key)
	case storage.AttrResource:
		v, ok = res.Get(p.Key)
	}
	switch p.Op {
	case storage.OpEqual:
		return ok && v.AsString() == p.Value
	case storage.OpNotEqual:
		return !ok || v.AsString() != p.Value
	case storage.OpContains:
		return ok && strings.Contains(v.AsString(), p.Value)
	case storage.OpExists:
		return ok
	case storage.OpGreater, storage.OpGreaterEqual, storage.OpLess, storage.OpLessEqual:
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
		case storage.OpGreater:
			return x > p.Number
		case storage.OpGreaterEqual:
			return x >= p.Number
		case storage.OpLess:
			return x < p.Number
		default:
			return x <= p.Number
		}
	}
	return false
}

func matchAttrs(ps []storage.AttrPredicate, item, scope, res pcommon.Map) bool {
	for _, p := range ps {
		if !matchAttr(p, item, scope, res) {
			return false
		}
	}
	return true
}
