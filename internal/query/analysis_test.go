package query

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

const (
	server   = ptrace.SpanKindServer
	client   = ptrace.SpanKindClient
	internal = ptrace.SpanKindInternal
	producer = ptrace.SpanKindProducer
	consumer = ptrace.SpanKindConsumer
)

type segWant struct {
	span     int
	from, to float64 // ms after base
}

type timingWant struct {
	self, critical float64 // ms
	async          bool
	skew           float64 // ms
}

func checkAnalysis(t *testing.T, spans []sp, wantPath []segWant, want map[int]timingWant, wantSkewed int) {
	t.Helper()
	q, _ := newQuerier(t, build(spans))
	a, err := q.Analyze(context.Background(), tid(spans[0].trace))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.CriticalPath) != len(wantPath) {
		t.Fatalf("critical path %+v, want %d segments %+v", a.CriticalPath, len(wantPath), wantPath)
	}
	for i, w := range wantPath {
		g := a.CriticalPath[i]
		if g.SpanID != sid(w.span).String() || g.StartNanos != ms(w.from).UnixNano() || g.EndNanos != ms(w.to).UnixNano() {
			t.Errorf("segment %d = %s [%v, %v], want span %d [%v, %v]", i, g.SpanID,
				time.Duration(g.StartNanos-base.UnixNano()), time.Duration(g.EndNanos-base.UnixNano()), w.span, w.from, w.to)
		}
	}
	got := map[string]SpanTiming{}
	for _, s := range a.Spans {
		got[s.SpanID] = s
	}
	msn := func(f float64) int64 { return int64(f * float64(time.Millisecond)) }
	for id, w := range want {
		g, ok := got[sid(id).String()]
		if !ok {
			t.Fatalf("span %d missing from analysis", id)
		}
		if g.SelfNanos != msn(w.self) || g.CriticalNanos != msn(w.critical) || g.Async != w.async || g.SkewNanos != msn(w.skew) {
			t.Errorf("span %d: self %v critical %v async %v skew %v, want self %vms critical %vms async %v skew %vms",
				id, time.Duration(g.SelfNanos), time.Duration(g.CriticalNanos), g.Async, time.Duration(g.SkewNanos),
				w.self, w.critical, w.async, w.skew)
		}
	}
	if a.SkewAdjusted != wantSkewed {
		t.Errorf("skew adjusted %d spans, want %d", a.SkewAdjusted, wantSkewed)
	}
}

// The expected values below are worked out by hand from the span times (docs/analysis.md).
func TestAnalyzeOverlappingChildren(t *testing.T) {
	// R [0,100] with children A1 [10,60], A2 [20,80], A3 [70,90]. A2 overlaps A1 and A3; the path takes A3
	// (last to finish), then A1 (ends before A3 starts), skipping A2 which ends after A3 starts.
	spans := []sp{
		{trace: 1, id: 1, service: "a", name: "R", kind: server, start: 0, end: 100},
		{trace: 1, id: 2, parent: 1, service: "a", name: "A1", kind: internal, start: 10, end: 60},
		{trace: 1, id: 3, parent: 1, service: "a", name: "A2", kind: internal, start: 20, end: 80},
		{trace: 1, id: 4, parent: 1, service: "a", name: "A3", kind: internal, start: 70, end: 90},
	}
	checkAnalysis(t, spans,
		[]segWant{{1, 0, 10}, {2, 10, 60}, {1, 60, 70}, {4, 70, 90}, {1, 90, 100}},
		map[int]timingWant{1: {self: 20, critical: 30}, 2: {self: 50, critical: 50}, 3: {self: 60, critical: 0}, 4: {self: 20, critical: 20}},
		0)
}

func TestAnalyzeAsyncChildren(t *testing.T) {
	// R [0,100]; C1 [10,50]; C2 [80,150] outlives R and has child G [90,140]; C3 [120,200] starts after R ends.
	spans := []sp{
		{trace: 2, id: 1, service: "a", name: "R", kind: server, start: 0, end: 100},
		{trace: 2, id: 2, parent: 1, service: "a", name: "C1", kind: internal, start: 10, end: 50},
		{trace: 2, id: 3, parent: 1, service: "a", name: "C2", kind: producer, start: 80, end: 150},
		{trace: 2, id: 4, parent: 3, service: "a", name: "G", kind: internal, start: 90, end: 140},
		{trace: 2, id: 5, parent: 1, service: "b", name: "C3", kind: consumer, start: 120, end: 200},
	}
	checkAnalysis(t, spans,
		[]segWant{{1, 0, 10}, {2, 10, 50}, {1, 50, 80}, {3, 80, 90}, {4, 90, 100}},
		map[int]timingWant{
			1: {self: 40, critical: 40},
			2: {self: 40, critical: 40},
			3: {self: 20, critical: 10, async: true},
			4: {self: 50, critical: 10},
			5: {self: 80, critical: 0, async: true}, // a consumer after its parent: not skew, not shifted
		}, 0)
}

