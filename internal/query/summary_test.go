package query

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine"
)

// spanBackends are the span stores the RED and graph tests run on: the memory backend, and the embedded
// engine holding part of the spans in parts (flushed, small blocks) and the rest in its head.
var spanBackends = []string{"memory", "engine"}

// spanStore stores the spans in the named backend (see spanBackends) and returns it.
func spanStore(t testing.TB, backend string, spans []sp) interface {
	storage.SpanReader
	storage.SpanWriter
} {
	t.Helper()
	ctx := context.Background()
	switch backend {
	case "memory":
		_, st := newQuerier(t, build(spans))
		return st
	case "engine":
		e, err := engine.Open(t.TempDir(), engine.Options{Sync: engine.SyncNone, FlushInterval: time.Hour,
			MaintenanceInterval: time.Hour, BlockRows: 64})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		half := len(spans) * 2 / 3
		if err := e.WriteSpans(ctx, build(spans[:half])); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.WriteSpans(ctx, build(spans[half:])); err != nil {
			t.Fatal(err)
		}
		return e
	}
	t.Fatalf("unknown backend %q", backend)
	return nil
}

// querierOn returns a querier over the spans stored in the named backend, whose clock is base+1h.
func querierOn(t testing.TB, backend string, spans []sp) *Querier {
	st := spanStore(t, backend, spans)
	return New(st, nil, Options{Now: func() time.Time { return base.Add(time.Hour) }})
}

// scanOnly hides the backend's SpanSummaryScanner, so the querier summarizes the spans of ScanSpans.
type scanOnly struct {
	storage.SpanReader
	storage.SpanScanner
}

// TestSummaryPathsAgree checks that RED and the graphs computed from the backend's span summaries
// (storage.SpanSummaryScanner) equal those computed from whole spans (storage.SpanScanner), on both backends,
// with and without a scan cut, and with peers named by attributes of every type.
func TestSummaryPathsAgree(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	spans := randomSpans(rng, 300)
	peerValues := []any{"stripe", "front", "", "api.example.com", int64(5432), true, 1.5, []any{"a", "b"}, map[string]any{"h": "x"}}
	for i := range spans {
		if rng.IntN(3) == 0 {
			continue
		}
		attrs := map[string]any{"http.route": "/x"}
		for _, k := range PeerAttributes {
			if rng.IntN(2) == 0 {
				attrs[k] = peerValues[rng.IntN(len(peerValues))]
			}
		}
		spans[i].attrs = attrs
	}
	r := TimeRange{Start: base, End: base.Add(11 * time.Minute)}
	ctx := context.Background()
	for _, backend := range spanBackends {
		st := spanStore(t, backend, spans)
		if _, ok := st.(storage.SpanSummaryScanner); !ok {
			t.Fatalf("%s: no storage.SpanSummaryScanner", backend)
		}
		for _, maxScan := range []int{0, 500} {
			opts := Options{Now: func() time.Time { return base.Add(time.Hour) }, MaxScanSpans: maxScan}
			a := New(st, nil, opts)
			b := New(scanOnly{st, st.(storage.SpanScanner)}, nil, opts)
			for _, rq := range []REDQuery{
				{TimeRange: r, Step: time.Minute, ByOperation: true},
				{TimeRange: r, Step: 2 * time.Minute, Service: "cart", Operation: "op1"},
				{TimeRange: r, Step: time.Minute, Filter: `http.route = "/x"`},
			} {
				ra, err1 := a.RED(ctx, rq)
				rb, err2 := b.RED(ctx, rq)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if len(ra.Series) == 0 || ra.Truncated != (maxScan > 0 && rq.Service == "") || !reflect.DeepEqual(ra, rb) {
					t.Errorf("%s max scan %d %+v: RED from summaries differs from RED from spans (%d series, truncated %v)",
						backend, maxScan, rq, len(ra.Series), ra.Truncated)
				}
			}
			for _, peers := range []bool{false, true} {
				dep := func(q *Querier) (Graph, error) {
					if peers {
						return q.DependenciesWithPeers(ctx, r)
					}
					return q.Dependencies(ctx, r)
				}
				ga, err1 := dep(a)
				gb, err2 := dep(b)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if len(ga.Edges) == 0 || ga.Truncated != (maxScan > 0) || (peers && len(ga.Peers) == 0) || !reflect.DeepEqual(ga, gb) {
					t.Errorf("%s max scan %d peers %v: graph from summaries differs from graph from spans:\n%+v\n%+v",
						backend, maxScan, peers, ga, gb)
				}
			}
		}
	}
}

// TestSummaryScanCut checks that a scan cut keeps the newest spans: with every span a request (kind server)
// and distinct start times, RED cut at n spans counts n requests, none older than the n-th newest span.
func TestSummaryScanCut(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	spans := randomSpans(rand.New(rand.NewPCG(seed, 8)), 200)
	for i := range spans {
		spans[i].kind = ptrace.SpanKindServer
		spans[i].start = float64(i * 100) // distinct starts, increasing with i
		spans[i].end = spans[i].start + 1
	}
	const cut = 300
	for _, backend := range spanBackends {
		st := spanStore(t, backend, spans)
		q := New(st, nil, Options{Now: func() time.Time { return base.Add(time.Hour) }, MaxScanSpans: cut})
		r := TimeRange{Start: base, End: base.Add(time.Hour)}
		res, err := q.RED(context.Background(), REDQuery{TimeRange: r, Step: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		oldest := ms(spans[len(spans)-cut].start)
		var n int64
		for _, se := range res.Series {
			n += se.Total.Count
			for _, p := range se.Points {
				if p.Count > 0 && p.Time.Add(time.Minute).Before(oldest) {
					t.Errorf("%s: requests counted at %v, before the oldest of the %d newest spans (%v)", backend, p.Time, cut, oldest)
				}
			}
		}
		if n != cut || !res.Truncated {
			t.Errorf("%s: %d requests counted (truncated %v), want the %d newest", backend, n, res.Truncated, cut)
		}
	}
}
