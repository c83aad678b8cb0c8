package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
)

// TestScanSpanSummaries checks that ScanSpanSummaries visits the summaries of exactly the spans ScanSpans
// visits (computed from those whole spans by storage.Summarize), with the same truncation, for spans in
// parts and in the head, with peers named by attributes of every type.
func TestScanSpanSummaries(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	tds := genTraces(r, 40, 50)
	peerValues := []func(m pcommon.Map, k string){
		func(m pcommon.Map, k string) { m.PutStr(k, "stripe") },
		func(m pcommon.Map, k string) { m.PutStr(k, "") },
		func(m pcommon.Map, k string) { m.PutInt(k, 5432) },
		func(m pcommon.Map, k string) { m.PutBool(k, true) },
		func(m pcommon.Map, k string) { m.PutDouble(k, 2.5) },
		func(m pcommon.Map, k string) { m.PutEmptySlice(k).AppendEmpty().SetStr("x") },
		func(m pcommon.Map, k string) { m.PutEmptyBytes(k).FromRaw([]byte{1, 2}) },
	}
	peerKeys := []string{"peer.service", "server.address", "db.system.name"}
	for _, td := range tds {
		rss := td.ResourceSpans()
		for i := range rss.Len() {
			sl := rss.At(i).ScopeSpans().At(0).Spans()
			for j := range sl.Len() {
				sp := sl.At(j)
				if r.IntN(3) > 0 {
					sp.SetParentSpanID([8]byte{byte(r.IntN(256)), 9})
				}
				for _, k := range peerKeys {
					if r.IntN(2) == 0 {
						peerValues[r.IntN(len(peerValues))](sp.Attributes(), k)
					}
				}
			}
		}
	}
	ctx := context.Background()
	e := openTest(t, t.TempDir(), testOptions())
	for i, td := range tds {
		if err := e.WriteSpans(ctx, td); err != nil {
			t.Fatal(err)
		}
		if i == len(tds)*3/4 {
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	qs := append(spanQueries(r), storage.SpanQuery{Limit: 100_000}, storage.SpanQuery{Limit: 1999}, storage.SpanQuery{Limit: 2000})
	for qi, q := range qs {
		for _, opts := range []storage.SummaryOptions{{}, {PeerKeys: peerKeys}} {
			limit := orDefault(q.Limit, DefaultSpanLimit)
			var want []string
			wq := q
			wq.Limit = limit + 1
			var sum storage.SpanSummary
			err := e.ScanSpans(ctx, wq, func(res pcommon.Resource, _ pcommon.InstrumentationScope, sp ptrace.Span) bool {
				storage.Summarize(&sum, serviceOf(res), sp, opts)
				want = append(want, fmt.Sprintf("%+v", sum))
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			wantTrunc := len(want) > limit
			if wantTrunc {
				want = want[:limit] // newest first: the kept ones
			}
			var got []string
			trunc, err := e.ScanSpanSummaries(ctx, q, opts, func(s *storage.SpanSummary) bool {
				got = append(got, fmt.Sprintf("%+v", *s))
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			slices.Sort(got)
			if trunc != wantTrunc || !slices.Equal(got, want) {
				t.Errorf("query %d %+v peers %v: %d summaries (truncated %v), want %d (truncated %v)",
					qi, q, opts.PeerKeys != nil, len(got), trunc, len(want), wantTrunc)
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Errorf("first difference:\n got %s\nwant %s", got[i], want[i])
						break
					}
				}
			}
		}
	}
	// fn returning false stops the scan.
	n := 0
	if _, err := e.ScanSpanSummaries(ctx, storage.SpanQuery{Limit: 100_000}, storage.SummaryOptions{}, func(*storage.SpanSummary) bool {
		n++
		return n < 3
	}); err != nil || n != 3 {
		t.Errorf("stop after 3: %d calls, %v", n, err)
	}
}