func TestAnalyzeClockSkew(t *testing.T) {
	// front: R [0,100] server, CL [10,90] client. back's clock is 30ms behind: its server span S is recorded at
	// [-20,40] and its child D at [-10,30]. S must lie within CL, so S and D shift +30ms: S [10,70], D [20,60].
	spans := []sp{
		{trace: 3, id: 1, service: "front", name: "R", kind: server, start: 0, end: 100},
		{trace: 3, id: 2, parent: 1, service: "front", name: "CL", kind: client, start: 10, end: 90},
		{trace: 3, id: 3, parent: 2, service: "back", name: "S", kind: server, start: -20, end: 40},
		{trace: 3, id: 4, parent: 3, service: "back", name: "D", kind: internal, start: -10, end: 30},
	}
	checkAnalysis(t, spans,
		[]segWant{{1, 0, 10}, {3, 10, 20}, {4, 20, 60}, {3, 60, 70}, {2, 70, 90}, {1, 90, 100}},
		map[int]timingWant{
			1: {self: 20, critical: 20},
			2: {self: 20, critical: 20},
			3: {self: 20, critical: 20, skew: 30},
			4: {self: 40, critical: 40, skew: 30},
		}, 1)

	// A clock ahead: S recorded at [50,110] ends after CL [10,90]; it shifts back by 20ms to [30,90].
	spans = []sp{
		{trace: 4, id: 1, service: "front", name: "R", kind: server, start: 0, end: 100},
		{trace: 4, id: 2, parent: 1, service: "front", name: "CL", kind: client, start: 10, end: 90},
		{trace: 4, id: 3, parent: 2, service: "back", name: "S", kind: server, start: 50, end: 110},
	}
	checkAnalysis(t, spans,
		[]segWant{{1, 0, 10}, {2, 10, 30}, {3, 30, 90}, {1, 90, 100}},
		map[int]timingWant{1: {self: 20, critical: 20}, 2: {self: 20, critical: 20}, 3: {self: 60, critical: 60, skew: -20}},
		1)
}

func TestAnalyzeMissingRoot(t *testing.T) {
	// The root has not arrived: two orphans; the main root is the earliest.
	spans := []sp{
		{trace: 5, id: 2, parent: 1, service: "a", name: "X", kind: server, start: 10, end: 30},
		{trace: 5, id: 3, parent: 1, service: "a", name: "Y", kind: server, start: 5, end: 20},
		{trace: 5, id: 4, parent: 3, service: "a", name: "Z", kind: internal, start: 6, end: 8},
	}
	checkAnalysis(t, spans,
		[]segWant{{3, 5, 6}, {4, 6, 8}, {3, 8, 20}},
		map[int]timingWant{2: {self: 20, critical: 0}, 3: {self: 13, critical: 13}, 4: {self: 2, critical: 2}},
		0)
}

