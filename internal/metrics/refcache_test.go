package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/metrics/promconv"
	otlpdstorage "github.com/otlpd/otlpd/internal/storage"
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
	open := func(refCache bool, seriesCache int) *Store {
		st, err := Open(Options{Dir: filepath.Join(t.TempDir(), "metrics"), NoSync: true, Convert: promconv.Options{SeriesCacheSize: seriesCache}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		st.noRefCache = !refCache
		return st
	}
	// cached: head references and the translator's series cache; plain: every series looked up by labels;
	// translated: head references, every point through the translator.
	cached, plain, translated := open(true, 0), open(false, 0), open(true, -1)
	gen := workload.New(seed, workload.Options{})
	perInterval := workload.Resources * workload.SeriesPerResource
	const points = 2 * workload.SeriesPerResource // the first two resources of each interval
	consume := func() {
		t.Helper()
		md := gen.NextMetrics(points)
		gen.NextMetrics(perInterval - points) // the other resources of the interval
		for _, st := range []*Store{cached, plain, translated} {
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
	if cached.conv.CachedSeries() == 0 {
		t.Fatal("the translator's series cache is empty")
	}
	if a, b := dumpStore(t, cached), dumpStore(t, plain); !slices.Equal(a, b) {
		t.Fatalf("stores differ before truncation:\n%s", firstDiff(a, b))
	}
	if a, b := dumpStore(t, cached), dumpStore(t, translated); !slices.Equal(a, b) {
		t.Fatalf("series cache and translator differ before truncation:\n%s", firstDiff(a, b))
	}

	// Truncate both heads past every sample: the head drops all series, the guard keeps its entries and
	// so its now stale references.
	next := gen.NextMetrics(points)
	gen.NextMetrics(perInterval - points)
	mint := next.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Timestamp().AsTime().UnixMilli()
	for _, st := range []*Store{cached, plain, translated} {
		if err := st.DB().Head().Truncate(mint); err != nil {
			t.Fatal(err)
		}
		if got := st.DB().Head().NumSeries(); got != 0 {
			t.Fatalf("head holds %d series after truncation, want 0 (the test needs them garbage-collected)", got)
		}
	}
	for _, st := range []*Store{cached, plain, translated} {
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
	if c := dumpStore(t, translated); !slices.Equal(a, c) {
		t.Fatalf("series cache and translator differ after truncation:\n%s", firstDiff(a, c))
	}
}

// gaugeBatch is one gauge with n series at time ms.
func gaugeBatch(n int, ms int64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "guarded")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("g")
	dps := m.SetEmptyGauge().DataPoints()
	for i := range n {
		p := dps.AppendEmpty()
		p.Attributes().PutInt("i", int64(i))
		p.SetTimestamp(pcommon.Timestamp(ms * 1e6))
		p.SetDoubleValue(float64(i))
	}
	return md
}

// TestGuardSweepKeepsSeriesAppendedByReference: samples of cached series skip the guard, so their entries
// keep an old lastSeen; a sweep must still count them while the head holds them, and the limit still
// refuses a new series.
func TestGuardSweepKeepsSeriesAppendedByReference(t *testing.T) {
	st, err := Open(Options{Dir: filepath.Join(t.TempDir(), "metrics"), NoSync: true, Limits: Limits{MaxSeries: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	const t0 = 1_767_000_000_000
	for i := range 5 {
		if err := st.ConsumeMetrics(ctx, gaugeBatch(10, t0+int64(i)*60_000)); err != nil {
			t.Fatal(err)
		}
	}
	if st.conv.CachedSeries() != 10 {
		t.Fatalf("%d series cached, want 10", st.conv.CachedSeries())
	}
	// The head starts after the first batch: by lastSeen alone, every series would be gone.
	if err := st.DB().Head().Truncate(t0 + 1); err != nil {
		t.Fatal(err)
	}
	if n := st.DB().Head().NumSeries(); n != 10 {
		t.Fatalf("head holds %d series, want 10", n)
	}
	err = st.ConsumeMetrics(ctx, gaugeBatch(11, t0+5*60_000)) // one new series
	var rej *otlpdstorage.RejectedError
	if !errors.As(err, &rej) || rej.Rejected != 1 {
		t.Fatalf("a new series past the limit: %v, want 1 rejected", err)
	}
	if n := st.guard.len(); n != 10 {
		t.Fatalf("guard counts %d series after its sweep, want 10", n)
	}
}

// TestStaleReferenceIsCountedAgain: a series the head let go and made again from a stale reference counts
// again in the guard.
func TestStaleReferenceIsCountedAgain(t *testing.T) {
	st, err := Open(Options{Dir: filepath.Join(t.TempDir(), "metrics"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	ls := labels.FromStrings("__name__", "up", "job", "x")
	app := st.Appender(ctx)
	ref, err := app.Append(0, ls, 0, 1000, 1, nil, nil, storage.AppendV2Options{})
	if err != nil || app.Commit() != nil {
		t.Fatal(err)
	}
	if err := st.DB().Head().Truncate(2000); err != nil {
		t.Fatal(err)
	}
	if n := st.DB().Head().NumSeries(); n != 0 {
		t.Fatalf("head holds %d series after truncation, want 0", n)
	}
	st.guard.sweep(2000)
	if n := st.guard.len(); n != 0 {
		t.Fatalf("guard counts %d series after the head let them go, want 0", n)
	}
	app = st.Appender(ctx)
	ref2, err := app.Append(ref, ls, 0, 3000, 2, nil, nil, storage.AppendV2Options{})
	if err != nil || app.Commit() != nil {
		t.Fatal(err)
	}
	if ref2 == ref || ref2 == 0 {
		t.Fatalf("reference after the series was made again: %d (was %d)", ref2, ref)
	}
	if n := st.guard.len(); n != 1 {
		t.Fatalf("guard counts %d series, want 1", n)
	}
	if got := dumpStore(t, st); len(got) != 1 || !strings.Contains(got[0], "3000=") {
		t.Fatalf("stored: %v", got)
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
