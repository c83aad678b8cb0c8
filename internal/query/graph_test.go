package query

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// TestDependenciesPeers checks the edges to uninstrumented peers against a count made directly from the
// spans: a client span naming a peer (peer.service, else server.address, else db.system.name) with no child
// in another service is one call from its service to that peer.
func TestDependenciesPeers(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 6))
	spans := randomSpans(rng, 400)
	// Peer names: two that are no service, one that is a service (front), and one that is empty.
	peerNames := []string{"stripe", "front", "", "api.example.com"}
	for i := range spans {
		if spans[i].kind != client || rng.IntN(4) == 0 {
			continue
		}
		attrs := map[string]any{}
		for _, k := range []string{"peer.service", "server.address", "db.system.name"} {
			if rng.IntN(2) == 0 {
				attrs[k] = peerNames[rng.IntN(len(peerNames))]
			}
		}
		if rng.IntN(3) == 0 {
			attrs["db.system.name"] = "postgresql"
		}
		spans[i].attrs = attrs
	}
	for _, backend := range spanBackends {
		t.Run(backend, func(t *testing.T) {
			q := querierOn(t, backend, spans)
			g, err := q.DependenciesWithPeers(context.Background(), TimeRange{Start: base, End: base.Add(11 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}

			type pair struct{ p, c string }
			type key struct{ trace, id int }
			owner := map[key]string{}
			services := map[string]bool{}
			for _, s := range spans {
				owner[key{s.trace, s.id}] = s.service
				services[s.service] = true
			}
			calls, errs := map[pair]int64{}, map[pair]int64{}
			remoteChild := map[key]bool{}
			for _, s := range spans {
				ps, ok := owner[key{s.trace, s.parent}]
				if s.parent == 0 || !ok || ps == s.service {
					continue
				}
				remoteChild[key{s.trace, s.parent}] = true
				calls[pair{ps, s.service}]++
				if s.err {
					errs[pair{ps, s.service}]++
				}
			}
			wantPeers := map[string]bool{}
			peerCalls := 0
			for _, s := range spans {
				if s.kind != client || remoteChild[key{s.trace, s.id}] {
					continue
				}
				peer := ""
				for _, k := range []string{"peer.service", "server.address", "db.system.name"} {
					if v, _ := s.attrs[k].(string); v != "" {
						peer = v
						break
					}
				}
				if peer == "" || peer == s.service {
					continue
				}
				peerCalls++
				calls[pair{s.service, peer}]++
				if s.err {
					errs[pair{s.service, peer}]++
				}
				if !services[peer] {
					wantPeers[peer] = true
				}
			}
			if peerCalls == 0 || len(wantPeers) == 0 {
				t.Fatalf("the random data has %d peer calls to %d peers; the test needs some", peerCalls, len(wantPeers))
			}
			if len(g.Edges) != len(calls) {
				t.Fatalf("%d edges, want %d: %+v", len(g.Edges), len(calls), g.Edges)
			}
			for _, e := range g.Edges {
				k := pair{e.Parent, e.Child}
				if e.CallCount != calls[k] || e.ErrorCount != errs[k] {
					t.Errorf("edge %s->%s: %d calls %d errors, want %d, %d", e.Parent, e.Child, e.CallCount, e.ErrorCount, calls[k], errs[k])
				}
				if e.Peer != !services[e.Child] {
					t.Errorf("edge %s->%s: peer %v, want %v", e.Parent, e.Child, e.Peer, !services[e.Child])
				}
			}
			if len(g.Peers) != len(wantPeers) {
				t.Errorf("peers %v, want %v", g.Peers, wantPeers)
			}
			for _, p := range g.Peers {
				if !wantPeers[p] {
					t.Errorf("unexpected peer %q", p)
				}
				for _, s := range g.Services {
					if s == p {
						t.Errorf("peer %q listed as a service", p)
					}
				}
			}
		})
	}
}
