package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/server"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/tail"
)

// The end-to-end tests run a real otlpd (the server serve assembles, with the live tail) on loopback and drive
// the commands against it; telemetry other than loadgen's is sent with the OpenTelemetry Go SDK.

// startOtlpd runs otlpd with in-memory storage until the test ends; uiAddr "" picks a free port.
func startOtlpd(t *testing.T, uiAddr string) (*server.Server, context.CancelFunc) {
	t.Helper()
	return startOtlpdWith(t, uiAddr, nil)
}

// startOtlpdWith is startOtlpd with the configuration changed by mut (when not nil).
func startOtlpdWith(t *testing.T, uiAddr string, mut func(*config.Config)) (*server.Server, context.CancelFunc) {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.UIAddr, cfg.Storage = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "memory"
	if uiAddr != "" {
		cfg.UIAddr = uiAddr
	}
	if mut != nil {
		mut(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, cfg, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("otlpd stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("otlpd did not stop within 20 s")
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + srv.UIAddr().String() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("otlpd not ready after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv, stop
}

// stored counts what the backend holds.
func stored(t *testing.T, b storage.Backend, signal string) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	switch signal {
	case "traces":
		for td, err := range b.FindSpans(ctx, storage.SpanQuery{Limit: 1 << 30}) {
			if err != nil {
				t.Fatal(err)
			}
			n += int64(td.SpanCount())
		}
	case "logs":
		for ld, err := range b.FindLogs(ctx, storage.LogQuery{Limit: 1 << 30}) {
			if err != nil {
				t.Fatal(err)
			}
			n += int64(ld.LogRecordCount())
		}
	case "metrics":
		for md, err := range b.FindMetrics(ctx, storage.MetricQuery{Limit: 1 << 30}) {
			if err != nil {
				t.Fatal(err)
			}
			n += int64(md.DataPointCount())
		}
	}
	return n
}

// TestLoadgenAcceptedEqualsStored: what loadgen reports as accepted is exactly what otlpd stored.
func TestLoadgenAcceptedEqualsStored(t *testing.T) {
	for _, tc := range []struct{ signal, protocol string }{
		{"traces", "grpc"}, {"logs", "http"}, {"metrics", "http-json"}, {"traces", "http-json"},
	} {
		t.Run(tc.signal+"/"+tc.protocol, func(t *testing.T) {
			srv, _ := startOtlpd(t, "")
			ep := srv.GRPCAddr().String()
			if tc.protocol != "grpc" {
				ep = srv.HTTPAddr().String()
			}
			code, out, errs := runCmd(t, "loadgen", "--endpoint", ep, "--protocol", tc.protocol, "--signal", tc.signal,
				"--duration", "1s", "--rate", "20000", "--batch", "200", "--workers", "4", "--pool-mb", "1", "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var res struct {
				Accepted, Rejected, Failed int64
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := stored(t, srv.Backend(), tc.signal)
			t.Logf("accepted %d, rejected %d, failed %d, stored %d", res.Accepted, res.Rejected, res.Failed, got)
			if res.Accepted == 0 || got != res.Accepted || res.Failed != 0 {
				t.Fatalf("loadgen accepted %d (failed %d), otlpd stored %d", res.Accepted, res.Failed, got)
			}
		})
	}
}

func tracerProvider(t *testing.T, service string, exp sdktrace.SpanExporter) *sdktrace.TracerProvider {
	t.Helper()
	res := resource.NewSchemaless(attribute.String("service.name", service))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// waitPrinted sends markers with send until one shows up in out: then the stream is subscribed.
func waitPrinted(t *testing.T, out *syncBuffer, send func()) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "marker") {
		if time.Now().After(deadline) {
			t.Fatal("tail printed no marker within 10 s")
		}
		send()
		time.Sleep(50 * time.Millisecond)
	}
}

// tailLines decodes JSON output lines, leaving out markers.
func tailLines(t *testing.T, out string) []tail.Item {
	t.Helper()
	var items []tail.Item
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var it tail.Item
		if err := json.Unmarshal([]byte(l), &it); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if it.Name != "marker" && it.Body != "marker" {
			items = append(items, it)
		}
	}
	return items
}

// TestTailFollowsOtlpd: tail prints exactly the matching items exported during the test window, and keeps
// following across a restart of the server.
func TestTailFollowsOtlpd(t *testing.T) {
	srv, stop := startOtlpd(t, "")
	ui := srv.UIAddr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errs, done := runTailCmd(t, ctx, "--server", ui, "--service", "cart", "--signal", "spans", "--output", "json")

	exporter := func(s *server.Server) sdktrace.SpanExporter {
		exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(s.GRPCAddr().String()), otlptracegrpc.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		return exp
	}
	exp := exporter(srv)
	cart, checkout := tracerProvider(t, "cart", exp).Tracer("t"), tracerProvider(t, "checkout", exp).Tracer("t")
	waitPrinted(t, out, func() { _, sp := cart.Start(context.Background(), "marker"); sp.End() })
	for i := range 30 {
		_, sp := cart.Start(context.Background(), fmt.Sprintf("cart-op-%d", i))
		sp.End()
		_, sp = checkout.Start(context.Background(), fmt.Sprintf("checkout-op-%d", i))
		sp.End()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(tailLines(t, out.String())) < 30 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a wrong extra line would have arrived by now
	items := tailLines(t, out.String())
	if len(items) != 30 {
		t.Fatalf("tail printed %d spans, want 30:\n%s", len(items), out.String())
	}
	for i, it := range items {
		if it.Service != "cart" || it.Name != fmt.Sprintf("cart-op-%d", i) || it.Signal != "span" {
			t.Fatalf("item %d: %+v", i, it)
		}
	}

	// Restart otlpd on the same UI address: tail reconnects and goes on.
	stop()
	srv2, _ := startOtlpd(t, ui)
	cart2 := tracerProvider(t, "cart", exporter(srv2)).Tracer("t")
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "after-restart") && time.Now().Before(deadline) {
		_, sp := cart2.Start(context.Background(), "after-restart")
		sp.End()
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "after-restart") {
		t.Fatalf("no span printed after the restart; stderr:\n%s", errs.String())
	}
	if !regexp.MustCompile(`(?s)lost the stream.*reconnected`).MatchString(errs.String()) {
		t.Errorf("stderr does not report the reconnection:\n%s", errs.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
}

// TestTailListen: tail as a standalone receiver prints what the SDK exports to it, over HTTP and gRPC.
func TestTailListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errs, done := runTailCmd(t, ctx, "--listen", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--output", "json", "--service", "cart")
	re := regexp.MustCompile(`OTLP/gRPC on (\S+) and OTLP/HTTP on (\S+);`)
	var m []string
	deadline := time.Now().Add(10 * time.Second)
	for m = re.FindStringSubmatch(errs.String()); m == nil; m = re.FindStringSubmatch(errs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no listen addresses on stderr: %q", errs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(m[2]), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	cart, checkout := tracerProvider(t, "cart", texp).Tracer("t"), tracerProvider(t, "checkout", texp).Tracer("t")
	lexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(m[1]), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "cart"))),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	defer lp.Shutdown(context.Background())
	logger := lp.Logger("t")

	_, sp := checkout.Start(ctx, "not-printed")
	sp.End()
	_, sp = cart.Start(ctx, "GET /cart")
	sp.SetAttributes(attribute.Int("http.response.status_code", 200))
	sp.End()
	var rec otellog.Record
	rec.SetBody(attribute.StringValue("cart emptied"))
	rec.SetSeverity(otellog.SeverityWarn)
	logger.Emit(ctx, rec)
	deadline = time.Now().Add(10 * time.Second)
	for len(tailLines(t, out.String())) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	items := tailLines(t, out.String())
	if len(items) != 2 {
		t.Fatalf("printed %d items, want 2:\n%s", len(items), out.String())
	}
	var span, log *tail.Item
	for i := range items {
		switch items[i].Signal {
		case tail.KindSpan:
			span = &items[i]
		case tail.KindLog:
			log = &items[i]
		}
	}
	if span == nil || span.Name != "GET /cart" || span.Attributes["http.response.status_code"] != 200.0 {
		t.Errorf("span: %+v", span)
	}
	if log == nil || log.Body != "cart emptied" || log.SeverityNumber != int32(otellog.SeverityWarn) {
		t.Errorf("log: %+v", log)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
}

// TestTailFilterAgainstOtlpd: with a filter expression, tail prints exactly the spans and logs it selects;
// a bad filter is one line and exit status 2.
func TestTailFilterAgainstOtlpd(t *testing.T) {
	srv, _ := startOtlpd(t, "")
	ui := srv.UIAddr().String()
	code, _, errs := runCmd(t, "tail", "--server", ui, "--filter", "duration >")
	if code != 2 || !strings.Contains(errs, "refused the query: filter: 1:11:") || strings.Count(errs, "\n") != 1 {
		t.Errorf("bad filter: exit %d, stderr %q", code, errs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb, done := runTailCmd(t, ctx, "--server", ui, "--output", "json",
		"--filter", `pick = "yes"`) // an attribute: the same filter selects spans and logs
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(srv.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tr := tracerProvider(t, "cart", exp).Tracer("t")
	lexp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(srv.GRPCAddr().String()), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "cart"))),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	defer lp.Shutdown(context.Background())
	logger := lp.Logger("t")
	waitPrinted(t, out, func() {
		_, sp := tr.Start(context.Background(), "marker")
		sp.SetAttributes(attribute.String("pick", "yes"))
		sp.End()
	})

	for i := range 20 {
		_, sp := tr.Start(context.Background(), fmt.Sprintf("op-%d", i))
		sp.SetStatus(otelcodes.Error, "boom")
		if i%4 == 0 {
			sp.SetAttributes(attribute.String("pick", "yes"))
		} else {
			sp.SetAttributes(attribute.String("pick", "no"))
		}
		sp.End()
		var rec otellog.Record
		rec.SetBody(attribute.StringValue(fmt.Sprintf("log-%d", i)))
		rec.SetSeverity(otellog.SeverityError)
		if i%5 == 0 {
			rec.AddAttributes(attribute.String("pick", "yes"))
		}
		logger.Emit(context.Background(), rec)
	}
	want := []string{"op-0", "op-4", "op-8", "op-12", "op-16", "log-0", "log-5", "log-10", "log-15"}
	deadline := time.Now().Add(10 * time.Second)
	for len(tailLines(t, out.String())) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	var got []string
	for _, it := range tailLines(t, out.String()) {
		if it.Signal == tail.KindLog {
			got = append(got, fmt.Sprint(it.Body))
		} else {
			got = append(got, it.Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tail printed %v, want %v", got, want)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// TestCommandsSendToken runs query and tail against an otlpd whose query side needs a token: without one
// they fail with a one-line refusal, with --token or $OTLPD_TOKEN they work.
func TestCommandsSendToken(t *testing.T) {
	srv, _ := startOtlpdWith(t, "", func(c *config.Config) {
		c.Auth.Tokens = []string{"cli-t0ken"}
		c.Auth.Ingest = false
	})
	ui := srv.UIAddr().String()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(srv.GRPCAddr().String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := tracerProvider(t, "tokened", exp)
	_, sp := tp.Tracer("t").Start(context.Background(), "op")
	sp.End()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}

	t.Setenv("OTLPD_TOKEN", "")
	code, _, errs := runCmd(t, "query", "services", "--server", ui)
	if code == 0 || !strings.Contains(errs, "401") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("query without a token: exit %d, stderr %q; want a one-line 401 refusal", code, errs)
	}
	code, out, errs := runCmd(t, "query", "services", "--server", ui, "--token", "cli-t0ken")
	if code != 0 || !strings.Contains(out, "tokened") {
		t.Errorf("query --token: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	t.Setenv("OTLPD_TOKEN", "cli-t0ken")
	code, out, errs = runCmd(t, "query", "services", "--server", ui)
	if code != 0 || !strings.Contains(out, "tokened") {
		t.Errorf("query with $OTLPD_TOKEN: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// tail: a wrong token is a refusal (exit at once, not a reconnect loop); the right one streams.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, errb, done := runTailCmd(t, ctx, "--server", ui, "--token", "wrong", "--signal", "spans")
	select {
	case code := <-done:
		if code == 0 || !strings.Contains(errb.String(), "unauthenticated") {
			t.Errorf("tail with a wrong token: exit %d, stderr %q", code, errb.String())
		}
	case <-ctx.Done():
		t.Fatal("tail with a wrong token kept running")
	}
	tctx, tcancel := context.WithCancel(context.Background())
	defer tcancel()
	tout, terrs, tdone := runTailCmd(t, tctx, "--server", ui, "--signal", "spans", "--output", "json")
	waitPrinted(t, tout, func() { _, sp := tp.Tracer("t").Start(context.Background(), "marker"); sp.End() })
	tcancel()
	if code := <-tdone; code != 0 {
		t.Errorf("tail with $OTLPD_TOKEN: exit %d, stderr %q", code, terrs.String())
	}
}
