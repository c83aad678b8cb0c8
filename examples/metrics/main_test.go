package main

import (
	"context"
	"testing"
	"time"

	"github.com/otlpd/otlpd/otlptest"
)

func TestMetricsExample(t *testing.T) {
	for _, temporality := range []string{"delta", "cumulative"} {
		t.Run(temporality, func(t *testing.T) {
			srv := otlptest.NewServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := run(ctx, config{endpoint: srv.GRPCAddr(), temporality: temporality}); err != nil {
				t.Fatal(err)
			}
			want := map[string]struct {
				typ       string
				monotonic bool
			}{
				"shop.orders":            {"Sum", true},
				"shop.cart.items":        {"Sum", false},
				"shop.checkout.duration": {"Histogram", false},
				"shop.rack.temperature":  {"Gauge", false},
				"shop.cpu.time":          {"Sum", true},
				"shop.queue.length":      {"Gauge", false},
			}
			ms := srv.WaitMetricsFunc(ctx, "two exports of all six instruments", func(m otlptest.Metrics) bool {
				for name := range want {
					if len(m.Named(name)) < 2 {
						return false
					}
				}
				return true
			})
			for name, w := range want {
				for _, m := range ms.Named(name) {
					if m.Type != w.typ || m.Monotonic != w.monotonic {
						t.Errorf("%s: type %s monotonic %v, want %s %v", name, m.Type, m.Monotonic, w.typ, w.monotonic)
					}
				}
			}
			wantTemp := map[string]string{"delta": "Delta", "cumulative": "Cumulative"}[temporality]
			for _, name := range []string{"shop.orders", "shop.checkout.duration", "shop.cpu.time"} {
				if m, _ := ms.Last(name); m.Temporality != wantTemp {
					t.Errorf("%s temporality %s, want %s", name, m.Temporality, wantTemp)
				}
			}
			if m, _ := ms.Last("shop.cart.items"); m.Temporality != "Cumulative" {
				t.Errorf("up-down counter temporality %s, want Cumulative under both selectors", m.Temporality)
			}

			// 3 orders, flush, 2 orders: delta exports 3 then 2; cumulative exports 3 then 5.
			orders := ms.Named("shop.orders")
			first, _ := orders[0].Point(map[string]any{"payment.method": "card"})
			second, _ := orders[1].Point(map[string]any{"payment.method": "card"})
			wantSecond := map[string]int64{"delta": 2, "cumulative": 5}[temporality]
			if first.Int != 3 || second.Int != wantSecond {
				t.Errorf("shop.orders exports %d then %d, want 3 then %d\n%s", first.Int, second.Int, wantSecond, ms)
			}
			if items, _ := ms.Last("shop.cart.items"); items.Points[0].Int != 5 {
				t.Errorf("shop.cart.items = %d, want 5 (one left per order)", items.Points[0].Int)
			}
			if temp, _ := ms.Last("shop.rack.temperature"); temp.Points[0].Double != 41 {
				t.Errorf("gauge = %v, want the last value 41", temp.Points[0].Double)
			}
			if q, _ := ms.Last("shop.queue.length"); q.Points[0].Int != 5 || q.Points[0].Attributes["queue"] != "fulfilment" {
				t.Errorf("observable gauge = %+v, want 5 on queue=fulfilment", q.Points[0])
			}
			// The observable counter reads 300 ms after phase one and 450 ms after phase two (a delta of 150).
			cpu := ms.Named("shop.cpu.time")
			wantCPU := map[string]int64{"delta": 150, "cumulative": 450}[temporality]
			if got := cpu[1].Points[0].Int; cpu[0].Points[0].Int != 300 || got != wantCPU {
				t.Errorf("observable counter exports %d then %d, want 300 then %d", cpu[0].Points[0].Int, got, wantCPU)
			}

			// Exemplars link the histogram to the checkout spans.
			spans := srv.WaitSpans(ctx, 5).Named("checkout")
			traces := map[string]bool{}
			for _, s := range spans {
				traces[s.TraceID] = true
			}
			hist, _ := ms.Last("shop.checkout.duration")
			p := hist.Points[0]
			if len(p.Exemplars) == 0 {
				t.Fatalf("histogram has no exemplars:\n%s", hist)
			}
			for _, ex := range p.Exemplars {
				if !traces[ex.TraceID] || ex.SpanID == "" {
					t.Errorf("exemplar %+v does not point at a checkout span", ex)
				}
			}
		})
	}
}

func TestMetricsExampleRejectsBadTemporality(t *testing.T) {
	if err := run(context.Background(), config{endpoint: "127.0.0.1:1", temporality: "weekly"}); err == nil {
		t.Fatal("run accepted temporality weekly")
	}
}
