package engine

import (
	"slices"
	"testing"
)

func TestBalancedPrefix(t *testing.T) {
	cases := []struct {
		sizes    []int64
		minParts int
		want     int
	}{
		{[]int64{1, 1, 1, 1, 1, 1, 1, 1}, 8, 8},
		{[]int64{1, 1, 1, 1, 1, 1, 1, 100}, 8, 0},    // one big part and 7 small: wait for an 8th small one
		{[]int64{1, 1, 1, 1, 1, 1, 1, 1, 100}, 8, 8}, // 8 small ones merge, the big one stays
		{[]int64{1, 1, 1, 1, 1, 1, 1, 7}, 8, 8},      // the largest equals the others together
		{[]int64{8, 8, 8, 8, 8, 8, 8, 8, 64}, 8, 9},
		{[]int64{5, 5}, 1, 2},
		{[]int64{5}, 1, 0},
		{nil, 8, 0},
	}
	for _, c := range cases {
		if got := balancedPrefix(c.sizes, c.minParts); got != c.want {
			t.Errorf("balancedPrefix(%v, %d) = %d, want %d", c.sizes, c.minParts, got, c.want)
		}
	}
}

// TestMergeAmplification simulates a day of flushes of equal size under the merge policy: every item is
// rewritten a logarithmic number of times, and the day keeps few parts. Taking the smallest parts alone
// (the policy before) rewrites the growing big part at every merge.
func TestMergeAmplification(t *testing.T) {
	const flushes, minParts = 4096, 8
	simulate := func(pick func(sizes []int64) int) (rewritten int64, maxParts int) {
		var parts []int64
		for range flushes {
			parts = append(parts, 1)
			for {
				slices.Sort(parts)
				n := min(len(parts), maxMergeInputs)
				if len(parts) < minParts {
					break
				}
				k := pick(parts[:n])
				if k == 0 {
					break
				}
				var merged int64
				for _, s := range parts[:k] {
					merged += s
				}
				rewritten += merged
				parts = append(parts[k:], merged)
			}
			maxParts = max(maxParts, len(parts))
		}
		return rewritten, maxParts
	}
	rewritten, maxParts := simulate(func(s []int64) int { return balancedPrefix(s, minParts) })
	amp := float64(rewritten) / flushes
	t.Logf("balanced: each item rewritten %.2f times on average, at most %d parts", amp, maxParts)
	if amp > 5.5 || maxParts > 40 {
		t.Errorf("balanced policy: amplification %.2f (want <= 5.5; log8(4096) = 4), %d parts (want <= 40)", amp, maxParts)
	}
	old, _ := simulate(func(s []int64) int { return len(s) })
	t.Logf("smallest-first alone: each item rewritten %.1f times on average", float64(old)/flushes)
	if float64(old)/flushes < 10*amp {
		t.Errorf("the simulation no longer shows the quadratic rewriting it guards against (%.1f vs %.2f)", float64(old)/flushes, amp)
	}
}
