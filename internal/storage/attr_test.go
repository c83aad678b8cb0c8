package storage_test

import (
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otlpd/otlpd/internal/storage"
)

func TestAttrPredicateMatch(t *testing.T) {
	item, scope, res := pcommon.NewMap(), pcommon.NewMap(), pcommon.NewMap()
	item.PutStr("k", "item")
	scope.PutStr("k", "scope")
	res.PutStr("k", "res")
	scope.PutStr("s", "scope-only")
	res.PutStr("s", "res")
	res.PutStr("r", "res-only")
	item.PutInt("code", 500)
	item.PutDouble("ratio", 0.25)
	item.PutDouble("nan", math.NaN())
	item.PutStr("numstr", "700")
	item.PutBool("ok", true)
	item.PutEmpty("empty")
	item.PutEmptySlice("list").AppendEmpty().SetStr("a")

	f := func(scopeSel storage.AttrScope, key string, op storage.AttrOp, value string, number float64, want bool) {
		t.Helper()
		p := storage.AttrPredicate{Scope: scopeSel, Key: key, Op: op, Value: value, Number: number}
		if got := p.Match(item, scope, res); got != want {
			t.Errorf("%+v.Match = %t, want %t", p, got, want)
		}
	}
	// AttrAny takes the first set holding the key: item, then scope, then resource.
	f(storage.AttrAny, "k", storage.OpEqual, "item", 0, true)
	f(storage.AttrAny, "k", storage.OpEqual, "scope", 0, false)
	f(storage.AttrAny, "s", storage.OpEqual, "scope-only", 0, true)
	f(storage.AttrAny, "s", storage.OpEqual, "res", 0, false)
	f(storage.AttrAny, "r", storage.OpEqual, "res-only", 0, true)
	f(storage.AttrSpan, "k", storage.OpEqual, "item", 0, true)
	f(storage.AttrScopeSet, "k", storage.OpEqual, "scope", 0, true)
	f(storage.AttrResource, "k", storage.OpEqual, "res", 0, true)
	f(storage.AttrSpan, "r", storage.OpExists, "", 0, false)
	f(storage.AttrScopeSet, "r", storage.OpExists, "", 0, false)
	f(storage.AttrResource, "s", storage.OpExists, "", 0, true)
	f(storage.AttrScope(99), "k", storage.OpExists, "", 0, false)
	f(storage.AttrScope(99), "k", storage.OpNotEqual, "x", 0, true)

	// String forms.
	f(storage.AttrSpan, "code", storage.OpEqual, "500", 0, true)
	f(storage.AttrSpan, "ratio", storage.OpEqual, "0.25", 0, true)
	f(storage.AttrSpan, "ok", storage.OpEqual, "true", 0, true)
	f(storage.AttrSpan, "list", storage.OpEqual, `["a"]`, 0, true)
	f(storage.AttrSpan, "empty", storage.OpEqual, "", 0, true)
	f(storage.AttrSpan, "absent", storage.OpEqual, "", 0, false)
	f(storage.AttrSpan, "code", storage.OpContains, "50", 0, true)
	f(storage.AttrSpan, "code", storage.OpContains, "6", 0, false)
	f(storage.AttrSpan, "absent", storage.OpContains, "", 0, false)
	f(storage.AttrSpan, "code", storage.OpNotEqual, "500", 0, false)
	f(storage.AttrSpan, "code", storage.OpNotEqual, "501", 0, true)
	f(storage.AttrSpan, "absent", storage.OpNotEqual, "x", 0, true)
	f(storage.AttrSpan, "empty", storage.OpExists, "", 0, true)

	// Numbers: int and double only.
	f(storage.AttrSpan, "code", storage.OpGreater, "", 499, true)
	f(storage.AttrSpan, "code", storage.OpGreater, "", 500, false)
	f(storage.AttrSpan, "code", storage.OpGreaterEqual, "", 500, true)
	f(storage.AttrSpan, "code", storage.OpLess, "", 500, false)
	f(storage.AttrSpan, "code", storage.OpLessEqual, "", 500, true)
	f(storage.AttrSpan, "ratio", storage.OpLess, "", 0.5, true)
	f(storage.AttrSpan, "ratio", storage.OpGreaterEqual, "", 0.25, true)
	f(storage.AttrSpan, "nan", storage.OpLess, "", math.Inf(1), false)
	f(storage.AttrSpan, "nan", storage.OpGreaterEqual, "", math.Inf(-1), false)
	f(storage.AttrSpan, "numstr", storage.OpGreater, "", 1, false)
	f(storage.AttrSpan, "ok", storage.OpGreater, "", 0, false)
	f(storage.AttrSpan, "absent", storage.OpLess, "", math.Inf(1), false)
	f(storage.AttrSpan, "code", storage.AttrOp(99), "500", 500, false)

	if !storage.MatchAll(nil, item, scope, res) {
		t.Error("MatchAll of no predicate = false, want true")
	}
	ps := []storage.AttrPredicate{{Key: "code", Op: storage.OpExists}, {Key: "absent", Op: storage.OpExists}}
	if storage.MatchAll(ps, item, scope, res) {
		t.Error("MatchAll with a failing predicate = true")
	}
}
