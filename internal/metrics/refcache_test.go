package metrics

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/otlpd/otlpd/internal/workload"
)

// dumpStore returns every series of st with all its samples, as text, in label order.
func dumpStore(t *testing.T, st *Store) []string {
	t.Helper()
	q, err := st.DB().Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+"))
	var out []string
	for set.Next() {
		s := set.At()
		line := s.Labels().String()
		it := s.Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				line += fmt.Sprintf(" %d=%x", ts, math.Float64bits(v))
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				line += fmt.Sprintf(" %d=%s", ts, h.String())
			case chunkenc.ValFloatHistogram:
				ts, h := it.AtFloatHistogram(nil)
				line += fmt.Sprintf(" %d=%s", ts, h.String())
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefCacheStoresSameAsLabelLookup feeds the same reference-workload batches to a store using the
// guard's head references and to one looking every series up by labels, across a head truncation that
// garbage-collects every series (so the cached references go stale), and compares everything stored.
func TestRefCacheStoresSameAsLabelLookup(t *testing.T) {
	const seed = 7
	t.Logf("workload seed %d", seed)
	open := func(refCache bool) *Store {
		st, err := Open(Options{Dir: filepath.Join(t.TempDir(), "metrics"), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		st.noRefCache = !refCache
		return st
	}
	cached, plain := open(true), open(false)
	gen := workload.New(seed, workload.Options{})
	perInterval := workload.Resources * workload.SeriesPerResource
	const points = 2 * workload.SeriesPerResource // the first two resources of each interval
	consume := func() {
		t.Helper()
		md := gen.NextMetrics(points)
		gen.NextMetrics(perInterval - points) // the other resources of the interval
		for _, st := range []*Store{cached, plain} {
			if err := st.ConsumeMetrics(context.Background(), md); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 3 {
		consume()
	}
	// Every series has a head reference in the guard of the cached store, none in the other.
	var withRef int
	var someHash uint64
	var someRef uint64
	cached.guard.mu.Lock()
	for h, e := range cached.guard.series {
		if e.ref != 0 {
			withRef++
			someHash, someRef = h, uint64(e.ref)
		}
	}
	n := len(cached.guard.series)
	cached.guard.mu.Unlock()
	if withRef == 0 || withRef != n {
		t.Fatalf("%d of %d guard entries have a head reference, want all", withRef, n)
	}
	if a, b := dumpStore(t, cached), dumpStore(t, plain); !slices.Equal(a, b) {
		t.Fatalf("stores differ before truncation:\n%s", firstDiff(a, b))
	}

	// Truncate both heads past every sample: the head drops all series, the guard keeps its entries and
	// so its now stale references.
	next := gen.NextMetrics(points)
	gen.NextMetrics(perInterval - points)
	mint := next.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Timestamp().AsTime().UnixMilli()
	for _, st := range []*Store{cached, plain} {
		if err := st.DB().Head().Truncate(mint); err != nil {
			t.Fatal(err)
		}
		if got := st.DB().Head().NumSeries(); got != 0 {
			t.Fatalf("head holds %d series after truncation, want 0 (the test needs them garbage-collected)", got)
		}
	}
	for _, st := range []*Store{cached, plain} {
		if err := st.ConsumeMetrics(context.Background(), next); err != nil {
			t.Fatal(err)
		}
	}
	cached.guard.mu.Lock()
	newRef := uint64(cached.guard.series[someHash].ref)
	cached.guard.mu.Unlock()
	if newRef == someRef || newRef == 0 {
		t.Fatalf("head reference after the series was collected and appended again: %d (was %d), want a new one", newRef, someRef)
	}
	if got, want := cached.DB().Head().NumSeries(), plain.DB().Head().NumSeries(); got != want || got == 0 {
		t.Fatalf("head series after truncation and append: cached %d, by labels %d", got, want)
	}
	for range 2 {
		consume()
	}
	a, b := dumpStore(t, cached), dumpStore(t, plain)
	if len(a) == 0 {
		t.Fatal("nothing stored")
	}
	if !slices.Equal(a, b) {
		t.Fatalf("stores differ after truncation:\n%s", firstDiff(a, b))
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("series %d:\n cached:    %.400s\n by labels: %.400s", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("cached store has %d series, the other %d", len(a), len(b))
}
