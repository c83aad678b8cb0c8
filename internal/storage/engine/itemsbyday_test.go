package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestItemsByDay checks itemsByDay against a plain grouping by dayNames, over batches whose items cross
// days back and forth, with negative and extreme times.
func TestItemsByDay(t *testing.T) {
	const day = 86400 * int64(time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC).UnixNano()
	var scans []*batchScan
	for b := range 20 {
		sc := &batchScan{groups: make([]wireGroup, 1+rng.IntN(3))}
		for i := range 50 {
			ts := base + rng.Int64N(4*int64(time.Minute)) // around midnight
			switch {
			case b == 3 && i < 5:
				ts = -rng.Int64N(3 * day) // before 1970
			case b == 5 && i == 0:
				ts = math.MinInt64
			case b == 5 && i == 1:
				ts = math.MaxInt64
			case b == 7 && i < 3:
				ts = int64(i) // the first day
			}
			sc.items = append(sc.items, wireItem{ts: ts, grp: int32(rng.IntN(len(sc.groups)))})
		}
		scans = append(scans, sc)
	}
	got, groups := itemsByDay(scans)
	want := map[string][]wireItem{}
	days := dayNames{}
	off := int32(0)
	for _, sc := range scans {
		for _, it := range sc.items {
			it.grp += off
			want[days.of(it.ts)] = append(want[days.of(it.ts)], it)
		}
		off += int32(len(sc.groups))
	}
	if len(groups) != int(off) {
		t.Fatalf("%d groups, want %d", len(groups), off)
	}
	if len(got) != len(want) || len(want) < 4 {
		t.Fatalf("%d days, want %d (at least 4)", len(got), len(want))
	}
	for d, items := range want {
		same := func(a, b wireItem) bool { return a.ts == b.ts && a.grp == b.grp }
		if !slices.EqualFunc(got[d], items, same) {
			t.Fatalf("day %s: %d items, want %d", d, len(got[d]), len(items))
		}
	}
}
