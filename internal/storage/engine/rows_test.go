package engine

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestRawFilterable(t *testing.T) {
	for v, want := range map[string]bool{
		"user-4242": true, "/api/v1": true, "GET x": true, "héllo": true,
		"": false, "42": false, "-1.5e3": false, "true": false, "abcXYZ09": false, "aGVsbG8=": false,
		`{"a":1}`: false, "[1,2]": false, "NaN": false, "Inf": false,
	} {
		if got := rawFilterable(v); got != want {
			t.Errorf("rawFilterable(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSelectRows(t *testing.T) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range 5 {
		ss.Spans().AppendEmpty().SetName(string(rune('a' + i)))
	}
	blob, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	rows, err := rowRanges(blob, 5)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(selectRows(rows, []int{4, 1}))
	if err != nil {
		t.Fatal(err)
	}
	sl := got.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	if sl.Len() != 2 || sl.At(0).Name() != "e" || sl.At(1).Name() != "b" {
		t.Fatalf("selected %d spans", sl.Len())
	}
	if _, err := rowRanges(blob, 4); err == nil {
		t.Fatal("a wrong row count was not reported")
	}
}

// FuzzRowRanges walks arbitrary blobs: errors are fine, panics are not, and the rows found re-encode to a blob
// holding the same rows.
func FuzzRowRanges(f *testing.F) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	ss.Spans().AppendEmpty().SetName("x")
	ss.Spans().AppendEmpty().SetName("y")
	blob, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	f.Add(blob, 2)
	f.Fuzz(func(t *testing.T, blob []byte, n int) {
		if n < 0 || n > 1000 {
			return
		}
		rows, err := rowRanges(blob, n)
		if err != nil {
			return
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		again, err := rowRanges(selectRows(rows, all), n)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if !bytes.Equal(rows[i], again[i]) {
				t.Fatalf("row %d differs", i)
			}
		}
	})
}

// TestTimeOrder compares timeOrder with a stable sort, on times that fit the radix keys and on times that
// do not.
func TestTimeOrder(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for _, tc := range []struct {
		n    int
		span int64
	}{{0, 1}, {1, 1}, {7, 3}, {1000, 50}, {5000, int64(time.Hour)}, {3000, math.MaxInt64 / 2}} {
		ts := make([]int64, tc.n)
		for i := range ts {
			ts[i] = r.Int64N(tc.span) - tc.span/3
		}
		want := make([]int32, tc.n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(ts[a], ts[b]) })
		got := timeOrder(tc.n, func(i int) int64 { return ts[i] })
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d span=%d: order differs", tc.n, tc.span)
		}
	}
}