// TestAnalyzeRandomTrees checks, on random traces with overlapping, outliving, late and skewed children, the
// properties every critical path must have, and every self time against a count of 1ms ticks.
func TestAnalyzeRandomTrees(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for trial := range 60 {
		n := 1 + rng.IntN(40)
		spans := make([]sp, n)
		services := []string{"a", "b", "c"}
		kinds := []ptrace.SpanKind{server, client, internal, producer, consumer}
		for i := range spans {
			s := sp{trace: 100 + trial, id: i + 1, service: services[rng.IntN(3)], name: "op", kind: kinds[rng.IntN(5)]}
			if i > 0 {
				p := spans[rng.IntN(i)]
				s.parent = p.id
				s.start = p.start + float64(rng.IntN(int(p.end-p.start)+20)) - 5
			}
			s.end = s.start + float64(rng.IntN(60))
			spans[i] = s
		}
		q, _ := newQuerier(t, build(spans))
		a, err := q.Analyze(context.Background(), tid(100+trial))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]SpanTiming{}
		for _, s := range a.Spans {
			byID[s.SpanID] = s
		}
		root := byID[a.RootSpanID]
		var critSum int64
		for _, s := range a.Spans {
			critSum += s.CriticalNanos
		}
		if critSum != root.EndNanos-root.StartNanos {
			t.Fatalf("trial %d: critical times sum to %d, want the root's duration %d", trial, critSum, root.EndNanos-root.StartNanos)
		}
		cursor := root.StartNanos
		for i, g := range a.CriticalPath {
			s := byID[g.SpanID]
			if g.StartNanos != cursor || g.EndNanos <= g.StartNanos || g.StartNanos < s.StartNanos || g.EndNanos > s.EndNanos {
				t.Fatalf("trial %d: segment %d %+v breaks the tiling at %d or leaves its span [%d,%d]", trial, i, g, cursor, s.StartNanos, s.EndNanos)
			}
			cursor = g.EndNanos
		}
		if len(a.CriticalPath) > 0 && cursor != root.EndNanos {
			t.Fatalf("trial %d: path ends at %d, root ends at %d", trial, cursor, root.EndNanos)
		}
		// Self time by ticks: a tick of a span is its own when no child (after skew shifts) runs during it.
		step := int64(time.Millisecond)
		for _, s := range a.Spans {
			var self int64
			for tick := s.StartNanos; tick < s.EndNanos; tick += step {
				covered := false
				for _, c := range a.Spans {
					if c.ParentSpanID == s.SpanID && c.StartNanos <= tick && tick < c.EndNanos {
						covered = true
						break
					}
				}
				if !covered {
					self += step
				}
			}
			if self != s.SelfNanos {
				t.Fatalf("trial %d: span %s self time %d, ticks say %d", trial, s.SpanID, s.SelfNanos, self)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	a := []sp{
		{trace: 10, id: 1, service: "front", name: "GET /", kind: server, start: 0, end: 100},
		{trace: 10, id: 2, parent: 1, service: "front", name: "auth", kind: internal, start: 1, end: 5},
		{trace: 10, id: 3, parent: 1, service: "back", name: "query", kind: server, start: 10, end: 50},
	}
	b := []sp{
		{trace: 11, id: 1, service: "front", name: "GET /", kind: server, start: 0, end: 200},
		{trace: 11, id: 3, parent: 1, service: "back", name: "query", kind: server, start: 10, end: 60, err: true},
		{trace: 11, id: 4, parent: 1, service: "back", name: "query", kind: server, start: 70, end: 150},
		{trace: 11, id: 5, parent: 4, service: "cache", name: "get", kind: server, start: 80, end: 90},
	}
	q, _ := newQuerier(t, build(a), build(b))
	c, err := q.Compare(context.Background(), tid(10), tid(11))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		path   string
		state  string
		ca, cb int
		delta  time.Duration
	}
	want := []row{
		{"front: GET /", "both", 1, 1, 100 * time.Millisecond},
		{"front: GET / > front: auth", "a", 1, 0, 0},
		{"front: GET / > back: query", "both", 1, 2, 90 * time.Millisecond}, // (50+80) - 40
		{"front: GET / > back: query > cache: get", "b", 0, 1, 0},
	}
	if len(c.Paths) != len(want) {
		t.Fatalf("paths %+v, want %+v", c.Paths, want)
	}
	for i, w := range want {
		g := c.Paths[i]
		path := ""
		for j, p := range g.Path {
			if j > 0 {
				path += " > "
			}
			path += p
		}
		var ca, cb int
		if g.A != nil {
			ca = g.A.Count
		}
		if g.B != nil {
			cb = g.B.Count
		}
		if path != w.path || g.State != w.state || ca != w.ca || cb != w.cb || time.Duration(g.DeltaNanos) != w.delta {
			t.Errorf("path %d = %q %s %d/%d %v, want %+v", i, path, g.State, ca, cb, time.Duration(g.DeltaNanos), w)
		}
	}
	if c.OnlyA != 1 || c.OnlyB != 1 || c.Both != 2 || c.DurationA != int64(100*time.Millisecond) || c.DurationB != int64(200*time.Millisecond) {
		t.Errorf("totals %+v", c)
	}
	if c.Paths[2].B.Errors != 1 {
		t.Errorf("errors at back: query in B = %d, want 1", c.Paths[2].B.Errors)
	}
}
